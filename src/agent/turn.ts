import { abortError } from '../errors.js';
import type { ReplyCallbacks, ReplyResult } from '../reply/reply-pipeline.js';
import type { Utterance } from '../turn/listener.js';
import type { HeardUtterance } from '../turn/transcribe-utterance.js';
import type { TurnResult } from './events.js';
import { TurnClock } from './turn-metrics.js';

/**
 * What a turn answers: an utterance still to be transcribed, an utterance already transcribed (speech that
 * interrupted a reply), typed text, or text to speak as it is.
 */
export type TurnInput =
  | ({ kind: 'audio' } & Utterance)
  | ({ kind: 'heard'; text: string; sttMs: number; transcribedAt: number } & Utterance)
  | { kind: 'text'; text: string }
  | { kind: 'say'; text: string };

export type SpokenTurnInput = Extract<TurnInput, { kind: 'audio' | 'heard' }>;

/** Whoever asked for the turn (sendText, say) and waits for its result. */
export interface TurnCaller {
  resolve(result: TurnResult): void;
  reject(error: unknown): void;
}

/** 'speculative': started during a pause of the user's speech, held unheard until promoted (then 'running'). */
/** What a speculative turn did before it was promoted: the transcript, and the reply already under way. */
export interface PreparedReply {
  heard: HeardUtterance;
  reply: Promise<ReplyResult>;
  /** Sends the held text events to `callbacks` (in order), then lets the reply be heard. */
  release(callbacks: ReplyCallbacks): void;
}

export type TurnPhase = 'queued' | 'speculative' | 'running' | 'done';

/**
 * One turn of the conversation, from being queued until its reply ends or is cut. It owns the one
 * AbortController that stops everything the turn started (transcription, generation, synthesis, playback),
 * the clock its latency is measured on, and whether its reply has become audible.
 */
export class Turn {
  /** True once the first audio of the reply has started playing. */
  audible = false;
  /**
   * Set when a speculative turn is promoted: resolves with its prepared reply, or undefined when it failed or
   * heard no words (the turn then runs from its utterance as usual).
   */
  prepared: Promise<PreparedReply | undefined> | undefined;
  private readonly controller = new AbortController();
  private phaseNow: TurnPhase = 'queued';
  private clockNow: TurnClock | undefined;

  constructor(
    readonly input: TurnInput,
    private readonly caller?: TurnCaller,
    options: { speculative?: boolean } = {},
  ) {
    if (options.speculative) this.phaseNow = 'speculative';
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get phase(): TurnPhase {
    return this.phaseNow;
  }

  /** Spoken turns carry their utterance; typed and said turns do not. */
  get spoken(): SpokenTurnInput | undefined {
    const i = this.input;
    return i.kind === 'audio' || i.kind === 'heard' ? i : undefined;
  }

  /** The turn's clock: from the end of the user's speech for a spoken turn, from begin() otherwise. */
  get clock(): TurnClock {
    if (!this.clockNow) throw new Error('the turn has not begun');
    return this.clockNow;
  }

  /** The turn starts running now; a speculative turn starts its clock here but stays speculative. */
  begin(): void {
    if (this.phaseNow !== 'speculative') this.phaseNow = 'running';
    if (this.clockNow) return;
    const s = this.spoken;
    this.clockNow = s ? new TurnClock(s.endpointMs, s.declaredAt) : new TurnClock(0, performance.now());
  }

  /**
   * A speculative turn becomes the real one: the user's turn ended as `ended`, whose endpoint replaces the
   * pause the speculation started at (both are measured from the same end of speech).
   */
  promote(ended: Pick<Utterance, 'endpointMs'>): void {
    this.phaseNow = 'running';
    this.clock.setEndpoint(ended.endpointMs);
  }

  /** Stops everything the turn started; a queued turn will not run. */
  abort(): void {
    this.controller.abort();
  }

  /** The turn is over: its caller gets the result, or an abort error when it produced none. */
  finish(result: TurnResult | undefined): void {
    this.phaseNow = 'done';
    if (result) this.caller?.resolve(result);
    else this.caller?.reject(abortError());
  }

  /** The turn failed (or was dropped before it ran): its caller gets `error`. */
  fail(error: unknown): void {
    this.phaseNow = 'done';
    this.caller?.reject(error);
  }
}
