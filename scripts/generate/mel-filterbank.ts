export interface MelFilterbankOptions {
  /** Audio sample rate, Hz. Default: 16000 (whisper). */
  sampleRate?: number;
  /** FFT window length in samples; the bank covers its `nFft / 2 + 1` bins. Default: 400 (whisper, 201 bins). */
  nFft?: number;
  /** Number of mel bands. Default: 80 (whisper up to large-v2). */
  nMels?: number;
  /** Lowest band edge, Hz. Default: 0. */
  fMin?: number;
  /** Highest band edge, Hz. Default: sampleRate / 2. */
  fMax?: number;
}

// Slaney's mel scale (librosa's default, which whisper's filters were made with): linear below 1 kHz, log above.
const LINEAR_HZ_PER_MEL = 200 / 3;
const LOG_START_HZ = 1000;
const LOG_START_MEL = LOG_START_HZ / LINEAR_HZ_PER_MEL;
const LOG_STEP = Math.log(6.4) / 27;

function hzToMel(hz: number): number {
  return hz < LOG_START_HZ ? hz / LINEAR_HZ_PER_MEL : LOG_START_MEL + Math.log(hz / LOG_START_HZ) / LOG_STEP;
}

function melToHz(mel: number): number {
  return mel < LOG_START_MEL ? mel * LINEAR_HZ_PER_MEL : LOG_START_HZ * Math.exp(LOG_STEP * (mel - LOG_START_MEL));
}

/**
 * Triangular mel filters with Slaney area normalisation, row-major `[nMels][nFft / 2 + 1]`: the same bank as
 * `librosa.filters.mel(sr, n_fft, n_mels)`, computed rather than copied.
 */
export function melFilterbank(options: MelFilterbankOptions = {}): Float32Array {
  const sampleRate = options.sampleRate ?? 16_000;
  const nFft = options.nFft ?? 400;
  const nMels = options.nMels ?? 80;
  const fMin = options.fMin ?? 0;
  const fMax = options.fMax ?? sampleRate / 2;
  const nBins = Math.floor(nFft / 2) + 1;

  const melMin = hzToMel(fMin);
  const melMax = hzToMel(fMax);
  const edges = Array.from({ length: nMels + 2 }, (_, i) => melToHz(melMin + ((melMax - melMin) * i) / (nMels + 1)));

  const bank = new Float32Array(nMels * nBins);
  for (let m = 0; m < nMels; m++) {
    const [left, centre, right] = [edges[m], edges[m + 1], edges[m + 2]];
    const areaNorm = 2 / (right - left);
    for (let k = 0; k < nBins; k++) {
      const hz = (k * sampleRate) / nFft;
      const rising = (hz - left) / (centre - left);
      const falling = (right - hz) / (right - centre);
      bank[m * nBins + k] = Math.max(0, Math.min(rising, falling)) * areaNorm;
    }
  }
  return bank;
}
