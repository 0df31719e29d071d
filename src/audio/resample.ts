import libsamplerate from '@alexanderolsen/libsamplerate-js';

const { ConverterType, create } = libsamplerate;

/**
 * Sample-rate conversion through libsamplerate (band-limited sinc), never naive decimation: decimating 22.05 kHz
 * TTS audio or 48 kHz microphone audio without a low-pass filter folds high frequencies back into the speech band.
 */
export interface ResampleOptions {
  /** libsamplerate converter. Default: SRC_SINC_MEDIUM_QUALITY (clean up to ~97 dB, fast enough for real time). */
  quality?: 'best' | 'medium' | 'fastest';
}

const CONVERTERS = {
  best: ConverterType.SRC_SINC_BEST_QUALITY,
  medium: ConverterType.SRC_SINC_MEDIUM_QUALITY,
  fastest: ConverterType.SRC_SINC_FASTEST,
} as const;

/**
 * Whole-buffer conversion. The output has exactly round(n * to / from) samples: the sinc filter's delay is
 * flushed with trailing zeros, so no audio at the end is lost.
 */
export async function resample(
  samples: Float32Array,
  fromRate: number,
  toRate: number,
  options: ResampleOptions = {},
): Promise<Float32Array> {
  if (fromRate === toRate) return samples;
  const expected = Math.round((samples.length * toRate) / fromRate);
  const src = await create(1, fromRate, toRate, { converterType: CONVERTERS[options.quality ?? 'medium'] });
  try {
    // libsamplerate holds back about half its filter length; 0.05 s of padding covers every converter.
    const pad = Math.ceil(fromRate * 0.05);
    const padded = new Float32Array(samples.length + pad);
    padded.set(samples);
    const out = src.full(padded);
    if (out.length >= expected) return out.slice(0, expected);
    const exact = new Float32Array(expected);
    exact.set(out);
    return exact;
  } finally {
    src.destroy();
  }
}

/** Converter that keeps its filter state between blocks, for live audio arriving in pieces. */
export interface StreamResampler {
  readonly fromRate: number;
  readonly toRate: number;
  push(block: Float32Array): Float32Array;
  close(): void;
}

export async function createStreamResampler(
  fromRate: number,
  toRate: number,
  options: ResampleOptions = {},
): Promise<StreamResampler> {
  if (fromRate === toRate) {
    return { fromRate, toRate, push: (b) => b, close: () => {} };
  }
  const src = await create(1, fromRate, toRate, { converterType: CONVERTERS[options.quality ?? 'medium'] });
  return {
    fromRate,
    toRate,
    push: (block) => src.full(block),
    close: () => src.destroy(),
  };
}
