import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { EarshotError, firstLine } from '../errors.js';
import { whisperAddonPath } from './whisper-addon-path.js';

/** One segment as the addon returns it; times are milliseconds from the start of the audio. */
export interface NativeWhisperSegment {
  text: string;
  t0Ms: number;
  t1Ms: number;
  noSpeechProb: number;
}

export interface NativeTranscribeResult {
  /** True when the abort flag stopped whisper_full; segments are then empty. */
  aborted: boolean;
  segments: NativeWhisperSegment[];
}

export interface NativeTranscribeOptions {
  /** A whisper language code or 'auto'; the addon rejects unknown codes with a TypeError. */
  language: string;
  threads: number;
  temperatureFallback: boolean;
  /** Encoder positions to compute, 50 per second of audio (whisper.cpp's audio_ctx); 0 or absent: the whole window. */
  audioCtx?: number;
}

export interface NativeLoadOptions {
  useGpu: boolean;
  flashAttention: boolean;
  gpuDevice: number;
}

/** A loaded whisper.cpp context. One transcription at a time: the addon throws if a second one starts. */
export interface NativeWhisperContext {
  /** Runs whisper_full on a libuv worker thread; the samples are copied before it returns. */
  transcribe(samples: Float32Array, options: NativeTranscribeOptions): Promise<NativeTranscribeResult>;
  /** Raises the abort flag of the running transcription; whisper.cpp sees it at its next check point. */
  abort(): void;
  /** Frees the context at once; throws while a transcription is running. */
  free(): void;
  readonly multilingual: boolean;
}

export interface NativeWhisperAddon {
  loadModel(path: string, options: NativeLoadOptions): Promise<NativeWhisperContext>;
  /** Minimum ggml log level printed to stderr: 0 silent, 1 debug, 2 info, 3 warn, 4 error. */
  setLogLevel(level: number): void;
  /** whisper.cpp's id of a language code, or -1 when unknown. */
  languageId(code: string): number;
  /** CPU features the build uses, e.g. "AVX2 = 1 | ... | OPENMP = 1". */
  systemInfo(): string;
  whisperVersion: string;
  /** The GPU backend compiled in: 'cpu', 'cuda', 'vulkan' or 'metal'. */
  gpuBackend: string;
}

let cached: NativeWhisperAddon | undefined;

/**
 * Loads the compiled whisper.cpp addon once per process. Throws EarshotError NATIVE_MISSING with the fix when
 * it has not been built (it is compiled on the user's machine at install time, for that machine's CPU).
 */
export function loadWhisperAddon(): NativeWhisperAddon {
  if (cached) return cached;
  const path = whisperAddonPath();
  if (!existsSync(path)) {
    throw new EarshotError('NATIVE_MISSING', `the whisper.cpp addon is not built (${path} is missing); run npm run build:native`);
  }
  try {
    cached = createRequire(import.meta.url)(path) as NativeWhisperAddon;
  } catch (e) {
    const reason = firstLine(e);
    throw new EarshotError('NATIVE_MISSING', `cannot load the whisper.cpp addon ${path} (${reason}); rebuild it: npm run build:native`, {
      cause: e,
    });
  }
  return cached;
}
