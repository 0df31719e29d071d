import type { RealFft } from './real-fft.js';

/**
 * A long FIR filter kept in the frequency domain as `partitions` blocks of `blockSize` taps (a partitioned-block
 * frequency-domain adaptive filter, overlap-save). Filtering one block costs one complex multiply-add per bin
 * and partition; adapting it is a normalized LMS step per bin, so bins with little reference energy do not
 * get large, noisy updates.
 */
export class PartitionedFilter {
  /** Tap spectra, newest-delay partition first. */
  private readonly weights: Float64Array[];
  private readonly time: Float64Array;
  private nextConstrained = 0;

  constructor(
    private readonly fft: RealFft,
    readonly partitions: number,
  ) {
    this.weights = Array.from({ length: partitions }, () => fft.spectrum());
    this.time = new Float64Array(fft.size);
  }

  /** Y = Σ_p W_p · X_p, where `history[p]` is the spectrum of the reference window p blocks ago. */
  predict(history: readonly Float64Array[], out: Float64Array): void {
    out.fill(0);
    for (let p = 0; p < this.partitions; p++) {
      const w = this.weights[p];
      const x = history[p];
      for (let i = 0; i < out.length; i += 2) {
        out[i] += w[i] * x[i] - w[i + 1] * x[i + 1];
        out[i + 1] += w[i] * x[i + 1] + w[i + 1] * x[i];
      }
    }
  }

  /**
   * One NLMS step: W_p += share_p · step_k · conj(X_p) · E, with `error` the spectrum of the zero-padded error block and
   * `step[k]` the step for bin k, already divided by the reference power. The gradient's circular wrap-around
   * is cut from one partition per call, in turn (as Speex's MDF does): the taps stay a linear filter at a
   * fraction of the cost of constraining them all each block.
   */
  adapt(history: readonly Float64Array[], error: Float64Array, step: Float64Array): void {
    const norms = this.weights.map((w) => Math.sqrt(sumOfSquares(w)));
    const total = norms.reduce((a, b) => a + b, 0) + 1e-12;
    for (let p = 0; p < this.partitions; p++) {
      const w = this.weights[p];
      const x = history[p];
      // Proportionate (IPNLMS with α = 0): half of each partition's step is shared evenly, half follows how
      // much of the echo path it already holds. A room's response is concentrated near the direct sound, so
      // those taps learn faster, while every partition keeps enough step for a new path to be found.
      const share = 0.5 + (0.5 * this.partitions * norms[p]) / total;
      for (let k = 0, i = 0; i < w.length; k++, i += 2) {
        const re = x[i] * error[i] + x[i + 1] * error[i + 1];
        const im = x[i] * error[i + 1] - x[i + 1] * error[i];
        w[i] += share * step[k] * re;
        w[i + 1] += share * step[k] * im;
      }
    }
    this.constrain(this.nextConstrained);
    this.nextConstrained = (this.nextConstrained + 1) % this.partitions;
  }

  copyFrom(other: PartitionedFilter): void {
    for (let p = 0; p < this.partitions; p++) this.weights[p].set(other.weights[p]);
  }

  reset(): void {
    for (const w of this.weights) w.fill(0);
  }


  private constrain(p: number): void {
    const w = this.weights[p];
    this.fft.inverse(w, this.time);
    this.time.fill(0, this.fft.size / 2);
    this.fft.forward(this.time, w);
  }
}

function sumOfSquares(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}
