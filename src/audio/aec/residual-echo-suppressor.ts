import { RealFft } from './real-fft.js';

/** The leftover-echo floor of a bin may rise by this much per frame (0.1 dB: 3 dB per second). */
const LEAK_RISE = 10 ** (0.1 / 10);
/** Leftover echo is overestimated by this factor (9 dB): suppressing a little user is better than leaving echo. */
const OVERDRIVE = 8;

/**
 * What a linear echo canceller leaves (the room's tail beyond its filter, a path that just changed) is taken
 * down per frequency bin: each bin keeps the share of its power that the echo estimate cannot explain. How
 * much echo the filter leaves in a bin is learnt from the frames where little else was there (the lowest
 * recent leftover-to-estimate ratio), so a person speaking over the echo keeps the bins they fill.
 */
export class ResidualEchoSuppressor {
  private readonly fft: RealFft;
  private readonly padded: Float64Array;
  private readonly residualSpectrum: Float64Array;
  private readonly echoSpectrum: Float64Array;
  private readonly leak: Float64Array;
  /** Per-bin powers smoothed over frames: a single frame's ratio is too noisy to learn a floor from. */
  private readonly residualPower: Float64Array;
  private readonly echoPower: Float64Array;
  private readonly output: Float64Array;
  /** What the last frame's filtering spilled past its end, added to the next frame (overlap-add). */
  private readonly spill: Float64Array;

  /** @param frameSize samples per frame; @param floorDb the most a bin is ever attenuated, dB (negative) */
  constructor(
    readonly frameSize: number,
    private readonly floorDb = -30,
  ) {
    this.fft = new RealFft(2 * frameSize);
    this.padded = new Float64Array(2 * frameSize);
    this.residualSpectrum = this.fft.spectrum();
    this.echoSpectrum = this.fft.spectrum();
    this.leak = new Float64Array(this.fft.bins).fill(1);
    this.residualPower = new Float64Array(this.fft.bins);
    this.echoPower = new Float64Array(this.fft.bins);
    this.output = new Float64Array(2 * frameSize);
    this.spill = new Float64Array(frameSize);
  }

  /** Starts over (the linear filter was reset: what it leaves is unknown again). */
  reset(): void {
    this.leak.fill(1);
    this.spill.fill(0);
    this.residualPower.fill(0);
    this.echoPower.fill(0);
  }

  /** `residual` (the linear canceller's output) with leftover echo suppressed, given the echo it removed. */
  process(residual: Float32Array, echo: Float32Array): Float32Array {
    this.transform(residual, this.residualSpectrum);
    this.transform(echo, this.echoSpectrum);
    const e = this.residualSpectrum;
    const y = this.echoSpectrum;
    const floor = 10 ** (this.floorDb / 20);
    for (let k = 0; k < this.fft.bins; k++) {
      const pe = e[2 * k] * e[2 * k] + e[2 * k + 1] * e[2 * k + 1];
      const py = y[2 * k] * y[2 * k] + y[2 * k + 1] * y[2 * k + 1];
      this.residualPower[k] = 0.5 * this.residualPower[k] + 0.5 * pe;
      this.echoPower[k] = 0.5 * this.echoPower[k] + 0.5 * py;
      if (this.echoPower[k] > 1e-12) this.leak[k] = Math.min(this.leak[k] * LEAK_RISE, this.residualPower[k] / this.echoPower[k]);
      const left = OVERDRIVE * this.leak[k] * py;
      const gain = pe > 0 ? Math.max(floor, 1 - left / pe) : 1;
      e[2 * k] *= gain;
      e[2 * k + 1] *= gain;
    }
    this.fft.inverse(e, this.output);
    const n = this.frameSize;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.output[i] + this.spill[i];
    this.spill.set(this.output.subarray(n));
    return out;
  }

  private transform(x: Float32Array, out: Float64Array): void {
    this.padded.fill(0);
    for (let i = 0; i < x.length; i++) this.padded[i] = x[i];
    this.fft.forward(this.padded, out);
  }
}
