import type { Endpointer } from './endpointer.js';
import type { TurnEndOptions } from './turn-end-options.js';
import type { TurnEndModel } from './turn-end-model.js';

/** The open utterance at a pause: what was said so far, and where its last speech ended. */
export interface PauseSnapshot {
  audio: Float32Array;
  startSample: number;
  /** End of the last speech in the stream, samples. */
  endSample: number;
  /** Silence heard since `endSample`, ms. */
  silentMs: number;
}

export type CheckpointEvent =
  /** The pause reached the speculation point: the utterance so far may be answered ahead of time. */
  | { type: 'pause'; snapshot: PauseSnapshot }
  /** Speech came back after a reported pause: whatever was started for it is stale. */
  | { type: 'resumed' }
  /** The turn-end model judged the turn complete: end it now. */
  | { type: 'complete'; probability: number };

export interface PauseCheckpointsOptions {
  /** Silence at which a 'pause' is reported, ms; undefined reports none. */
  pauseAfterMs: number | undefined;
  turnEnd: TurnEndOptions;
}

/**
 * What happens during a pause inside an utterance, frame by frame: at `pauseAfterMs` of silence a 'pause' (for a
 * speculative turn), at the turn-end check point the model's verdict (complete ends the turn; incomplete makes
 * the endpointer wait `incompleteSilenceMs`), and 'resumed' when speech returns after a reported pause. Each
 * pause is reported and checked once.
 */
export class PauseCheckpoints {
  private reportedPauseAt: number | undefined;
  private checkedPauseAt: number | undefined;
  /** A verdict still being computed for the pause that ended speech at `speechEnd`. */
  private pending: { speechEnd: number; outcome: { probability: number } | { error: Error } | undefined } | undefined;
  /** The model's last probability, for diagnostics. */
  lastProbability: number | undefined;

  constructor(
    private readonly options: PauseCheckpointsOptions,
    private readonly model: TurnEndModel | undefined,
    private readonly onModelError: (e: Error) => void,
  ) {}

  /**
   * Called after every frame the endpointer heard inside an utterance. `live` frames arrive in real time: the
   * model then runs beside the ears, and its verdict applies at the first frame after it is known, so the ears
   * never wait for it. Frames that are behind real time (a file, a backlog) wait for the verdict, so a file
   * gives the same turns on any machine; and they report no pause, because work started ahead of the end of
   * the turn buys nothing when the end of the turn is already in the queue.
   */
  async afterFrame(endpointer: Endpointer, live = false): Promise<CheckpointEvent[]> {
    const events: CheckpointEvent[] = [];
    if (!endpointer.inSpeech) {
      this.reportedPauseAt = undefined;
      this.checkedPauseAt = undefined;
      this.pending = undefined;
      return events;
    }
    const speechEnd = endpointer.lastSpeechSample;
    const silentMs = endpointer.silentMs;
    if (this.reportedPauseAt !== undefined && speechEnd !== this.reportedPauseAt) {
      this.reportedPauseAt = undefined;
      events.push({ type: 'resumed' });
    }
    const { pauseAfterMs, turnEnd } = this.options;
    if (live && pauseAfterMs !== undefined && silentMs >= pauseAfterMs && this.reportedPauseAt === undefined && silentMs > 0) {
      this.reportedPauseAt = speechEnd;
      const snapshot = { audio: endpointer.utteranceSoFar(), startSample: endpointer.utteranceStartSample, endSample: speechEnd, silentMs };
      events.push({ type: 'pause', snapshot });
    }
    if (this.model && turnEnd.mode === 'smart-turn' && silentMs >= turnEnd.checkAfterMs && this.checkedPauseAt !== speechEnd) {
      this.checkedPauseAt = speechEnd;
      const pending: NonNullable<PauseCheckpoints['pending']> = { speechEnd, outcome: undefined };
      this.pending = pending;
      const verdict = this.model.predict(endpointer.utteranceSoFar()).then(
        (probability) => (pending.outcome = { probability }),
        (e: unknown) => (pending.outcome = { error: e as Error }),
      );
      if (!live) await verdict;
    }
    const pending = this.pending;
    // A verdict about a pause the user has since spoken through is stale.
    if (pending?.outcome && pending.speechEnd === speechEnd) {
      this.pending = undefined;
      const outcome = pending.outcome;
      if ('error' in outcome) {
        // A model that fails leaves this pause to the silence rule.
        endpointer.setEndSilence(undefined);
        this.onModelError(outcome.error);
      } else {
        this.lastProbability = outcome.probability;
        if (outcome.probability >= turnEnd.threshold) events.push({ type: 'complete', probability: outcome.probability });
        else endpointer.setEndSilence(turnEnd.incompleteSilenceMs);
      }
    }
    return events;
  }
}
