/** What fills a silence: a short phrase in the agent's voice, a soft two-note chime, or nothing. */
export type MaskMode = 'off' | 'earcon' | 'phrase';

/** When the wait for a reply is covered with a filler, and with what. */
export interface LatencyMaskOptions {
  /** 'phrase', 'earcon' or 'off'. Default: 'off' for the library and `earshot run`; `earshot start` uses 'phrase'. */
  mode: MaskMode;
  /**
   * The filler plays when no reply audio has started this long after the end of the user's turn (the moment
   * the endpointer declared it), ms. Default: 700.
   */
  maskAfterMs: number;
  /** Or when a tool has been running this long with no reply audio yet, ms. Default: 250. */
  toolMaskAfterMs: number;
  /** Fillers for 'phrase', picked at random and never the same twice in a row. Default: four short phrases. */
  phrases: readonly string[];
  /** When the reply is ready while the filler plays, the filler fades out over this long, ms. Default: 30. */
  fadeMs: number;
}

export const defaultLatencyMaskOptions: Readonly<LatencyMaskOptions> = Object.freeze({
  mode: 'off',
  maskAfterMs: 700,
  toolMaskAfterMs: 250,
  phrases: Object.freeze(['One moment.', 'Let me check.', 'Just a second.', 'Let me see.']),
  fadeMs: 30,
});
