/** The in-process echo canceller of the 'aec' duplex mode. */
export interface EchoCancellerOptions {
  /**
   * Longest delay from a sample being played to its echo reaching the microphone (device buffers, sound
   * server, distance), ms. The delay itself is found and followed on its own. Default: 400.
   */
  maxDelayMs: number;
  /** How long after the direct sound the room's echo is modelled (reverberation), ms. Default: 256. */
  tailMs: number;
  /** Adaptation step of the filter, 0..1: larger follows changes faster and leaves more residual. Default: 0.5. */
  step: number;
  /**
   * While earshot speaks, a frame counts as the user only when what is left after cancellation stands this
   * far above the echo the canceller is known to leave, dB. Default: 12.
   */
  userMarginDb: number;
}

export const defaultEchoCancellerOptions: Readonly<EchoCancellerOptions> = Object.freeze({
  maxDelayMs: 400,
  tailMs: 256,
  step: 0.5,
  userMarginDb: 12,
});
