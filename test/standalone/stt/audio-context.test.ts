import { describe, expect, it } from 'vitest';
import { fittedAudioContext } from '../../../src/stt/audio-context.js';

describe('fittedAudioContext', () => {
  it('covers the utterance plus the margin in whole steps of 64 encoder frames (20 ms each)', () => {
    // 4.6 s + 1 s = 5.6 s = 280 frames -> 320.
    expect(fittedAudioContext(4.6 * 16000, 1000, 1500)).toBe(320);
    // Exactly 256 frames needs no rounding.
    expect(fittedAudioContext(4.12 * 16000, 1000, 1500)).toBe(256);
  });

  it('never exceeds the model window and never goes below one step', () => {
    expect(fittedAudioContext(40 * 16000, 1000, 1500)).toBe(1500);
    expect(fittedAudioContext(0, 0, 1500)).toBe(64);
    expect(fittedAudioContext(16000, -500, 1500)).toBe(64);
  });
});
