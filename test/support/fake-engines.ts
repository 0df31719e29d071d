import { RealtimeSink } from '../../src/audio/realtime-sink.js';
import { PIPELINE_SAMPLE_RATE, rms, type PcmChunk } from '../../src/audio/pcm.js';
import { abortError } from '../../src/errors.js';
import type { ChatTurn, GenerateOptions, GenerateResult, LlmEngine } from '../../src/llm/llm-engine.js';
import type { TranscribeOptions, Transcript, SttEngine } from '../../src/stt/stt-engine.js';
import type { SynthesizeOptions, TtsEngine } from '../../src/tts/tts-engine.js';
import { abortableSleep } from '../../src/util/abortable-sleep.js';
import type { VadEngine } from '../../src/vad/vad-engine.js';

/*
 * Engines for the pure core's unit tests: every one does its job in timer time (fake under
 * vi.useFakeTimers), from a script, so a test knows exactly what each stage will say and when.
 */

/** Silero's frame: 512 samples at 16 kHz, 32 ms. */
export const FRAME_SAMPLES = 512;
export const FRAME_MS = (FRAME_SAMPLES / PIPELINE_SAMPLE_RATE) * 1000;

/** A sine tone of `ms` at `rate`: what the level VAD hears as speech and what the tone voice speaks. */
export function tone(ms: number, rate: number = PIPELINE_SAMPLE_RATE, amplitude = 0.3, hz = 220): Float32Array {
  const out = new Float32Array(Math.round((ms / 1000) * rate));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / rate);
  return out;
}

export function silence(ms: number, rate: number = PIPELINE_SAMPLE_RATE): Float32Array {
  return new Float32Array(Math.round((ms / 1000) * rate));
}

/** A speech probability from the frame's level alone: a tone is speech, near-silence is not. */
export const levelProbability = (frame: Float32Array): number => (rms(frame) >= 0.05 ? 0.9 : 0.02);

/** A VAD that answers from a script: a function of the frame (default: its level) or a list, one per frame. */
export class ScriptedVad implements VadEngine {
  readonly frameSamples = FRAME_SAMPLES;
  /** Every frame it was given, in order. */
  readonly frames: Float32Array[] = [];
  resets = 0;
  private readonly score: (frame: Float32Array, index: number) => number;

  /**
   * @param script  probabilities, one per frame (frames past the end score 0), or a function of the frame
   * @param computeMs  time each frame takes, on the timer clock
   */
  constructor(script: readonly number[] | ((frame: Float32Array, index: number) => number) = levelProbability, private readonly computeMs = 0) {
    this.score = typeof script === 'function' ? script : (_f, i) => script[i] ?? 0;
  }

  async process(frame: Float32Array): Promise<number> {
    const index = this.frames.length;
    this.frames.push(frame);
    if (this.computeMs > 0) await new Promise((resolve) => setTimeout(resolve, this.computeMs));
    return this.score(frame, index);
  }

  reset(): void {
    this.resets++;
  }

  async dispose(): Promise<void> {}
}

/** STT that returns its scripted transcripts in order (then ''), after `computeMs` of timer time. */
export class ScriptedStt implements SttEngine {
  /** The audio of every call for a whole utterance, in order. */
  readonly heard: Float32Array[] = [];
  /** The audio of every partial transcript (a short window): they answer with the next script line, not taking it. */
  readonly partials: Float32Array[] = [];

  constructor(private readonly transcripts: readonly string[], private readonly computeMs = 5) {}

  async transcribe(audio: Float32Array, options: TranscribeOptions = {}): Promise<Transcript> {
    const text = this.transcripts[this.heard.length] ?? '';
    (options.shortWindow ? this.partials : this.heard).push(audio);
    await abortableSleep(this.computeMs, options.signal ?? new AbortController().signal);
    if (options.signal?.aborted) throw abortError(options.signal);
    const endMs = (audio.length / PIPELINE_SAMPLE_RATE) * 1000;
    return { text, segments: text ? [{ text, startMs: 0, endMs }] : [], computeMs: this.computeMs };
  }

  async dispose(): Promise<void> {}
}

/** Splits text the way an LLM streams it: each word with the space before it. */
export function tokens(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

export interface ScriptedLlmOptions {
  /** Timer time before each token. Default: 10. */
  tokenMs?: number;
  /** Start the reply again when it runs out, until aborted or maxTokens (an endless talker). Default: false. */
  endless?: boolean;
}

/** An LLM whose replies are scripted token lists: call n streams reply n (the last one once they run out). */
export class ScriptedLlm implements LlmEngine {
  /** What each call was given: the history is a copy taken at the call. */
  readonly calls: { systemPrompt: string; history: ChatTurn[]; signal?: AbortSignal }[] = [];
  private readonly replies: readonly (readonly string[])[];
  private readonly tokenMs: number;
  private readonly endless: boolean;

  constructor(replies: readonly string[], options: ScriptedLlmOptions = {}) {
    this.replies = replies.map(tokens);
    this.tokenMs = options.tokenMs ?? 10;
    this.endless = options.endless ?? false;
  }

  async generate(systemPrompt: string, history: readonly ChatTurn[], options: GenerateOptions = {}): Promise<GenerateResult> {
    const signal = options.signal ?? new AbortController().signal;
    const script = this.replies[Math.min(this.calls.length, this.replies.length - 1)] ?? [];
    this.calls.push({ systemPrompt, history: history.map((t) => ({ ...t })), signal: options.signal });
    const maxTokens = options.maxTokens ?? 512;
    let text = '';
    let count = 0;
    while (count < maxTokens && (this.endless || count < script.length) && script.length > 0) {
      await abortableSleep(this.tokenMs, signal);
      if (signal.aborted) return { text, aborted: true, tokens: count };
      const token = script[count % script.length];
      count++;
      text += token;
      options.onTextDelta?.(token);
    }
    return { text, aborted: false, tokens: count };
  }

  /** Calls of forget(), each with the number of generate() calls made before it. */
  readonly forgets: number[] = [];

  async forget(): Promise<void> {
    this.forgets.push(this.calls.length);
  }

  async dispose(): Promise<void> {}
}

export interface ToneTtsOptions {
  /** Default: 16000. */
  sampleRate?: number;
  /** Audio length per word of the text. Default: 100. */
  msPerWord?: number;
  /** Timer time each synthesis takes. Default: 0. */
  computeMs?: number;
}

/** A voice that speaks a tone whose length is known from the word count, so a test can tell what was heard. */
export class ToneTts implements TtsEngine {
  readonly sampleRate: number;
  /** Texts asked for, in order (including any aborted). */
  readonly requested: string[] = [];
  /** Texts whose audio was returned. */
  readonly synthesized: string[] = [];
  private readonly msPerWord: number;
  private readonly computeMs: number;

  constructor(options: ToneTtsOptions = {}) {
    this.sampleRate = options.sampleRate ?? 16_000;
    this.msPerWord = options.msPerWord ?? 100;
    this.computeMs = options.computeMs ?? 0;
  }

  /** The audio length `synthesize(text)` returns, in samples. */
  samplesFor(text: string): number {
    const words = text.split(/\s+/).filter(Boolean).length;
    return Math.round((words * this.msPerWord * this.sampleRate) / 1000);
  }

  async synthesize(text: string, options: SynthesizeOptions = {}): Promise<Float32Array> {
    this.requested.push(text);
    const signal = options.signal ?? new AbortController().signal;
    await abortableSleep(this.computeMs, signal);
    if (signal.aborted) throw abortError(signal);
    this.synthesized.push(text);
    return tone((this.samplesFor(text) / this.sampleRate) * 1000, this.sampleRate, 0.2, 440);
  }

  async dispose(): Promise<void> {}
}

/**
 * The real-time sink, recording what it was given: under vi.useFakeTimers it plays on the fake clock, so a
 * test knows to the block what was heard when it paused, resumed or aborted.
 */
export class RecordingSink extends RealtimeSink {
  /** Every play() call: its chunk length and, once it resolved, the samples it reported heard. */
  readonly plays: { samples: number; heard?: number }[] = [];
  /** Every block handed to the speaker, with performance.now() at the time. */
  readonly writes: { at: number; samples: number }[];

  /** @param blockMs  the granularity of pause and abort. Default: 20. */
  constructor(blockMs = 20) {
    const writes: { at: number; samples: number }[] = [];
    super({ blockMs, write: (block) => writes.push({ at: performance.now(), samples: block.length }) });
    this.writes = writes;
  }

  /** Samples handed over across every play() so far. */
  get samplesWritten(): number {
    return this.writes.reduce((n, w) => n + w.samples, 0);
  }

  override async play(chunk: PcmChunk, signal: AbortSignal): Promise<number> {
    const entry: { samples: number; heard?: number } = { samples: chunk.samples.length };
    this.plays.push(entry);
    entry.heard = await super.play(chunk, signal);
    return entry.heard;
  }
}
