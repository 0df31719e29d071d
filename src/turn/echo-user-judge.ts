/** Until what is left is this far below the microphone, dB, the canceller has not learnt the room yet. */
const CONVERGED_DB = -6;
/** A frame whose leftover is this far above the usual, dB, is not taken as a sample of how much echo is left. */
const OUTLIER_DB = 6;
/** Microphone this far above the echo the reference usually makes, dB, before a frame can be a person. */
const ABOVE_ECHO_DB = 1.5;
/** The user must be at least this loud against the usual echo level, dB, not just against what is left. */
const USER_FLOOR_DB = -15;
/** Below this mean square (-70 dBFS) a frame is silence, whatever the ratios say. */
const SILENCE = 1e-7;

/**
 * Tells, frame by frame while earshot speaks, whether the microphone holds a person besides earshot's own
 * echo. Frames that look like echo teach it what is usual — how much cancelling leaves, the echo's level,
 * and how loud the echo is against the reference — and louder frames (likely the user) teach nothing.
 */
export class EchoUserJudge {
  /** Usual ratio of what is left to what came in, dB: the echo cancellation leaves. */
  private leakDb = 0;
  /** Usual microphone level while earshot speaks (mean square). */
  private echoLevel = 0;
  /** Usual microphone level against the reference's, dB: the room's echo return. */
  private returnDb = 0;

  /** @param userMarginDb how far what is left must stand above what cancelling usually leaves */
  constructor(private readonly userMarginDb: number) {}

  /** Echo return loss enhancement reached, dB (0 before the canceller has learnt anything). */
  get erleDb(): number {
    return -this.leakDb;
  }

  /** The canceller starts over: what it leaves is unknown again. */
  reset(): void {
    this.leakDb = 0;
  }

  /**
   * Mean squares of one frame: `mic` as it came in, `left` after cancelling, `reference` the level of what was
   * playing. A person is there when what is left stands `userMarginDb` above what cancelling usually leaves,
   * is a fair share of the usual echo level, and the microphone is louder than the echo this reference
   * usually makes: the last holds even while the filter fails (a jump of the delay, a room that changed),
   * when the leftover alone cannot tell echo from a person.
   */
  isUser(mic: number, left: number, reference: number): boolean {
    if (mic < SILENCE) return false;
    const louderDb = 10 * Math.log10(mic / Math.max(reference, 1e-12));
    const ratioDb = 10 * Math.log10(Math.max(left, 1e-12) / mic);
    if (ratioDb < this.leakDb + OUTLIER_DB) {
      this.leakDb += (ratioDb < this.leakDb ? 0.2 : 0.05) * (ratioDb - this.leakDb);
      this.echoLevel += 0.05 * (mic - this.echoLevel);
      if (reference > SILENCE) this.returnDb += 0.05 * (louderDb - this.returnDb);
      return false;
    }
    if (this.leakDb > CONVERGED_DB || left < SILENCE || louderDb <= this.returnDb + ABOVE_ECHO_DB) return false;
    return ratioDb > this.leakDb + this.userMarginDb && left > 10 ** (USER_FLOOR_DB / 10) * this.echoLevel;
  }
}
