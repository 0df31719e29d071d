import { describe, expect, it } from 'vitest';
import { meaningfulText } from '../../../src/turn/transcript-filter.js';
import type { Transcript } from '../../../src/stt/stt-engine.js';

const t = (text: string, noSpeechProb = 0.01): Transcript => ({
  text,
  segments: [{ text, startMs: 0, endMs: 1000, noSpeechProb }],
  computeMs: 1,
});

describe('what counts as words (whisper phantoms)', () => {
  it('drops bracketed non-speech tags whatever the level', () => {
    for (const tag of ['[BLANK_AUDIO]', '(coughs)', '[ Silence ]', '(music)', '♪']) expect(meaningfulText(t(tag), 0.2)).toBe('');
  });

  it('drops a known phantom from quiet audio or a doubtful segment, keeps it when clearly spoken', () => {
    expect(meaningfulText(t('Thank you.'), 0.004)).toBe('');
    expect(meaningfulText(t(' you', 0.35), 0.1)).toBe('');
    expect(meaningfulText(t('Thank you.', 0.01), 0.1)).toBe('Thank you.');
  });

  it('drops segments whisper itself thinks hold no speech, keeps the rest', () => {
    const mixed: Transcript = {
      text: 'Hello there. Thanks for watching!',
      segments: [
        { text: 'Hello there.', startMs: 0, endMs: 900, noSpeechProb: 0.02 },
        { text: 'Thanks for watching!', startMs: 900, endMs: 2000, noSpeechProb: 0.9 },
      ],
      computeMs: 1,
    };
    expect(meaningfulText(mixed, 0.1)).toBe('Hello there.');
  });

  it('keeps ordinary speech', () => {
    expect(meaningfulText(t('What is the capital of France?'), 0.1)).toBe('What is the capital of France?');
  });
});
