import { PartitionedFilter } from './partitioned-filter.js';
import { RealFft } from './real-fft.js';

export interface TwoPathCancellerOptions {
  /** Samples per block (a power of two); the filter adapts once per block. */
  blockSize: number;
  /** Filter length in blocks: the echo path it can model is blockSize × partitions samples long. */
  partitions: number;
  /** NLMS step of the adapting filter, 0..1: larger converges faster and is noisier. */
  step: number;
}

/**
 * A linear echo canceller on two aligned streams (microphone and the reference delayed by the bulk delay).
 * Two filters run side by side (the two-path scheme): a background filter adapts on every block, and the
 * foreground filter, whose output is what comes out, only takes over the background's taps once they cancel
 * better. Speech of the user over the echo (double talk) makes the background wander, but never the foreground:
 * the background is then reset to the foreground's taps instead. No double-talk detector has to be right in
 * time for the output to stay clean.
 */
export class TwoPathCanceller {
  readonly blockSize: number;
  private readonly fft: RealFft;
  private readonly foreground: PartitionedFilter;
  private readonly background: PartitionedFilter;
  private readonly stepSize: number;
  /** Spectra of the last `partitions` reference windows (2 blocks each), newest first. */
  private readonly history: Float64Array[];
  private readonly window: Float64Array;
  private readonly spectrum: Float64Array;
  private readonly time: Float64Array;
  private readonly errorSpectrum: Float64Array;
  private readonly power: Float64Array;
  private readonly step: Float64Array;
  private readonly foregroundError: Float32Array;
  private readonly backgroundError: Float32Array;
  /** Smoothed error energies of the two paths. */
  private foregroundEnergy = 0;
  private backgroundEnergy = 0;

  constructor(options: TwoPathCancellerOptions) {
    const n = options.blockSize;
    this.blockSize = n;
    this.fft = new RealFft(2 * n);
    this.foreground = new PartitionedFilter(this.fft, options.partitions);
    this.background = new PartitionedFilter(this.fft, options.partitions);
    this.stepSize = options.step;
    this.history = Array.from({ length: options.partitions }, () => this.fft.spectrum());
    this.window = new Float64Array(2 * n);
    this.spectrum = this.fft.spectrum();
    this.time = new Float64Array(2 * n);
    this.errorSpectrum = this.fft.spectrum();
    this.power = new Float64Array(this.fft.bins);
    this.step = new Float64Array(this.fft.bins);
    this.foregroundError = new Float32Array(n);
    this.backgroundError = new Float32Array(n);
  }

  /**
   * Forgets the echo path (after a jump of the delay, the old taps are worse than none). The reference
   * history starts empty too: measured, a filter restarted that way converges faster than one handed the
   * past reference, as it learns the short early response first.
   */
  reset(): void {
    this.foreground.reset();
    this.background.reset();
    for (const h of this.history) h.fill(0);
    this.window.fill(0);
    this.power.fill(0);
    this.foregroundEnergy = this.backgroundEnergy = 0;
  }

  /** Number of past reference blocks the filter spans. */
  get partitions(): number {
    return this.history.length;
  }

  /**
   * The reference moved against the microphone (a clock jumped) while the room stayed the same: the taps are
   * kept, and the reference history is laid anew from `pastReference` (the blocks before the next one,
   * oldest first, at the new alignment), so the filter predicts the echo at once.
   */
  realign(pastReference: readonly Float32Array[]): void {
    for (const h of this.history) h.fill(0);
    this.window.fill(0);
    for (const block of pastReference) this.pushReference(block);
  }

  /**
   * Cancels one block: `mic` minus the echo of `reference` (both `blockSize` long, aligned) into `out`.
   */
  process(mic: Float32Array, reference: Float32Array, out: Float32Array): void {
    const n = this.blockSize;
    const refEnergy = this.pushReference(reference);

    this.filterInto(this.foreground, mic, this.foregroundError);
    this.filterInto(this.background, mic, this.backgroundError);

    // Normalized by the reference power in each bin over the whole filter span, smoothed a little.
    let total = 0;
    for (let k = 0; k < this.fft.bins; k++) {
      let p = 0;
      for (const x of this.history) p += x[2 * k] * x[2 * k] + x[2 * k + 1] * x[2 * k + 1];
      this.power[k] = 0.5 * this.power[k] + 0.5 * p;
      total += this.power[k];
    }
    // A floor tied to the average bin keeps near-empty bins from taking huge steps on rounding noise.
    const floor = 1e-2 * (total / this.fft.bins) + 1e-10;
    for (let k = 0; k < this.fft.bins; k++) this.step[k] = this.stepSize / (this.power[k] + floor);

    if (refEnergy > 0) {
      this.errorSpectrumOf(this.backgroundError);
      this.background.adapt(this.history, this.errorSpectrum, this.step);
    }

    let fe = 0;
    let be = 0;
    for (let i = 0; i < n; i++) {
      fe += this.foregroundError[i] * this.foregroundError[i];
      be += this.backgroundError[i] * this.backgroundError[i];
    }
    this.foregroundEnergy = 0.6 * this.foregroundEnergy + 0.4 * fe;
    this.backgroundEnergy = 0.6 * this.backgroundEnergy + 0.4 * be;
    out.set(this.foregroundError);
    if (refEnergy > 0) this.choosePath();
  }

  /** Slides the reference window on by one block and transforms it; returns the block's energy. */
  private pushReference(reference: Float32Array): number {
    const n = this.blockSize;
    this.window.copyWithin(0, n);
    let energy = 0;
    for (let i = 0; i < n; i++) {
      this.window[n + i] = reference[i];
      energy += reference[i] * reference[i];
    }
    const oldest = this.history.pop()!;
    this.fft.forward(this.window, oldest);
    this.history.unshift(oldest);
    return energy;
  }

  /** Runs `filter` over the current history and writes mic − prediction into `error`. */
  private filterInto(filter: PartitionedFilter, mic: Float32Array, error: Float32Array): void {
    const n = this.blockSize;
    filter.predict(this.history, this.spectrum);
    this.fft.inverse(this.spectrum, this.time);
    // Overlap-save: the last half of the circular output is the linear convolution.
    for (let i = 0; i < n; i++) error[i] = mic[i] - this.time[n + i];
  }

  private errorSpectrumOf(error: Float32Array): void {
    const n = this.blockSize;
    this.time.fill(0, 0, n);
    for (let i = 0; i < n; i++) this.time[n + i] = error[i];
    this.fft.forward(this.time, this.errorSpectrum);
  }

  private choosePath(): void {
    if (this.backgroundEnergy < 0.8 * this.foregroundEnergy) {
      this.foreground.copyFrom(this.background);
      this.foregroundEnergy = this.backgroundEnergy;
    } else if (this.backgroundEnergy > 4 * this.foregroundEnergy) {
      this.background.copyFrom(this.foreground);
      this.backgroundEnergy = this.foregroundEnergy;
    }
  }
}
