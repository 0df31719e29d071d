import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { EarshotError, EngineHangError, abortError, fetchHint } from '../errors.js';
import { SerialRunner } from '../util/serial-runner.js';
import { envNumber } from '../util/env-number.js';
import { DEFAULT_LANGUAGE, type SttEngine, type TranscribeOptions, type Transcript } from './stt-engine.js';
import { loadWhisperAddon, type NativeTranscribeResult, type NativeWhisperAddon, type NativeWhisperContext } from './whisper-addon.js';
import { checkWhisperModel, whisperModelName } from './whisper-model-check.js';
import { fittedAudioContext } from './audio-context.js';

export interface WhisperEngineOptions {
  /** Path of a whisper.cpp ggml model (`ggml-*.bin`). Required. */
  modelPath: string;
  /** Model name for the fix line in errors (`npm run fetch-models -- --stt <name>`). Default: from the file name. */
  modelName?: string;
  /** CPU threads for whisper_full. Default: os.availableParallelism(). */
  threads?: number;
  /** Language when a call does not name one: an ISO code such as 'en', or 'auto'. Default: 'en'. */
  language?: string;
  /** Flash attention in the encoder and decoder; about 4.5x faster on a plain x86 CPU. Default: true. */
  flashAttention?: boolean;
  /**
   * Ask whisper.cpp for a GPU backend. Only takes effect when the addon was built with one (CUDA, Vulkan,
   * Metal: see EARSHOT_WHISPER_GPU in the README); a CPU-only build then changes nothing. Default: false.
   */
  gpu?: boolean;
  /** GPU index when `gpu` is on. Default: 0. */
  gpuDevice?: number;
  /**
   * Retry a window at a higher temperature when greedy decoding looks like a loop or gibberish (whisper's
   * standard fallback). Off trades accuracy on hard audio for a bounded worst-case time. Default: true.
   */
  temperatureFallback?: boolean;
  /**
   * Run one throwaway transcription of 1 s of silence while loading. A fresh whisper.cpp context is about
   * twice as slow on its first call (first touch of its compute buffers, thread start-up); paying that at
   * load keeps it off the user's first utterance. Costs one encoder pass at load. Default: true.
   */
  warmUp?: boolean;
  /**
   * The encoder's window: 'full' runs whisper's whole 30 s window for any utterance; 'fit' shrinks it
   * (whisper.cpp's audio_ctx) to the utterance plus `audioContextMarginMs`, which makes the encoder several
   * times faster on short questions. Default: 'full'.
   */
  audioContext?: 'full' | 'fit';
  /** Audio the fitted window keeps beyond the utterance's end, ms. Default: 1000. */
  audioContextMarginMs?: number;
  /**
   * Longest one transcription may run, ms, plus `transcribeTimeoutMsPerAudioSecond` for each second of audio;
   * past it the call fails with one line (whisper.cpp is told to stop at its next check point, and the next call
   * waits for it). Default: 60000 (env EARSHOT_STT_TIMEOUT_MS).
   */
  transcribeTimeoutMs?: number;
  /** See `transcribeTimeoutMs`. Default: 5000, far above what any model earshot lists needs on a slow laptop. */
  transcribeTimeoutMsPerAudioSecond?: number;
}

const DEFAULT_AUDIO_CONTEXT_MARGIN_MS = 1000;

/**
 * Segment times are clamped to the audio: with timestamps off, whisper.cpp reports a start taken from token id
 * 0 (far negative), and a segment ending its 30 s window reports 30000 ms even for a 2 s clip.
 */
function toTranscript(result: NativeTranscribeResult, computeMs: number, audioMs: number): Transcript {
  const clamp = (ms: number) => Math.min(Math.max(ms, 0), audioMs);
  const segments = result.segments.map((s) => ({
    text: s.text.trim(),
    startMs: clamp(s.t0Ms),
    endMs: clamp(s.t1Ms),
    noSpeechProb: s.noSpeechProb,
  }));
  const text = segments
    .map((s) => s.text)
    .filter((t) => t.length > 0)
    .join(' ')
    .trim();
  return { text, segments, computeMs };
}

/**
 * Encoder positions for a short window: 50 per second of audio, plus half a second so the last word is not
 * at the very edge of what the encoder sees.
 */
function shortWindowPositions(samples: number): number {
  return Math.ceil((samples / 16_000) * 50) + 25;
}

class WhisperEngine implements SttEngine {
  /** One context never runs two whisper_full calls at once. */
  private readonly runner = new SerialRunner();
  private readonly disposing = new AbortController();

  constructor(
    private readonly addon: NativeWhisperAddon,
    private readonly ctx: NativeWhisperContext,
    private readonly settings: {
      threads: number;
      language: string;
      temperatureFallback: boolean;
      modelPath: string;
      /** Margin of the fitted encoder window, ms; undefined runs the full window. */
      fitMarginMs: number | undefined;
      /** The model's full encoder window, frames. */
      maxAudioContext: number;
      timeout: { baseMs: number; perAudioSecondMs: number };
    },
    readonly backend: string,
  ) {}

  resolveLanguage(language: string): string {
    if (language !== 'auto' && this.addon.languageId(language) < 0) {
      throw new EarshotError('BAD_OPTION', `unknown whisper language '${language}'; use an ISO code such as 'en', or 'auto'`);
    }
    if (this.ctx.multilingual) return language;
    if (language === 'auto' || language === 'en') return 'en';
    throw new EarshotError(
      'BAD_OPTION',
      `whisper model ${basename(this.settings.modelPath)} is English-only; set the language to 'en' or use a multilingual model`,
    );
  }

  transcribe(audio: Float32Array, options: TranscribeOptions = {}): Promise<Transcript> {
    const { signal } = options;
    if (this.disposing.signal.aborted) return Promise.reject(new Error('the whisper engine is disposed'));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    let language: string;
    try {
      language = this.resolveLanguage(options.language ?? this.settings.language);
    } catch (e) {
      return Promise.reject(e);
    }
    if (audio.length === 0) return Promise.resolve({ text: '', segments: [], computeMs: 0 });
    // A queued call may start much later; the caller is free to reuse its buffer in the meantime.
    const samples = audio.slice();
    const stop = signal ? AbortSignal.any([signal, this.disposing.signal]) : this.disposing.signal;
    const audioSeconds = samples.length / 16_000;
    const limitMs = this.settings.timeout.baseMs + this.settings.timeout.perAudioSecondMs * audioSeconds;
    const overdue = new AbortController();
    const halt = AbortSignal.any([stop, overdue.signal]);
    // The caller hears of an abort or a missed deadline at once; whisper.cpp sees its abort flag only at its
    // next check point (after the encoder, between decoder steps), and the runner waits for that before the
    // next call.
    return this.runner.run(async () => {
      const deadline = setTimeout(() => {
        const model = basename(this.settings.modelPath);
        overdue.abort(
          new EngineHangError(
            'stt',
            limitMs,
            `whisper.cpp took more than ${(limitMs / 1000).toFixed(1)} s for ${audioSeconds.toFixed(1)} s of audio with ${model}; use a smaller model (--stt) or check it with npm run fetch-models -- --check`,
          ),
        );
      }, limitMs);
      const onAbort = (): void => this.ctx.abort();
      halt.addEventListener('abort', onAbort, { once: true });
      const t0 = performance.now();
      try {
        const { fitMarginMs, maxAudioContext } = this.settings;
        const result = await this.ctx.transcribe(samples, {
          language,
          threads: this.settings.threads,
          temperatureFallback: this.settings.temperatureFallback,
          // A partial transcript asks for the short window itself; otherwise the engine's own setting decides.
          audioCtx: options.shortWindow
            ? shortWindowPositions(samples.length)
            : fitMarginMs === undefined
              ? 0
              : fittedAudioContext(samples.length, fitMarginMs, maxAudioContext),
        });
        if (result.aborted) throw abortError(halt);
        return toTranscript(result, performance.now() - t0, audioSeconds * 1000);
      } catch (e) {
        if (halt.aborted) throw abortError(halt);
        throw new Error(`whisper.cpp failed to transcribe: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      } finally {
        clearTimeout(deadline);
        halt.removeEventListener('abort', onAbort);
      }
    }, halt);
  }

  /** One untimed pass over 1 s of silence, without temperature fallback so it is one encoder pass at most. */
  async warmUp(): Promise<void> {
    await this.ctx.transcribe(new Float32Array(16_000), {
      language: this.resolveLanguage(this.settings.language),
      threads: this.settings.threads,
      temperatureFallback: false,
    });
  }

  async dispose(): Promise<void> {
    if (this.disposing.signal.aborted) return;
    this.disposing.abort(new Error('the whisper engine was disposed'));
    // An aborted whisper_full still has to reach its next check point before the context can be freed.
    await this.runner.idle();
    this.ctx.free();
  }
}

/**
 * Loads a whisper.cpp model into the in-process addon and returns an SttEngine that keeps it loaded.
 * The file is validated in TypeScript first, because whisper.cpp aborts the process on some malformed files.
 */
export async function loadWhisperEngine(options: WhisperEngineOptions): Promise<SttEngine> {
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new EarshotError('BAD_OPTION', `whisper threads must be a whole number >= 1 (got ${threads})`);
  }
  const info = checkWhisperModel(options.modelPath, { modelName: options.modelName });
  const addon = loadWhisperAddon();
  let ctx: NativeWhisperContext;
  try {
    ctx = await addon.loadModel(info.path, {
      useGpu: options.gpu ?? false,
      flashAttention: options.flashAttention ?? true,
      gpuDevice: options.gpuDevice ?? 0,
    });
  } catch (e) {
    const hint = fetchHint('stt', options.modelName ?? whisperModelName(info.path));
    throw new EarshotError('MODEL_CORRUPT', `whisper.cpp could not load the model ${info.path}; re-download it: ${hint}`, { cause: e });
  }
  const language = options.language ?? DEFAULT_LANGUAGE;
  const useGpu = (options.gpu ?? false) && addon.gpuBackend !== 'cpu';
  const engine = new WhisperEngine(
    addon,
    ctx,
    {
      threads,
      language,
      temperatureFallback: options.temperatureFallback ?? true,
      modelPath: info.path,
      fitMarginMs: options.audioContext === 'fit' ? (options.audioContextMarginMs ?? DEFAULT_AUDIO_CONTEXT_MARGIN_MS) : undefined,
      maxAudioContext: info.hparams.nAudioCtx,
      timeout: {
        baseMs: options.transcribeTimeoutMs ?? envNumber('EARSHOT_STT_TIMEOUT_MS', 60_000),
        perAudioSecondMs: options.transcribeTimeoutMsPerAudioSecond ?? 5_000,
      },
    },
    useGpu ? addon.gpuBackend : 'cpu',
  );
  try {
    engine.resolveLanguage(language);
    if (options.warmUp ?? true) await engine.warmUp();
  } catch (e) {
    await engine.dispose();
    throw e;
  }
  return engine;
}
