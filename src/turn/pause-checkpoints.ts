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
  /** The model's last probability, for diagnostics. */
  lastProbability: number | undefined;

  constructor(
    private readonly options: PauseCheckpointsOptions,
    private readonly model: TurnEndModel | undefined,
    private readonly onModelError: (e: Error) => void,
  ) {}

  /** Called after every frame the endpointer heard inside an utterance. */
  async afterFrame(endpointer: Endpointer): Promise<CheckpointEvent[]> {
    const events: CheckpointEvent[] = [];
    if (!endpointer.inSpeech) {
      this.reportedPauseAt = undefined;
      this.checkedPauseAt = undefined;
      return events;
    }
    const speechEnd = endpointer.lastSpeechSample;
    const silentMs = endpointer.silentMs;
    if (this.reportedPauseAt !== undefined && speechEnd !== this.reportedPauseAt) {
      this.reportedPauseAt = undefined;
      events.push({ type: 'resumed' });
    }
    const { pauseAfterMs, turnEnd } = this.options;
    if (pauseAfterMs !== undefined && silentMs >= pauseAfterMs && this.reportedPauseAt === undefined && silentMs > 0) {
      this.reportedPauseAt = speechEnd;
      const snapshot = { audio: endpointer.utteranceSoFar(), startSample: endpointer.utteranceStartSample, endSample: speechEnd, silentMs };
      events.push({ type: 'pause', snapshot });
    }
    if (this.model && turnEnd.mode === 'smart-turn' && silentMs >= turnEnd.checkAfterMs && this.checkedPauseAt !== speechEnd) {
      this.checkedPauseAt = speechEnd;
      let probability: number;
      try {
        probability = await this.model.predict(endpointer.utteranceSoFar());
      } catch (e) {
        // A model that fails leaves this pause to the silence rule.
        endpointer.setEndSilence(undefined);
        this.onModelError(e as Error);
        return events;
      }
      this.lastProbability = probability;
      if (probability >= turnEnd.threshold) events.push({ type: 'complete', probability });
      else endpointer.setEndSilence(turnEnd.incompleteSilenceMs);
    }
    return events;
  }
}
