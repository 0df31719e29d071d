import { RealFft } from './real-fft.js';

/** The signals are compared at 4 kHz: 16x fewer products, and speech keeps its shape there. */
const DECIMATION = 4;

export interface DelayEstimate {
  /** Delay of the microphone behind the reference, samples at the input rate. */
  samples: number;
  /** Peak height over the correlation's RMS: how clearly one delay stands out. */
  clarity: number;
  /** The same measure at the delay asked about (`estimate`'s `current`), within ±2 ms; 0 when none was asked. */
  clarityAtCurrent: number;
}

/**
 * Finds by how much the echo in the microphone lags the reference: the peak of their cross-correlation with
 * phase-transform weighting (GCC-PHAT), which whitens both signals so the peak stays sharp for speech and in a
 * reverberant room. One estimate compares `windowSamples` of microphone with the reference over every lag up
 * to `maxDelaySamples`.
 */
export class DelayEstimator {
  private readonly fft: RealFft;
  private readonly maxLag: number;
  private readonly window: number;
  private readonly mic: Float64Array;
  private readonly ref: Float64Array;
  private readonly micSpectrum: Float64Array;
  private readonly refSpectrum: Float64Array;
  private readonly cross: Float64Array;
  private readonly correlation: Float64Array;

  constructor(
    readonly windowSamples: number,
    readonly maxDelaySamples: number,
  ) {
    this.window = Math.floor(windowSamples / DECIMATION);
    this.maxLag = Math.ceil(maxDelaySamples / DECIMATION);
    let size = 1;
    while (size < this.window + this.maxLag) size *= 2;
    this.fft = new RealFft(size);
    this.mic = new Float64Array(size);
    this.ref = new Float64Array(size);
    this.micSpectrum = this.fft.spectrum();
    this.refSpectrum = this.fft.spectrum();
    this.cross = this.fft.spectrum();
    this.correlation = new Float64Array(size);
  }

  /**
   * `mic` holds the last `windowSamples` of microphone; `reference` the reference over the same span plus the
   * `maxDelaySamples` before it (so `reference.length = windowSamples + maxDelaySamples`), both at the input rate.
   */
  estimate(mic: Float32Array, reference: Float32Array, current?: number): DelayEstimate {
    this.mic.fill(0);
    this.ref.fill(0);
    decimateInto(mic, this.mic, this.window);
    decimateInto(reference, this.ref, this.window + this.maxLag);
    this.fft.forward(this.mic, this.micSpectrum);
    this.fft.forward(this.ref, this.refSpectrum);
    const m = this.micSpectrum;
    const r = this.refSpectrum;
    let meanMagnitude = 0;
    for (let i = 0; i < m.length; i += 2) {
      // conj(M) · R: correlation of the microphone against later reference samples.
      const re = m[i] * r[i] + m[i + 1] * r[i + 1];
      const im = m[i] * r[i + 1] - m[i + 1] * r[i];
      this.cross[i] = re;
      this.cross[i + 1] = im;
      meanMagnitude += Math.sqrt(re * re + im * im);
    }
    meanMagnitude /= m.length / 2;
    // Whitening, but not of bins that hold next to nothing: their phase is noise, and a full PHAT would
    // give that noise the same weight as the speech. The DC bin says nothing about delay.
    for (let i = 0; i < m.length; i += 2) {
      const mag = Math.hypot(this.cross[i], this.cross[i + 1]) + 0.1 * meanMagnitude + 1e-20;
      this.cross[i] /= mag;
      this.cross[i + 1] /= mag;
    }
    this.cross[0] = this.cross[1] = 0;
    this.fft.inverse(this.cross, this.correlation);
    // correlation[j] pairs mic[i] with ref[i + j]; ref is maxLag longer, so a delay L shows at j = maxLag - L.
    let best = -Infinity;
    let bestLag = 0;
    let sumSq = 0;
    for (let lag = 0; lag <= this.maxLag; lag++) {
      const v = this.correlation[this.maxLag - lag];
      sumSq += v * v;
      if (v > best) {
        best = v;
        bestLag = lag;
      }
    }
    const rmsValue = Math.sqrt(sumSq / (this.maxLag + 1)) + 1e-12;
    let atCurrent = 0;
    if (current !== undefined) {
      const lag = Math.round(current / DECIMATION);
      for (let l = Math.max(0, lag - 8); l <= Math.min(this.maxLag, lag + 8); l++) atCurrent = Math.max(atCurrent, this.correlation[this.maxLag - l]);
    }
    return { samples: bestLag * DECIMATION, clarity: best / rmsValue, clarityAtCurrent: atCurrent / rmsValue };
  }
}

/** Averages groups of DECIMATION samples of `x` (a crude low-pass, enough for a delay search) into `out`. */
function decimateInto(x: Float32Array, out: Float64Array, count: number): void {
  const offset = x.length - count * DECIMATION;
  for (let i = 0; i < count; i++) {
    let s = 0;
    const base = offset + i * DECIMATION;
    for (let j = 0; j < DECIMATION; j++) s += x[base + j] ?? 0;
    out[i] = s / DECIMATION;
  }
}
