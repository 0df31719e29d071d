/** When a reply is prepared during the user's pause, before the turn has ended (a speculative turn). */
export interface SpeculationOptions {
  /**
   * Start transcribing and answering the utterance so far once a pause reaches `afterMs`; the reply is held
   * until the turn ends (then it plays at once) or dropped unheard when the user speaks again. Default: true.
   */
  enabled: boolean;
  /** Silence after the last speech at which the speculative turn starts, ms. Default: 200. */
  afterMs: number;
}

export const defaultSpeculationOptions: Readonly<SpeculationOptions> = Object.freeze({
  enabled: true,
  afterMs: 200,
});
