import { Fft } from '../audio/fft.js';
import { melFilterbank } from '../audio/mel-filterbank.js';

/** Whisper's front end at 16 kHz: 25 ms frames (400 samples) every 10 ms (160 samples), 80 mel bands. */
export const WHISPER_N_FFT = 400;
export const WHISPER_HOP = 160;
export const WHISPER_N_MELS = 80;

export interface LogMelOptions {
  /** Mel bands. Default: 80. */
  nMels?: number;
  /**
   * Scale the waveform to zero mean and unit variance first (what Hugging Face's WhisperFeatureExtractor does
   * with `do_normalize`, and what Smart Turn was trained with). Default: false.
   */
  normalize?: boolean;
}

/** The variance floor of the waveform normalisation, as in Hugging Face's zero_mean_unit_var_norm. */
const NORMALIZE_EPS = 1e-7;
/** Power floor before the log, as in whisper's log_mel_spectrogram. */
const POWER_FLOOR = 1e-10;

const banks = new Map<number, Float32Array>();
const ffts = new Map<number, Fft>();

/** The periodic Hann window (numpy's hanning(n + 1)[:-1], torch.hann_window(n)). */
function hannWindow(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}
const window400 = hannWindow(WHISPER_N_FFT);

/** Index into `x` with reflect padding (numpy's 'reflect': the edge sample is not repeated). */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - j;
  return j;
}

/**
 * Whisper's log-mel spectrogram of 16 kHz audio, row-major `[nMels][frames]` with `frames = samples / 160`:
 * centred STFT (reflect padding), periodic Hann window, power spectrum, Slaney mel filters, log10 with a floor
 * of 1e-10, values clamped to 8 below the maximum, then (x + 4) / 4. The last STFT frame is dropped, as
 * whisper does. Matches OpenAI's `log_mel_spectrogram` and Hugging Face's WhisperFeatureExtractor.
 */
export function whisperLogMel(audio: Float32Array, options: LogMelOptions = {}): { data: Float32Array; frames: number; nMels: number } {
  const nMels = options.nMels ?? WHISPER_N_MELS;
  const x = options.normalize ? normalized(audio) : Float64Array.from(audio);
  const n = x.length;
  const frames = Math.floor(n / WHISPER_HOP);
  const bins = WHISPER_N_FFT / 2 + 1;
  let bank = banks.get(nMels);
  if (!bank) banks.set(nMels, (bank = melFilterbank({ sampleRate: 16_000, nFft: WHISPER_N_FFT, nMels })));
  const support = filterSupport(bank, nMels, bins);
  let fft = ffts.get(WHISPER_N_FFT);
  if (!fft) ffts.set(WHISPER_N_FFT, (fft = new Fft(WHISPER_N_FFT)));

  const re = new Float64Array(WHISPER_N_FFT);
  const im = new Float64Array(WHISPER_N_FFT);
  const power = new Float64Array(bins);
  const logMel = new Float64Array(nMels * frames);
  let max = -Infinity;
  const half = WHISPER_N_FFT / 2;
  // Smart Turn pads short turns with seconds of silence in front: a frame of constant samples has the same
  // spectrum as the last constant frame of the same value, so it is computed once.
  let constantValue = NaN;
  const constantRow = new Float64Array(nMels);
  for (let f = 0; f < frames; f++) {
    const start = f * WHISPER_HOP - half;
    const value = start >= 0 && start + WHISPER_N_FFT <= n ? constantOver(x, start, WHISPER_N_FFT) : NaN;
    if (!Number.isNaN(value) && value === constantValue) {
      for (let m = 0; m < nMels; m++) logMel[m * frames + f] = constantRow[m];
      continue;
    }
    for (let i = 0; i < WHISPER_N_FFT; i++) {
      const j = start + i;
      re[i] = (j >= 0 && j < n ? x[j] : n > 0 ? x[reflect(j, n)] : 0) * window400[i];
      im[i] = 0;
    }
    fft.transform(re, im);
    for (let k = 0; k < bins; k++) power[k] = re[k] * re[k] + im[k] * im[k];
    for (let m = 0; m < nMels; m++) {
      let e = 0;
      const row = m * bins;
      // Each triangle covers a few bins: only those are summed.
      for (let k = support[2 * m]; k < support[2 * m + 1]; k++) e += bank[row + k] * power[k];
      const v = Math.log10(Math.max(e, POWER_FLOOR));
      logMel[m * frames + f] = v;
      constantRow[m] = v;
      if (v > max) max = v;
    }
    constantValue = value;
  }
  const data = new Float32Array(logMel.length);
  for (let i = 0; i < data.length; i++) data[i] = (Math.max(logMel[i], max - 8) + 4) / 4;
  return { data, frames, nMels };
}

/** The value of x[start .. start+length) when every sample there is the same, else NaN. */
function constantOver(x: Float64Array, start: number, length: number): number {
  const v = x[start];
  for (let i = start + 1; i < start + length; i++) if (x[i] !== v) return NaN;
  return v;
}

/** [first, end) of the non-zero bins of each mel filter. */
function filterSupport(bank: Float32Array, nMels: number, bins: number): Int32Array {
  const support = new Int32Array(2 * nMels);
  for (let m = 0; m < nMels; m++) {
    let first = bins;
    let end = 0;
    for (let k = 0; k < bins; k++) {
      if (bank[m * bins + k] !== 0) {
        first = Math.min(first, k);
        end = k + 1;
      }
    }
    support[2 * m] = Math.min(first, end);
    support[2 * m + 1] = end;
  }
  return support;
}

function normalized(audio: Float32Array): Float64Array {
  let mean = 0;
  for (const v of audio) mean += v;
  mean /= Math.max(1, audio.length);
  let variance = 0;
  for (const v of audio) variance += (v - mean) * (v - mean);
  variance /= Math.max(1, audio.length);
  const scale = 1 / Math.sqrt(variance + NORMALIZE_EPS);
  const out = new Float64Array(audio.length);
  for (let i = 0; i < audio.length; i++) out[i] = (audio[i] - mean) * scale;
  return out;
}
