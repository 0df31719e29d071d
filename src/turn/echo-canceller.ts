import { DelayEstimator, type DelayEstimate } from '../audio/aec/delay-estimator.js';
import { MicrophoneClock } from '../audio/aec/microphone-clock.js';
import { ReferenceTimeline, slotAt } from '../audio/aec/reference-timeline.js';
import { ResidualEchoSuppressor } from '../audio/aec/residual-echo-suppressor.js';
import { TwoPathCanceller } from '../audio/aec/two-path-canceller.js';
import { withDefaults } from '../util/with-defaults.js';
import { defaultEchoCancellerOptions, type EchoCancellerOptions } from './echo-canceller-options.js';
import type { EchoRemoval } from './echo-gate.js';
import { EchoUserJudge } from './echo-user-judge.js';

const RATE = 16_000;
/** Filter block: 16 ms. */
const BLOCK = 256;
/** Microphone compared per delay estimate, and how often one is made while earshot speaks. */
const DELAY_WINDOW = RATE;
const ESTIMATE_EVERY = RATE / 4;
const QUICK_WINDOW = RATE / 2;
/** Earshot's voice heard this long without a trace of it in the microphone means there is no echo path. */
const NO_ECHO_AFTER = RATE;
/** A quarter second at -50 dBFS: enough sound in each signal to correlate them. */
const ENOUGH_SOUND = 1e-5 * (RATE / 4);
/** A delay must stand out of the correlation this clearly, twice in a row, to be taken. */
const MIN_CLARITY = 6;
/**
 * A change of the delay this large (12 ms) at once is a jump of the clocks; smaller differences between
 * estimates are their own scatter, which the filter's span absorbs.
 */
const JUMP = 192;
/** How much of the microphone the linear filter must take out, dB, over at least PROOF_FRAMES, to prove an echo path. */
const PROOF_DB = 6;
const PROOF_FRAMES = 4;
const PROOF_SMOOTHING = 0.25;
/** Taps kept before the direct sound, so a delay that wobbles a little stays inside the filter. */
const PRE_MARGIN = 256;

/**
 * Takes earshot's own voice out of the microphone with an adaptive filter fed with exactly what the speaker
 * played. It lays the played audio on the clock (ReferenceTimeline), places each microphone frame on the same
 * clock (MicrophoneClock), finds the echo's delay (DelayEstimator) and follows it, cancels what the room made
 * of the reference (TwoPathCanceller), suppresses what the filter leaves (ResidualEchoSuppressor), and asks
 * EchoUserJudge whether what is left is a person.
 */
export class EchoCanceller implements EchoRemoval {
  private readonly options: EchoCancellerOptions;
  private readonly timeline = new ReferenceTimeline();
  private readonly canceller: TwoPathCanceller;
  private suppressor: ResidualEchoSuppressor | undefined;
  private readonly estimator: DelayEstimator;
  /** A quicker look (half the window) when frames suddenly stand out: a person, or the clocks jumped? */
  private readonly quickEstimator: DelayEstimator;
  private readonly quickRefWindow: Float32Array;
  /** Frames in a row that stood out of the echo, and when the last quick look was taken (microphone samples). */
  private standingOut = 0;
  private lastQuickLook = -Infinity;
  /** A new delay one quick look saw; a second look that agrees makes it a jump. */
  private suspectedDelay: number | undefined;
  private readonly maxDelay: number;
  private readonly span: number;
  private readonly micHistory = new Float32Array(DELAY_WINDOW);
  private readonly refWindow: Float32Array;
  private readonly refBlock = new Float32Array(BLOCK);
  private readonly clock = new MicrophoneClock();
  private readonly judge: EchoUserJudge;
  private sinceEstimate = 0;
  private candidate: number | undefined;
  private delay: number | undefined;
  /**
   * Microphone heard while earshot spoke with no trace of its voice in it, samples: after NO_ECHO_AFTER of
   * it there is no echo path to fear (a headset, speakers far away), and the user is heard as in full duplex
   * until the filter proves an echo path by cancelling it. A delay found alone proves nothing: a person's
   * voice over earshot's correlates with it at some lag now and then, clearly enough to be taken.
   */
  private echoFreeSamples = 0;
  /** Smoothed microphone and linear-residual levels since the delay was last placed: see echoPathProven. */
  private proof = { frames: 0, mic: 0, left: 0 };
  private bulk = 0;
  /** Blocks fed since the reference was last active: after a filter span of silence there is nothing to cancel. */
  private quietBlocks = Infinity;
  /** The playing reference's level, with a room's decay after it stops. */
  private refLevel = 0;
  private refFrame = new Float32Array(0);

  constructor(options: Partial<EchoCancellerOptions> = {}) {
    this.options = withDefaults(defaultEchoCancellerOptions, options);
    const partitions = Math.max(1, Math.round((this.options.tailMs / 1000) * RATE / BLOCK));
    this.canceller = new TwoPathCanceller({ blockSize: BLOCK, partitions, step: this.options.step });
    this.maxDelay = slotAt(this.options.maxDelayMs);
    this.span = partitions * BLOCK;
    this.estimator = new DelayEstimator(DELAY_WINDOW, this.maxDelay);
    this.quickEstimator = new DelayEstimator(QUICK_WINDOW, this.maxDelay);
    this.quickRefWindow = new Float32Array(QUICK_WINDOW + this.maxDelay);
    this.refWindow = new Float32Array(DELAY_WINDOW + this.maxDelay);
    this.judge = new EchoUserJudge(this.options.userMarginDb);
  }

  /** No echo path has been heard: see echoFreeSamples. */
  private get echoFree(): boolean {
    return this.echoFreeSamples >= NO_ECHO_AFTER;
  }

  /** The echo's delay behind the reported playback time, ms, once found. */
  get delayMs(): number | undefined {
    return this.delay === undefined ? undefined : (this.delay / RATE) * 1000;
  }

  /** Echo return loss enhancement the canceller currently reaches, dB (0 before it has learnt anything). */
  get erleDb(): number {
    return this.judge.erleDb;
  }

  addPlayed(block: Float32Array, playedAt: number): void {
    this.timeline.add(block, playedAt);
  }

  isActive(endAt: number, frameLength: number): boolean {
    return this.timeline.soundSince(this.clock.peek(endAt, frameLength) - this.maxDelay - this.span);
  }

  cancel(frame: Float32Array, endAt: number): { residual: Float32Array; userLikely: boolean } {
    const start = this.clock.place(endAt, frame.length, this.delay === undefined);
    this.remember(frame);
    const active = this.timeline.soundSince(start - this.maxDelay - this.span);
    if (active) this.trackDelay(start, frame.length);
    if (this.delay === undefined) return { residual: frame, userLikely: !active || this.echoFree };

    const residual = new Float32Array(frame.length);
    for (let b = 0; b + BLOCK <= frame.length; b += BLOCK) {
      const mic = frame.subarray(b, b + BLOCK);
      const out = residual.subarray(b, b + BLOCK);
      this.timeline.read(start + b - this.bulk, this.refBlock);
      if (!active && this.quietBlocks > this.span / BLOCK) {
        out.set(mic);
        continue;
      }
      this.quietBlocks = active ? 0 : this.quietBlocks + 1;
      this.canceller.process(mic, this.refBlock, out);
    }
    // A frame that is not a whole number of blocks keeps its tail as it came (the listener's frames are 512).
    residual.set(frame.subarray(residual.length - (frame.length % BLOCK)), frame.length - (frame.length % BLOCK));
    if (!active) return { residual, userLikely: true };
    const cleaned = this.suppress(frame, residual);
    if (this.refFrame.length !== frame.length) this.refFrame = new Float32Array(frame.length);
    this.timeline.read(start - this.delay, this.refFrame);
    // The reference's level with a decay of 1 dB per frame: a room goes on sounding after the voice stops.
    this.refLevel = Math.max(meanSquareOf(this.refFrame), 0.8 * this.refLevel);
    const userLikely = this.judge.isUser(meanSquareOf(frame), meanSquareOf(cleaned), this.refLevel);
    if (this.echoFree) {
      if (!this.echoPathProven(frame, residual)) return { residual: frame, userLikely: true };
      this.echoFreeSamples = 0;
    }
    this.standingOut = userLikely ? this.standingOut + 1 : 0;
    if (this.standingOut >= 2 && this.clocksJumped(start + frame.length)) return { residual: cleaned, userLikely: false };
    return { residual: cleaned, userLikely };
  }

  /**
   * An echo path is there when the linear filter, at the delay it follows, takes a good part out of the
   * microphone over several frames. On a person's voice that only happened to correlate with earshot's it
   * takes out nothing (it adds a little: -0.4 to -1.6 dB measured); on an echo it takes out 10 dB and more
   * within a second. What the residual suppressor removes proves nothing: it would remove a voice too.
   */
  private echoPathProven(mic: Float32Array, residual: Float32Array): boolean {
    this.proof.frames++;
    this.proof.mic += PROOF_SMOOTHING * (meanSquareOf(mic) - this.proof.mic);
    this.proof.left += PROOF_SMOOTHING * (meanSquareOf(residual) - this.proof.left);
    return this.proof.frames >= PROOF_FRAMES && this.proof.mic > 10 ** (PROOF_DB / 10) * this.proof.left;
  }

  /**
   * Frames that suddenly stand out are either the user or earshot's own voice at a new delay (a device that
   * restarted at another latency, microphone samples lost), which the filter no longer cancels. Short looks
   * at the last half second tell them apart: a clear echo at another delay is suspected a jump, and a second
   * look that agrees makes the filter follow it at once, before the "user" lasts long enough to interrupt.
   * While a jump is suspected the frames do not count as the user.
   */
  private clocksJumped(endSlot: number): boolean {
    if (this.delay === undefined) return false;
    if (this.clock.samples - this.lastQuickLook < QUICK_WINDOW / 4) return this.suspectedDelay !== undefined;
    this.lastQuickLook = this.clock.samples;
    this.timeline.read(endSlot - QUICK_WINDOW - this.maxDelay, this.quickRefWindow);
    const look = this.quickEstimator.estimate(this.micHistory.subarray(DELAY_WINDOW - QUICK_WINDOW), this.quickRefWindow, this.delay);
    const { samples } = look;
    if (!movedAway(look, this.delay)) {
      this.suspectedDelay = undefined;
      return false;
    }
    if (this.suspectedDelay !== undefined && Math.abs(samples - this.suspectedDelay) <= PRE_MARGIN / 4) {
      this.suspectedDelay = undefined;
      this.follow(samples, endSlot);
    } else {
      this.suspectedDelay = samples;
    }
    return true;
  }

  /** The linear filter's output with the echo it left suppressed as well (the echo it removed is mic − residual). */
  private suppress(frame: Float32Array, residual: Float32Array): Float32Array {
    if (this.suppressor?.frameSize !== frame.length) this.suppressor = new ResidualEchoSuppressor(frame.length);
    const removed = new Float32Array(frame.length);
    for (let i = 0; i < frame.length; i++) removed[i] = frame[i] - residual[i];
    return this.suppressor.process(residual, removed);
  }

  private remember(frame: Float32Array): void {
    const n = Math.min(frame.length, DELAY_WINDOW);
    this.micHistory.copyWithin(0, n);
    this.micHistory.set(frame.subarray(frame.length - n), DELAY_WINDOW - n);
  }

  private trackDelay(frameStart: number, frameLength: number): void {
    const endSlot = frameStart + frameLength;
    this.sinceEstimate += frameLength;
    // Until a delay is known nothing is cancelled: look twice as often then.
    if (this.sinceEstimate < (this.delay === undefined ? ESTIMATE_EVERY / 2 : ESTIMATE_EVERY)) return;
    this.sinceEstimate = 0;
    this.timeline.read(endSlot - DELAY_WINDOW - this.maxDelay, this.refWindow);
    // A quarter second of sound in each is enough to correlate; the rest of the window may still be silence.
    const refEnergy = sumOfSquares(this.refWindow);
    if (refEnergy < ENOUGH_SOUND) return;
    const micEnergy = sumOfSquares(this.micHistory);
    // A microphone 30 dB below what was played, with no trace of it: nothing of earshot's voice comes back.
    if (micEnergy < Math.max(ENOUGH_SOUND, 1e-3 * refEnergy)) {
      this.echoFreeSamples += ESTIMATE_EVERY / 2;
      return;
    }
    const estimate = this.estimator.estimate(this.micHistory, this.refWindow, this.delay);
    const { samples, clarity } = estimate;
    if (clarity < MIN_CLARITY) return;
    // A peak far from the delay the filter follows counts only if the echo has really left that delay: a
    // voice with a strong period also correlates at its multiples.
    if (this.delay !== undefined && Math.abs(samples - this.delay) >= JUMP && !movedAway(estimate, this.delay)) return;
    const agrees = this.candidate !== undefined && Math.abs(this.candidate - samples) <= 8;
    this.candidate = samples;
    // The first delay is taken from one very clear peak: every block before it goes uncancelled.
    if (agrees || (this.delay === undefined && clarity >= 2 * MIN_CLARITY)) this.follow(samples, frameStart);
  }

  /**
   * The first delay places the filter. A jump (a device that restarted at another latency, microphone samples
   * lost) moves the reference by the same amount and keeps what the filter learnt: the room did not change,
   * only the clocks did. A slow drift is followed by the filter itself until it nears the filter's edge.
   */
  private follow(delay: number, nextSlot: number): void {
    const previous = this.delay;
    this.delay = delay;
    const jump = previous === undefined ? 0 : delay - previous;
    if (previous !== undefined && Math.abs(jump) >= JUMP && this.bulk + jump >= 0) {
      this.bulk += jump;
      this.canceller.realign(this.pastReference(nextSlot));
      return;
    }
    const offset = delay - this.bulk;
    if (previous === undefined || offset < PRE_MARGIN / 4 || offset > this.span / 4) {
      this.bulk = Math.max(0, delay - PRE_MARGIN);
      this.canceller.reset();
      this.suppressor?.reset();
      this.judge.reset();
      this.proof = { frames: 0, mic: 0, left: 0 };
    }
  }

  /** The reference blocks the filter spans before slot `nextSlot`, oldest first, at the current alignment. */
  private pastReference(nextSlot: number): Float32Array[] {
    const n = this.canceller.partitions;
    return Array.from({ length: n }, (_, i) => {
      const block = new Float32Array(BLOCK);
      this.timeline.read(nextSlot - this.bulk - (n - i) * BLOCK, block);
      return block;
    });
  }
}

/** True when the echo clearly sits `JUMP` or more away from `current`, and no longer at `current`. */
function movedAway(e: DelayEstimate, current: number): boolean {
  return e.clarity >= MIN_CLARITY && Math.abs(e.samples - current) >= JUMP && e.clarityAtCurrent < 0.6 * e.clarity;
}

function meanSquareOf(x: Float32Array): number {
  return sumOfSquares(x) / x.length;
}

function sumOfSquares(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}
