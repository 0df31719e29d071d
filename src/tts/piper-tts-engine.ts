import os from 'node:os';
import { abortError, EarshotError, EngineHangError } from '../errors.js';
import { SerialRunner } from '../util/serial-runner.js';
import type { SynthesizeOptions, TtsEngine } from './tts-engine.js';
import { checkPiperVoice, type PiperVoice } from './piper-voice-check.js';
import { createSherpaOfflineTts, type SherpaGeneratedAudio, type SherpaOfflineTts } from './sherpa-offline-tts.js';
import { withDeadline } from '../util/deadline.js';
import { envNumber } from '../util/env-number.js';

export interface PiperTtsOptions {
  /** Folder holding one Piper `.onnx`, its `tokens.txt` and, when it brings its own, `espeak-ng-data` (sherpa-onnx's vits-piper layout). Required. */
  voiceDir: string;
  /**
   * espeak-ng-data folder for phonemizing. Default: `<voiceDir>/espeak-ng-data`, else the system's
   * (Debian's `/usr/lib/x86_64-linux-gnu/espeak-ng-data` from package espeak-ng-data, Homebrew's, ...) when it exists.
   */
  espeakDataDir?: string;
  /** CPU threads for onnxruntime. Default: `os.availableParallelism()`. */
  threads?: number;
  /** Speaker for multi-speaker voices, used when a call names none. Default: 0. */
  speakerId?: number;
  /** Speaking rate used when a call names none; 2 is twice as fast. Default: 1. */
  speed?: number;
  /** Piper's noise_scale (voice variation). Default: 0.667. */
  noiseScale?: number;
  /** Piper's noise_w (phoneme duration variation). Default: 0.8. */
  noiseScaleW?: number;
  /** Piper's length_scale (above 1 is slower); speech lasts `lengthScale / speed` times the voice's own. Default: 1. */
  lengthScale?: number;
  /**
   * Longest one synthesis may take, ms, plus 100 ms per character of its text. A voice that never returns (a
   * damaged model can leave ONNX Runtime stuck inside sherpa-onnx) then fails with one line, and so does every
   * later call, instead of the conversation hanging. Default: 30000 (env EARSHOT_TTS_TIMEOUT_MS).
   */
  synthesisTimeoutMs?: number;
}

const TIMEOUT_MS_PER_CHAR = 100;

/** Text with no letter or digit has nothing to say; sherpa-onnx would still voice its begin/end symbols. */
const SPEAKABLE = /[\p{L}\p{N}]/u;

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new EarshotError('BAD_OPTION', `TTS option ${name} must be a number above 0 (got ${value})`);
  }
  return value;
}

/** sherpa-onnx quietly swaps an out-of-range speaker for speaker 0; earshot says so instead. */
function checkSpeakerId(id: number, voice: PiperVoice): number {
  const count = Math.max(1, voice.numSpeakers);
  if (!Number.isInteger(id) || id < 0 || id >= count) {
    throw new EarshotError('BAD_OPTION', `Speaker id ${id} is out of range: voice ${voice.dir} has speakers 0..${count - 1}`);
  }
  return id;
}

class PiperTtsEngine implements TtsEngine {
  readonly sampleRate: number;
  /** Native runs go one at a time: espeak-ng's phonemizer keeps global state. */
  private readonly runner = new SerialRunner();
  private tts: SherpaOfflineTts | undefined;
  /** Set once a synthesis overran its deadline: the native side may still be stuck in it. */
  private stalled: EarshotError | undefined;

  constructor(
    tts: SherpaOfflineTts,
    private readonly voice: PiperVoice,
    private readonly defaults: { speakerId: number; speed: number; lengthScale: number; timeoutMs: number },
  ) {
    this.tts = tts;
    this.sampleRate = tts.sampleRate;
  }

  async synthesize(text: string, options: SynthesizeOptions = {}): Promise<Float32Array> {
    const { signal } = options;
    const tts = this.tts;
    if (!tts) throw new Error('synthesize() called after dispose()');
    if (this.stalled) throw this.stalled;
    if (signal?.aborted) throw abortError(signal);
    const sid = checkSpeakerId(options.speakerId ?? this.defaults.speakerId, this.voice);
    // sherpa-onnx replaces the configured length_scale with 1/speed whenever speed != 1, so the voice is loaded
    // with length_scale 1 and the wanted scale is folded into the speed passed here.
    const speed = positive('speed', options.speed ?? this.defaults.speed) / this.defaults.lengthScale;
    if (!SPEAKABLE.test(text)) return new Float32Array(0);

    // sherpa-onnx stops at its next progress callback; the caller does not wait for that. A run that never
    // returns is given up on at its deadline, and the voice refuses further work (stall()).
    const deadlineMs = this.defaults.timeoutMs + TIMEOUT_MS_PER_CHAR * text.length;
    const audio: SherpaGeneratedAudio = await this.runner.run(
      () =>
        withDeadline(
          tts.generateAsync({ text, sid, speed, onProgress: () => (signal?.aborted ? 0 : 1) }),
          deadlineMs,
          () => this.stall(deadlineMs),
        ),
      signal,
    );
    if (signal?.aborted) throw abortError(signal);
    // The addon hands back memory it owns (freed by a GC finalizer, and not transferable to workers); a copy
    // costs well under a millisecond per sentence and is an ordinary array.
    return audio.samples.slice();
  }

  private stall(deadlineMs: number): EarshotError {
    this.stalled = new EngineHangError(
      'tts',
      deadlineMs,
      `voice ${this.voice.dir} did not finish speaking a sentence in time and was given up on; the voice may be damaged: check it with npm run fetch-models -- --check`,
    );
    return this.stalled;
  }

  async dispose(): Promise<void> {
    // sherpa-onnx-node frees the native voice when its handle is garbage-collected; wait for the last run first,
    // unless it is the one that never returned.
    this.tts = undefined;
    // A stalled run settled at its deadline, so this does not wait for native work that never returns.
    await this.runner.idle();
  }
}

/**
 * Loads a Piper voice with sherpa-onnx (off the main thread). The voice folder is validated first, so a bad or
 * missing voice is an EarshotError, never a process exit.
 */
export async function loadPiperTts(options: PiperTtsOptions): Promise<TtsEngine> {
  const threads = options.threads ?? os.availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new EarshotError('BAD_OPTION', `TTS option threads must be a whole number of at least 1 (got ${threads})`);
  }
  const defaults = {
    speakerId: options.speakerId ?? 0,
    speed: positive('speed', options.speed ?? 1),
    lengthScale: positive('lengthScale', options.lengthScale ?? 1),
    timeoutMs: positive('synthesisTimeoutMs', options.synthesisTimeoutMs ?? envNumber('EARSHOT_TTS_TIMEOUT_MS', 30_000)),
  };
  const voice = await checkPiperVoice(options.voiceDir, { espeakDataDir: options.espeakDataDir });
  checkSpeakerId(defaults.speakerId, voice);
  const tts = await createSherpaOfflineTts({
    model: {
      vits: {
        model: voice.modelPath,
        tokens: voice.tokensPath,
        dataDir: voice.espeakDataDir,
        noiseScale: options.noiseScale ?? 0.667,
        noiseScaleW: options.noiseScaleW ?? 0.8,
        lengthScale: 1,
      },
      numThreads: threads,
      debug: false,
      provider: 'cpu',
    },
    maxNumSentences: 1,
  });
  return new PiperTtsEngine(tts, voice, defaults);
}
