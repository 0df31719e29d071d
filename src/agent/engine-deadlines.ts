import { PIPELINE_SAMPLE_RATE } from '../audio/pcm.js';
import { EngineHangError, isEngineHang, type WatchedEngine } from '../errors.js';
import type { GenerateOptions, GenerateResult, LlmEngine, LlmFunction, ChatTurn } from '../llm/llm-engine.js';
import type { SttEngine, TranscribeOptions, Transcript } from '../stt/stt-engine.js';
import type { SynthesizeOptions, TtsEngine } from '../tts/tts-engine.js';
import type { WatchdogOptions } from './watchdog-options.js';

/**
 * Told of every engine call as it starts; returns how to report that call's hang. A hang is reported once per
 * call, whether the deadline passed here or the engine gave up by its own deadline first.
 */
export interface HangReporter {
  begin(engine: WatchedEngine): (error: EngineHangError) => void;
  /** Settles once a reload of `engine` under way has ended: a call's deadline starts only then. */
  reloaded(engine: WatchedEngine): Promise<void>;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1);

/**
 * Settles as `work` does, or rejects with `hang()` once `ms` have passed: the caller hears of it at once, and
 * `giveUp` is aborted so an engine that only runs slowly stops at its next check point. One that is truly stuck
 * in native code may never return; the watchdog abandons it (see ReloadableEngines).
 */
function watch<T>(work: (signal: AbortSignal) => Promise<T>, ms: number, hang: () => EngineHangError, report: (e: EngineHangError) => void, signal?: AbortSignal): Promise<T> {
  const giveUp = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      const error = hang();
      giveUp.abort(error);
      report(error);
      reject(error);
    }, ms);
    work(signal ? AbortSignal.any([signal, giveUp.signal]) : giveUp.signal).then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (isEngineHang(error)) report(error);
        reject(error);
      },
    );
  });
}

class DeadlineStt implements SttEngine {
  constructor(
    private readonly inner: SttEngine,
    private readonly options: WatchdogOptions,
    private readonly hangs: HangReporter,
  ) {}

  get backend(): string | undefined {
    return this.inner.backend;
  }

  async transcribe(audio: Float32Array, options: TranscribeOptions = {}): Promise<Transcript> {
    const audioS = audio.length / PIPELINE_SAMPLE_RATE;
    const ms = this.options.sttTimeoutMs + this.options.sttTimeoutMsPerAudioSecond * audioS;
    await this.hangs.reloaded('stt');
    return watch(
      (signal) => this.inner.transcribe(audio, { ...options, signal }),
      ms,
      () => new EngineHangError('stt', ms, `speech to text took more than ${seconds(ms)} s for ${audioS.toFixed(1)} s of audio`),
      this.hangs.begin('stt'),
      options.signal,
    );
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

class DeadlineTts implements TtsEngine {
  constructor(
    private readonly inner: TtsEngine,
    private readonly options: WatchdogOptions,
    private readonly hangs: HangReporter,
  ) {}

  get sampleRate(): number {
    return this.inner.sampleRate;
  }

  async synthesize(text: string, options: SynthesizeOptions = {}): Promise<Float32Array> {
    const ms = this.options.ttsTimeoutMs + this.options.ttsTimeoutMsPerChar * text.length;
    await this.hangs.reloaded('tts');
    return watch(
      (signal) => this.inner.synthesize(text, { ...options, signal }),
      ms,
      () => new EngineHangError('tts', ms, `the voice took more than ${seconds(ms)} s to speak a sentence of ${text.length} characters`),
      this.hangs.begin('tts'),
      options.signal,
    );
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

/**
 * The LLM's deadline runs from token to token: `llmFirstTokenTimeoutMs` for the first piece of text (the prompt
 * is evaluated first), `llmNextTokenTimeoutMs` for each one after. A tool the model called holds the clock (tools
 * have their own timeout); the model's reading of the result counts as the wait for its next token.
 */
class DeadlineLlm implements LlmEngine {
  constructor(
    private readonly inner: LlmEngine,
    private readonly options: WatchdogOptions,
    private readonly hangs: HangReporter,
  ) {}

  get backend(): string | undefined {
    return this.inner.backend;
  }

  /** Forgetting is not watched: it waits behind generation, which is. */
  async forget(): Promise<void> {
    await this.inner.forget?.();
  }

  async generate(systemPrompt: string, history: readonly ChatTurn[], options: GenerateOptions = {}): Promise<GenerateResult> {
    await this.hangs.reloaded('llm');
    const report = this.hangs.begin('llm');
    const giveUp = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, giveUp.signal]) : giveUp.signal;
    const o = this.options;
    return new Promise<GenerateResult>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      let toolsRunning = 0;
      const fail = (error: EngineHangError) => {
        settled = true;
        clearTimeout(timer);
        giveUp.abort(error);
        report(error);
        reject(error);
      };
      const arm = (ms: number, what: string) => {
        clearTimeout(timer);
        timer = setTimeout(() => fail(new EngineHangError('llm', ms, `the language model gave no ${what} for ${seconds(ms)} s`)), ms);
      };
      arm(o.llmFirstTokenTimeoutMs, 'first token');
      const functions = options.functions?.map(
        (f): LlmFunction => ({
          name: f.name,
          description: f.description,
          parameters: f.parameters,
          call: async (args) => {
            toolsRunning++;
            clearTimeout(timer);
            try {
              return await f.call(args);
            } finally {
              if (--toolsRunning === 0 && !settled) arm(o.llmNextTokenTimeoutMs, 'next token after a tool call');
            }
          },
        }),
      );
      this.inner
        .generate(systemPrompt, history, {
          ...options,
          signal,
          functions,
          onTextDelta: (delta) => {
            if (settled) return;
            if (toolsRunning === 0) arm(o.llmNextTokenTimeoutMs, 'next token');
            options.onTextDelta?.(delta);
          },
        })
        .then(
          (result) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve(result);
          },
          (error: unknown) => {
            if (settled) return;
            if (isEngineHang(error)) return fail(error);
            settled = true;
            clearTimeout(timer);
            reject(error);
          },
        );
    });
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

/** The same engines, each work call given the watchdog's deadline; hangs go to `hangs`. */
export function withEngineDeadlines<E extends { stt: SttEngine; llm: LlmEngine; tts: TtsEngine }>(engines: E, options: WatchdogOptions, hangs: HangReporter): E {
  return {
    ...engines,
    stt: new DeadlineStt(engines.stt, options, hangs),
    llm: new DeadlineLlm(engines.llm, options, hangs),
    tts: new DeadlineTts(engines.tts, options, hangs),
  };
}
