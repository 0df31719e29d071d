/** How the end of a user's turn is decided: by silence alone, or by a turn-end model asked during the pause. */
export type TurnEndMode = 'smart-turn' | 'silence';

export interface TurnEndOptions {
  /**
   * 'smart-turn': when a pause reaches `checkAfterMs`, a turn-end model (Smart Turn v3) judges from the audio
   * whether the user is done; 'silence': the turn ends after `EndpointingOptions.endSilenceMs` of silence.
   * Without a loaded model, 'smart-turn' falls back to the silence rule. Default: 'smart-turn'.
   */
  mode: TurnEndMode;
  /** Silence after the last speech at which the model is asked, ms. Default: 200. */
  checkAfterMs: number;
  /** The model's probability from which the turn counts as complete. Default: 0.5. */
  threshold: number;
  /**
   * Silence that ends a turn the model judged incomplete (the user may be thinking); speech before then goes
   * on with the same turn and is checked again at its next pause, ms. Default: 1500.
   */
  incompleteSilenceMs: number;
}

export const defaultTurnEndOptions: Readonly<TurnEndOptions> = Object.freeze({
  mode: 'smart-turn',
  checkAfterMs: 200,
  threshold: 0.5,
  incompleteSilenceMs: 1500,
});
