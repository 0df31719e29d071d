/** How the microphone is treated while earshot itself is speaking. */
export type DuplexMode = 'full' | 'aec' | 'gate' | 'half';

export interface EchoGateOptions {
  /** Longest delay from audio being played to it reaching the microphone (device buffers + room), ms. Default: 400. */
  maxDelayMs: number;
  /**
   * A frame counts as the user only if what is left after removing earshot's own voice keeps at least this share
   * of the frame's level (RMS ratio, 0..1). Lower lets quieter barge-ins through and more echo. Default: 0.5.
   */
  minResidualRatio: number;
}

export const defaultEchoGateOptions: Readonly<EchoGateOptions> = Object.freeze({
  maxDelayMs: 400,
  minResidualRatio: 0.5,
});
