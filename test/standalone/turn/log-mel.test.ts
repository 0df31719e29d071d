import { describe, expect, it } from 'vitest';
import { Fft } from '../../../src/audio/fft.js';
import { whisperLogMel } from '../../../src/turn/log-mel.js';
import { smartTurnFeatures, smartTurnWindow, SMART_TURN_FRAMES } from '../../../src/turn/turn-end-model.js';

/**
 * Reference values printed by test/fixtures/reference/whisper_log_mel.py: numpy's rfft, numpy's Hann window and
 * reflect padding, and librosa's way of building Slaney mel filters — none of earshot's code.
 */
const REFERENCE = {
  plain: {
    frames: 150,
    sum: -4849.530964710675,
    min: -0.6725698976555134,
    max: 1.3274301023444866,
    points: [
      [0, 0, 0.8729630473531678],
      [12, 40, 1.182598783126755],
      [20, 75, 0.2838537431097129],
      [33, 99, -0.16844236362118292],
      [47, 120, -0.1661428238655409],
      [40, 0, 0.29761826934054936],
      [79, 149, -0.6725698976555134],
    ],
  },
  smartTurn: {
    frames: 800,
    sum: -7755.629171581293,
    min: -0.17172005881484864,
    max: 1.8282799411851514,
    points: [
      [0, 0, -0.17172005881484864],
      [12, 700, 1.6837773722759022],
      [47, 799, 0.7525590738476584],
      [70, 650, 0.06178521952188176],
    ],
  },
} as const;

/** The reference script's test signal: two tones and a ramped third, 1.5 s at 16 kHz. */
function signal(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, t) =>
    0.3 * Math.sin((2 * Math.PI * 440 * t) / 16000) +
    0.2 * Math.sin((2 * Math.PI * 2500 * t) / 16000 + 0.5) * ((t % 4000) / 4000) +
    0.05 * Math.sin((2 * Math.PI * 7000.5 * t) / 16000),
  );
}

function sum(a: Float32Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s;
}

describe('whisper log-mel features', () => {
  it('match numpy/librosa reference values for plain whisper features', () => {
    const { data, frames, nMels } = whisperLogMel(signal(24000));
    const ref = REFERENCE.plain;
    expect(nMels).toBe(80);
    expect(frames).toBe(ref.frames);
    for (const [m, f, v] of ref.points) expect(data[m * frames + f]).toBeCloseTo(v, 4);
    expect(Math.min(...data)).toBeCloseTo(ref.min, 4);
    expect(Math.max(...data)).toBeCloseTo(ref.max, 4);
    // The sum over 12,000 values bounds any systematic error: 0.05 total is 4e-6 per value.
    expect(Math.abs(sum(data) - ref.sum)).toBeLessThan(0.05);
  });

  it("match the reference for Smart Turn's input: 8 s, zeros in front, normalised", () => {
    const features = smartTurnFeatures(signal(24000));
    const ref = REFERENCE.smartTurn;
    expect(features.length).toBe(80 * SMART_TURN_FRAMES);
    for (const [m, f, v] of ref.points) expect(features[m * ref.frames + f]).toBeCloseTo(v, 4);
    expect(Math.min(...features)).toBeCloseTo(ref.min, 4);
    expect(Math.max(...features)).toBeCloseTo(ref.max, 4);
    expect(Math.abs(sum(features) - ref.sum)).toBeLessThan(0.2);
  });

  it('keeps the last 8 s of a longer turn and pads a shorter one in front', () => {
    const long = Float32Array.from({ length: 9 * 16000 }, (_, i) => i);
    const kept = smartTurnWindow(long);
    expect(kept.length).toBe(128000);
    expect(kept[0]).toBe(16000);
    const short = smartTurnWindow(Float32Array.of(1, 2, 3));
    expect([short[0], short[127997], short[127999]]).toEqual([0, 1, 3]);
  });
});

describe('FFT', () => {
  it('gives the closed-form spectrum of a Hann-windowed tone on a bin (400 points, radix 2 and 5)', () => {
    // A tone of amplitude A on bin k, periodic Hann window: |X[k]| = A*N/4, |X[k±1]| = A*N/8, others 0.
    const n = 400;
    const k = 40;
    const a = 0.7;
    const re = new Float64Array(n);
    const im = new Float64Array(n);
    for (let i = 0; i < n; i++) re[i] = a * Math.cos((2 * Math.PI * k * i) / n) * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
    new Fft(n).transform(re, im);
    const mag = (b: number) => Math.hypot(re[b], im[b]);
    expect(mag(k)).toBeCloseTo((a * n) / 4, 9);
    expect(mag(k - 1)).toBeCloseTo((a * n) / 8, 9);
    expect(mag(k + 1)).toBeCloseTo((a * n) / 8, 9);
    for (const b of [0, 10, 38, 42, 100, 200]) expect(mag(b)).toBeLessThan(1e-9);
  });
});
