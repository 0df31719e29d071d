/** When a user's turn starts and ends. Every duration is in milliseconds of audio. */
export interface EndpointingOptions {
  /** A frame whose speech probability reaches this counts as speech. Default: 0.5. */
  speechThreshold: number;
  /**
   * Once speech has started, a frame counts as silence only below this lower threshold (hysteresis), so a
   * soft syllable in the middle of a word does not count as a pause. Default: 0.35.
   */
  silenceThreshold: number;
  /** Speech needed before a turn starts; shorter blips (clicks, knocks) are dropped. Default: 250. */
  minSpeechMs: number;
  /** Silence that ends the turn; a shorter pause does not split it. Default: 500. */
  endSilenceMs: number;
  /** Audio kept from before the detected onset, so the first syllable reaches STT whole. Default: 300. */
  preRollMs: number;
  /** Longest utterance; a turn is cut here even if the speaker goes on. Default: 30000. */
  maxUtteranceMs: number;
}

export const defaultEndpointingOptions: Readonly<EndpointingOptions> = Object.freeze({
  speechThreshold: 0.5,
  silenceThreshold: 0.35,
  minSpeechMs: 250,
  endSilenceMs: 500,
  preRollMs: 300,
  maxUtteranceMs: 30_000,
});
