import type { DuplexMode } from './echo-gate-options.js';

/** When user speech over a reply cuts it (barge-in), and when it was only a noise. */
export interface InterruptionOptions {
  /**
   * User speech that starts while earshot is thinking or speaking may cut the reply. Turn it off for input
   * that is not live (a file pushed faster than real time). Default: true.
   */
  enabled: boolean;
  /**
   * How the microphone is heard while earshot speaks: 'full' (headset: any speech barges in), 'aec' (open
   * speakers: an adaptive echo canceller takes earshot's own voice out of the microphone, so only the user
   * barges in), 'gate' (open speakers, simpler: the delayed reply is subtracted and what is left judged by
   * level), 'half' (the microphone is ignored while earshot speaks). Default: 'aec'.
   */
  duplex: DuplexMode;
  /**
   * While a reply is playing, speech this long pauses it (the end of a turn otherwise needs the endpointing
   * `minSpeechMs`), so a one-word "Stop." is caught and the speaker goes quiet soon after the user starts.
   * A pause that brings no words resumes. Default: 128.
   */
  minSpeechMs: number;
  /**
   * Speech over a reply this long confirms the interruption without waiting for its words: the reply is cut
   * at once. Shorter sounds only pause playback until their transcript says whether words were spoken. Default: 700.
   */
  confirmSpeechMs: number;
  /**
   * A pause for a possible interruption that brings no words ends by resuming playback after this long
   * (a cough, a knock, a door). Default: 1500.
   */
  falseInterruptionTimeoutMs: number;
  /**
   * What a listener says to show they are following ("mm-hm", "yeah"): said over a reply, alone or a few
   * together, it does not cut the reply, which resumes where it paused. Compared without case or punctuation.
   * Default: mm-hm, mhm, mm, uh-huh, yeah, yep, okay, ok, right, i see.
   */
  backchannels: readonly string[];
  /**
   * Words that always cut a reply, even inside a backchannel ("okay, stop"). Anything said over a reply that
   * is not only backchannels cuts it as well. Default: stop, wait, no, excuse me, hold on, hang on.
   */
  stopPhrases: readonly string[];
}

export const defaultInterruptionOptions: Readonly<InterruptionOptions> = Object.freeze({
  enabled: true,
  duplex: 'aec',
  minSpeechMs: 128,
  confirmSpeechMs: 700,
  falseInterruptionTimeoutMs: 1500,
  backchannels: Object.freeze(['mm-hm', 'mhm', 'mm', 'uh-huh', 'yeah', 'yep', 'okay', 'ok', 'right', 'i see']),
  stopPhrases: Object.freeze(['stop', 'wait', 'no', 'excuse me', 'hold on', 'hang on']),
});
