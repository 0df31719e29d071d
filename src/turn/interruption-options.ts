import type { DuplexMode } from './echo-gate-options.js';

/** When user speech over a reply cuts it (barge-in), and when it was only a noise. */
export interface InterruptionOptions {
  /**
   * User speech that starts while earshot is thinking or speaking may cut the reply. Turn it off for input
   * that is not live (a file pushed faster than real time). Default: true.
   */
  enabled: boolean;
  /**
   * How the microphone is heard while earshot speaks: 'full' (headset: any speech barges in), 'gate' (open
   * speakers: only speech that is not earshot's own echo barges in), 'half' (the microphone is ignored while
   * earshot speaks). Default: 'gate'.
   */
  duplex: DuplexMode;
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
}

export const defaultInterruptionOptions: Readonly<InterruptionOptions> = Object.freeze({
  enabled: true,
  duplex: 'gate',
  confirmSpeechMs: 700,
  falseInterruptionTimeoutMs: 1500,
});
