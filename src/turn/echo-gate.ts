import { MicrophoneClock } from '../audio/aec/microphone-clock.js';
import { slotAt } from '../audio/aec/reference-timeline.js';
import { rms } from '../audio/pcm.js';
import { defaultEchoGateOptions, type EchoGateOptions } from './echo-gate-options.js';
import { withDefaults } from '../util/with-defaults.js';

const RATE = 16_000;
/** Lag search runs on a 4x decimated signal (4 kHz): 16x fewer products, and speech envelopes survive it. */
const DECIMATE = 4;
/** Reference kept, ms: the longest delay plus room for a frame and scheduling jitter. */
const HISTORY_MS = 2_000;

/** What the listener needs from whatever takes earshot's own voice out of the microphone. */
export interface EchoRemoval {
  /** Audio that reached the listener at `playedAt` (its first sample), mono 16 kHz. */
  addPlayed(block: Float32Array, playedAt: number): void;
  /** True when something was played that can still echo into a frame ending at `endAt`. */
  isActive(endAt: number, frameLength: number): boolean;
  /** The frame without earshot's voice, and whether what is left is likely the user. */
  cancel(frame: Float32Array, endAt: number): { residual: Float32Array; userLikely: boolean };
}

/**
 * Tells earshot's own voice, coming back through the microphone, from a person speaking. It keeps what the
 * speaker played on a timeline (sample slots at 16 kHz, from the times the sink reports), finds for each
 * microphone frame the delay at which the played audio best matches it, subtracts that delayed, scaled copy,
 * and hands back what is left: the part of the frame that earshot did not say.
 */
export class EchoGate implements EchoRemoval {
  private readonly options: EchoGateOptions;
  private readonly timeline: Float32Array;
  private readonly mask: Uint8Array;
  /** performance.now() time of timeline slot 0 (slot i is at origin + i / 16 kHz, modulo the ring). */
  private origin: number | undefined;
  private lastSlot = -1;
  private delaySamples: number | undefined;
  /**
   * Microphone frames are placed by their own sample count, not by when they arrived: a busy event loop
   * (the TTS synthesising) delivers frames late and in bursts, and placing them by arrival would slide the
   * echo against the reference by as much, so the subtraction misses and earshot's voice passes as the user.
   */
  private readonly clock = new MicrophoneClock();

  constructor(options: Partial<EchoGateOptions> = {}) {
    this.options = withDefaults(defaultEchoGateOptions, options);
    this.timeline = new Float32Array((HISTORY_MS / 1000) * RATE);
    this.mask = new Uint8Array(this.timeline.length);
  }

  /** Audio that reached the listener at `playedAt` (its first sample), mono 16 kHz. */
  addPlayed(block: Float32Array, playedAt: number): void {
    this.origin ??= playedAt;
    const start = Math.round(((playedAt - this.origin) / 1000) * RATE);
    const n = this.timeline.length;
    // Slots skipped since the last block (a pause, a gap between sentences) held silence.
    for (let s = Math.max(this.lastSlot + 1, start - n); s < start; s++) {
      this.timeline[mod(s, n)] = 0;
      this.mask[mod(s, n)] = 0;
    }
    for (let i = 0; i < block.length; i++) {
      this.timeline[mod(start + i, n)] = block[i];
      this.mask[mod(start + i, n)] = 1;
    }
    this.lastSlot = Math.max(this.lastSlot, start + block.length - 1);
  }

  /** True when something was played in the window that can still echo into a frame ending at `endAt`. */
  isActive(endAt: number, frameLength: number): boolean {
    if (this.origin === undefined) return false;
    return this.activeAt(this.micSlot(this.clock.peek(endAt, frameLength)), frameLength);
  }

  private activeAt(frameStart: number, frameLength: number): boolean {
    const start = frameStart - this.maxDelay();
    const end = frameStart + frameLength - 1;
    for (let s = Math.max(start, this.lastSlot - this.timeline.length + 1); s <= Math.min(end, this.lastSlot); s++) {
      if (this.mask[mod(s, this.timeline.length)]) return true;
    }
    return false;
  }

  /**
   * The frame (16 kHz, ending at `endAt`) minus the best-matching delayed copy of what was played, and whether
   * that remainder is still loud enough, relative to the frame, to be a person rather than leftover echo.
   */
  cancel(frame: Float32Array, endAt: number): { residual: Float32Array; userLikely: boolean } {
    // Every frame is placed, heard over a reply or not: the clock counts the microphone's samples.
    const frameStart = this.micSlot(this.clock.place(endAt, frame.length, true));
    if (this.origin === undefined || !this.activeAt(frameStart, frame.length)) return { residual: frame, userLikely: true };
    const delay = this.findDelay(frame, frameStart);
    const ref = this.window(frameStart - delay, frame.length);
    let fr = 0;
    let rr = 0;
    for (let i = 0; i < frame.length; i++) {
      fr += frame[i] * ref[i];
      rr += ref[i] * ref[i];
    }
    const gain = rr > 1e-9 ? Math.max(0, fr / rr) : 0;
    const residual = new Float32Array(frame.length);
    for (let i = 0; i < frame.length; i++) residual[i] = frame[i] - gain * ref[i];
    const level = rms(frame);
    const userLikely = level < 1e-4 ? false : rms(residual) / level >= this.options.minResidualRatio;
    return { residual, userLikely };
  }

  /** Current delay estimate from playback to microphone, ms, once one has been found. */
  get delayMs(): number | undefined {
    return this.delaySamples === undefined ? undefined : (this.delaySamples / RATE) * 1000;
  }

  /** Slots [frameStart, frameStart + frame.length) hold the frame's time span. */
  private findDelay(frame: Float32Array, frameStart: number): number {
    const maxDelay = this.maxDelay();
    const f = decimate(frame);
    const r = decimate(this.window(frameStart - maxDelay, maxDelay + frame.length));
    const fNorm = Math.sqrt(dot(f, f, 0, f.length));
    if (fNorm < 1e-6) return this.delaySamples ?? 0;
    let best = -1;
    let bestLag = 0;
    // Decimated lag L: the reference segment ends L*DECIMATE samples before the frame's end.
    const lags = Math.floor(maxDelay / DECIMATE);
    for (let lag = 0; lag <= lags; lag++) {
      const startInR = r.length - f.length - lag;
      if (startInR < 0) break;
      const num = dot(f, r, startInR, f.length);
      const den = fNorm * Math.sqrt(dot(r, r, startInR, f.length, startInR)) + 1e-9;
      const score = num / den;
      if (score > best) {
        best = score;
        bestLag = lag;
      }
    }
    // Weak matches (mostly a person, or silence on the reference) keep the last good estimate.
    if (best > 0.3 || this.delaySamples === undefined) this.delaySamples = this.refineDelay(frame, frameStart, bestLag * DECIMATE);
    return this.delaySamples;
  }

  /** The coarse lag is good to DECIMATE samples; the best full-rate lag around it makes the subtraction clean. */
  private refineDelay(frame: Float32Array, frameStart: number, coarse: number): number {
    const lo = Math.max(0, coarse - DECIMATE + 1);
    const hi = Math.min(this.maxDelay(), coarse + DECIMATE - 1);
    const r = this.window(frameStart - hi, hi - lo + frame.length);
    let best = -Infinity;
    let bestDelay = coarse;
    for (let d = lo; d <= hi; d++) {
      const start = hi - d;
      const num = dot(frame, r, start, frame.length);
      const score = num / (Math.sqrt(dot(r, r, start, frame.length, start)) + 1e-9);
      if (score > best) {
        best = score;
        bestDelay = d;
      }
    }
    return bestDelay;
  }

  private window(startSlot: number, length: number): Float32Array {
    const out = new Float32Array(length);
    const n = this.timeline.length;
    for (let i = 0; i < length; i++) {
      const s = startSlot + i;
      if (s > this.lastSlot || s <= this.lastSlot - n) continue;
      out[i] = this.timeline[mod(s, n)];
    }
    return out;
  }

  /** A slot of the microphone clock (performance.now() at 16 kHz) as a slot of this timeline. */
  private micSlot(clockSlot: number): number {
    return clockSlot - slotAt(this.origin ?? 0);
  }

  private maxDelay(): number {
    return Math.round((this.options.maxDelayMs / 1000) * RATE);
  }
}

function decimate(x: Float32Array): Float32Array {
  const out = new Float32Array(Math.floor(x.length / DECIMATE));
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let j = 0; j < DECIMATE; j++) s += x[i * DECIMATE + j];
    out[i] = s / DECIMATE;
  }
  return out;
}

/** Σ a[i] * b[offsetB + i] over `length`; with `offsetA`, a is read from there too. */
function dot(a: Float32Array, b: Float32Array, offsetB: number, length: number, offsetA = 0): number {
  let s = 0;
  for (let i = 0; i < length; i++) s += a[offsetA + i] * b[offsetB + i];
  return s;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
