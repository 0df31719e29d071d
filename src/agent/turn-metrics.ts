import type { MaskRecord } from '../reply/latency-mask.js';
import type { ToolCallRecord } from '../tools/turn-tool-calls.js';
import type { CpuMs } from './engine-cpu-meter.js';

/**
 * Stage times of one turn, in ms from the end of the user's speech. `endpoint` is the silence the endpointer
 * waited plus its own processing delay; later stages add wall time measured after the endpoint was declared.
 * Audio stages are absent for a turn that produced no audio.
 */
export interface TurnStageTimes {
  endpoint: number;
  transcript: number;
  firstToken?: number;
  firstSentence?: number;
  firstAudio?: number;
  total: number;
}

/** Engine compute inside the turn, ms; `overhead` is what the pipeline itself added before first audio. */
export interface TurnCompute {
  stt: number;
  llmToFirstSentence?: number;
  ttsFirstSentence?: number;
  /** firstAudio - endpoint - stt - llmToFirstSentence - ttsFirstSentence. */
  overhead?: number;
  /** Prompt tokens the LLM evaluated for this turn (what its prompt cache did not hold). */
  prefillTokens?: number;
}

export interface TurnMetrics {
  turn: number;
  transcript: string;
  reply: string;
  interrupted: boolean;
  ms: TurnStageTimes;
  compute: TurnCompute;
  /** True when the reply was prepared during the user's pause and played at the end of the turn. */
  speculated?: boolean;
  /** True when the greeting was spoken first (a new visitor's first turn); the reply's first audio waited for it. */
  greeted?: boolean;
  /** Where the utterance was found in the input stream, ms (absent for text turns). */
  speech?: { startMs: number; endMs: number };
  /** The filler that covered the wait for the reply (absent when none played). */
  mask?: MaskRecord;
  /** The tool calls the model made, in order (absent when none). */
  tools?: ToolCallRecord[];
  /** CPU time spent during the turn, ms per engine (see EngineCpuMeter). */
  cpuMs?: CpuMs;
}

type Stage = 'transcript' | 'firstToken' | 'firstSentence' | 'firstAudio';

/** Records one turn's stage times on one clock (performance.now). */
export class TurnClock {
  private readonly declaredAt: number;
  private readonly endpointMs: number;
  /** The endpoint reported when it came after the clock started (a promoted speculative turn). */
  private reportedEndpointMs: number | undefined;
  private readonly marks = new Map<Stage, number>();
  readonly compute: TurnCompute = { stt: 0 };

  /**
   * @param endpointMs  time from end of speech to the endpoint decision (0 for a text turn)
   * @param declaredAt  performance.now() when the turn was declared
   */
  constructor(endpointMs: number, declaredAt = performance.now()) {
    this.endpointMs = endpointMs;
    this.declaredAt = declaredAt;
  }

  /** Ms since the turn was declared (the end of the endpointer's wait, or begin() for a text turn). */
  sinceDeclared(): number {
    return performance.now() - this.declaredAt;
  }

  /** Ms from the end of speech to now. */
  now(): number {
    return this.endpointMs + (performance.now() - this.declaredAt);
  }

  /** Records a stage the first time it happens (now, or at the performance.now() time `at`). */
  mark(stage: Stage, at?: number): void {
    if (this.marks.has(stage)) return;
    this.marks.set(stage, at === undefined ? this.now() : this.endpointMs + (at - this.declaredAt));
  }

  /** The turn's endpoint was declared `ms` after the end of speech, later than this clock's start. */
  setEndpoint(ms: number): void {
    this.reportedEndpointMs = ms;
  }

  has(stage: Stage): boolean {
    return this.marks.has(stage);
  }

  finish(): { ms: TurnStageTimes; compute: TurnCompute } {
    const round = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 10) / 10);
    const ms: TurnStageTimes = {
      endpoint: round(this.reportedEndpointMs ?? this.endpointMs)!,
      transcript: round(this.marks.get('transcript') ?? this.endpointMs)!,
      firstToken: round(this.marks.get('firstToken')),
      firstSentence: round(this.marks.get('firstSentence')),
      firstAudio: round(this.marks.get('firstAudio')),
      total: round(this.now())!,
    };
    const c = this.compute;
    const compute: TurnCompute = {
      stt: round(c.stt)!,
      llmToFirstSentence: round(c.llmToFirstSentence),
      ttsFirstSentence: round(c.ttsFirstSentence),
      ...(c.prefillTokens !== undefined ? { prefillTokens: c.prefillTokens } : {}),
    };
    // A promoted speculation computed before its endpoint, so the difference would not be overhead.
    const computedAfterEndpoint = this.reportedEndpointMs === undefined;
    if (computedAfterEndpoint && ms.firstAudio !== undefined && c.llmToFirstSentence !== undefined && c.ttsFirstSentence !== undefined) {
      compute.overhead = round(ms.firstAudio - ms.endpoint - c.stt - c.llmToFirstSentence - c.ttsFirstSentence);
    }
    return { ms, compute };
  }
}
