import { abortError } from '../errors.js';
import type { Utterance } from '../turn/listener.js';
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

export type TurnPhase = 'queued' | 'running' | 'done';

/**
 * One turn of the conversation, from being queued until its reply ends or is cut. It owns the one
 * AbortController that stops everything the turn started (transcription, generation, synthesis, playback),
 * the clock its latency is measured on, and whether its reply has become audible.
 */
export class Turn {
  /** True once the first audio of the reply has started playing. */
  audible = false;
  private readonly controller = new AbortController();
  private phaseNow: TurnPhase = 'queued';
  private clockNow: TurnClock | undefined;

  constructor(
    readonly input: TurnInput,
    private readonly caller?: TurnCaller,
  ) {}

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

  /** The turn starts running now. */
  begin(): void {
    this.phaseNow = 'running';
    const s = this.spoken;
    this.clockNow = s ? new TurnClock(s.endpointMs, s.declaredAt) : new TurnClock(0, performance.now());
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
