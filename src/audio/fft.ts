/**
 * A complex FFT for any length whose prime factors are small (whisper's 400-point frame is 2^4 * 5^2): the
 * mixed-radix Cooley-Tukey recursion, with the twiddle factors computed once per length.
 */
export class Fft {
  private readonly factors: number[];
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly scratchRe: Float64Array;
  private readonly scratchIm: Float64Array;
  private readonly smallRe: Float64Array;
  private readonly smallIm: Float64Array;

  constructor(readonly size: number) {
    this.factors = factorize(size);
    this.cos = new Float64Array(size);
    this.sin = new Float64Array(size);
    for (let k = 0; k < size; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / size);
      this.sin[k] = -Math.sin((2 * Math.PI * k) / size);
    }
    this.scratchRe = new Float64Array(size);
    this.scratchIm = new Float64Array(size);
    const largest = Math.max(1, ...this.factors);
    this.smallRe = new Float64Array(largest);
    this.smallIm = new Float64Array(largest);
  }

  /** Transforms `re`/`im` (length `size`) in place. */
  transform(re: Float64Array, im: Float64Array): void {
    this.step(re, im, 0, 1, this.size, 0);
  }

  /** FFT of the `n` elements at offset, offset+stride, ... of the input, written back to the same places. */
  private step(re: Float64Array, im: Float64Array, offset: number, stride: number, n: number, depth: number): void {
    if (n === 1) return;
    const p = this.factors[depth];
    const m = n / p;
    // Sub-sequence r holds elements r, r+p, r+2p... (stride * p apart in the input).
    for (let r = 0; r < p; r++) this.step(re, im, offset + r * stride, stride * p, m, depth + 1);
    const outRe = this.scratchRe;
    const outIm = this.scratchIm;
    const twiddleStep = this.size / n;
    const rootStep = this.size / p;
    const yRe = this.smallRe;
    const yIm = this.smallIm;
    for (let k = 0; k < m; k++) {
      // y_r = W_n^(r k) X_r[k], then a p-point DFT of the y's gives X[k + q m] for every q.
      for (let r = 0; r < p; r++) {
        const idx = offset + r * stride + k * stride * p;
        const t = r * k * twiddleStep;
        const c = this.cos[t];
        const s = this.sin[t];
        yRe[r] = re[idx] * c - im[idx] * s;
        yIm[r] = re[idx] * s + im[idx] * c;
      }
      for (let q = 0; q < p; q++) {
        let sumRe = yRe[0];
        let sumIm = yIm[0];
        for (let r = 1; r < p; r++) {
          const t = ((r * q) % p) * rootStep;
          const c = this.cos[t];
          const s = this.sin[t];
          sumRe += yRe[r] * c - yIm[r] * s;
          sumIm += yRe[r] * s + yIm[r] * c;
        }
        outRe[k + q * m] = sumRe;
        outIm[k + q * m] = sumIm;
      }
    }
    for (let b = 0; b < n; b++) {
      re[offset + b * stride] = outRe[b];
      im[offset + b * stride] = outIm[b];
    }
  }
}

function factorize(n: number): number[] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`FFT size must be a positive whole number, got ${n}`);
  const factors: number[] = [];
  let rest = n;
  for (let f = 2; rest > 1; f++) {
    while (rest % f === 0) {
      factors.push(f);
      rest /= f;
    }
  }
  return factors;
}
