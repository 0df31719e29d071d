import type { Interjection } from './interjection.js';
import type { InterruptionOptions } from './interruption-options.js';

/** What the agent does for the barge-in logic; each is quick and must not throw. */
export interface BargeInActions {
  /** Silence playback where it is (the reply stays queued). */
  pause(): void;
  /** Continue playback after a pause that turned out to be noise. */
  resume(): void;
  /** Cut the reply for good: abort the turn's signal. */
  cut(): void;
  /** True while the user is still speaking (the endpointer has an open utterance). */
  userSpeaking(): boolean;
}

export type BargeInEvent = { action: 'pause' | 'resume' | 'cut'; at: number };

/**
 * Barge-in: user speech over a reply first PAUSES playback (silence within one sink block), then either CUTS
 * the reply — when the speech lasts `confirmSpeechMs` or its words are an interruption — or RESUMES it, when
 * the sound brought no words (a cough, a knock), only a backchannel ("mm-hm"), or nothing was decided within
 * `falseInterruptionTimeoutMs`.
 */
export class BargeIn {
  private phase: 'idle' | 'held' | 'cut' = 'idle';
  private onsetMs = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: InterruptionOptions,
    private readonly actions: BargeInActions,
    private readonly report: (e: BargeInEvent) => void,
  ) {}

  /** True from the onset of speech over a reply until it is resolved either way. */
  get pending(): boolean {
    return this.phase !== 'idle';
  }

  get wasCut(): boolean {
    return this.phase === 'cut';
  }

  /** Speech started (at `onsetMs` of stream time) while a reply is being written or played. */
  onSpeechStart(onsetMs: number): void {
    if (this.phase !== 'idle') return;
    this.phase = 'held';
    this.onsetMs = onsetMs;
    this.actions.pause();
    this.report({ action: 'pause', at: performance.now() });
    this.armTimer();
  }

  /** The user's speech (not the silence after it) has lasted up to `speechEndMs` of stream time. */
  onSpeech(speechEndMs: number): void {
    if (this.phase === 'held' && speechEndMs - this.onsetMs >= this.options.confirmSpeechMs) this.cut();
  }

  /** The utterance that caused the hold was transcribed. Returns whether it counts as an interruption. */
  onTranscript(said: Interjection): boolean {
    // Once cut, the reply is gone: whatever was said is answered as the next turn.
    if (said === 'interruption' || (said === 'backchannel' && this.phase === 'cut')) {
      this.cut();
      return true;
    }
    if (this.phase === 'held') this.resume();
    return false;
  }

  /** The turn ended (finished or cut): forget it. */
  reset(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.phase = 'idle';
  }

  private cut(): void {
    if (this.phase === 'cut') return;
    clearTimeout(this.timer);
    this.phase = 'cut';
    this.actions.cut();
    this.report({ action: 'cut', at: performance.now() });
  }

  private resume(): void {
    clearTimeout(this.timer);
    this.phase = 'idle';
    this.actions.resume();
    this.report({ action: 'resume', at: performance.now() });
  }

  private armTimer(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.phase !== 'held') return;
      // Still talking: the confirm rule or the transcript will decide.
      if (this.actions.userSpeaking()) this.armTimer();
      else this.resume();
    }, this.options.falseInterruptionTimeoutMs);
    this.timer.unref?.();
  }
}
