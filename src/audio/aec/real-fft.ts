import FFT from 'fft.js';

/**
 * Forward and inverse transforms of real signals of one power-of-two size. Spectra hold the `size / 2 + 1`
 * non-negative frequency bins, interleaved [re, im, re, im, ...]; the rest is their mirror image.
 */
export class RealFft {
  readonly size: number;
  readonly bins: number;
  private readonly fft: FFT;
  private readonly full: number[];
  private readonly scratch: number[];

  constructor(size: number) {
    this.size = size;
    this.bins = size / 2 + 1;
    this.fft = new FFT(size);
    this.full = this.fft.createComplexArray() as number[];
    this.scratch = this.fft.createComplexArray() as number[];
  }

  /** A zeroed spectrum of this size. */
  spectrum(): Float64Array {
    return new Float64Array(2 * this.bins);
  }

  /** `out` = spectrum of `input` (length `size`). */
  forward(input: ArrayLike<number>, out: Float64Array): void {
    this.fft.realTransform(this.full, input);
    for (let i = 0; i < 2 * this.bins; i++) out[i] = this.full[i];
  }

  /** `out` (length `size`) = the real signal whose spectrum is `spectrum`. */
  inverse(spectrum: Float64Array, out: Float64Array | Float32Array): void {
    const full = this.scratch;
    const n = this.size;
    for (let i = 0; i < 2 * this.bins; i++) full[i] = spectrum[i];
    // The upper half mirrors the lower: the signal is real.
    for (let k = 1; k < n / 2; k++) {
      full[2 * (n - k)] = spectrum[2 * k];
      full[2 * (n - k) + 1] = -spectrum[2 * k + 1];
    }
    this.fft.inverseTransform(this.full, full);
    for (let i = 0; i < n; i++) out[i] = this.full[2 * i];
  }
}
