import { describe, expect, it } from 'vitest';
import { heardText, type PlayedPiece } from '../../../src/reply/spoken-text.js';

const piece = (text: string, samples: number, played: number): PlayedPiece => ({ text, samples, played });

describe('heardText', () => {
  it('keeps every piece that played to the end', () => {
    expect(heardText([piece('One two.', 1000, 1000), piece('Three four.', 500, 500)])).toBe('One two. Three four.');
  });

  it('keeps nothing when nothing was played', () => {
    expect(heardText([])).toBe('');
    expect(heardText([piece('One two three.', 900, 0)])).toBe('');
  });

  it('cuts a piece mid-sentence in proportion of its words to its played samples', () => {
    const first = piece('Paris is the capital.', 800, 800);
    expect(heardText([first, piece('It is known for the tower.', 600, 300)])).toBe('Paris is the capital. It is known');
  });

  it('rounds down: a word is heard only once its whole share has played', () => {
    // 3 words over 300 samples: 100 samples a word.
    expect(heardText([piece('alpha beta gamma.', 300, 199)])).toBe('alpha');
    expect(heardText([piece('alpha beta gamma.', 300, 200)])).toBe('alpha beta');
    expect(heardText([piece('alpha beta gamma.', 300, 299)])).toBe('alpha beta');
    expect(heardText([piece('alpha beta gamma.', 300, 99)])).toBe('');
  });

  it('cuts mid-word to the words before it, never a fragment of a word', () => {
    // 4 words over 4000 samples; 2.5 words' worth played.
    expect(heardText([piece('Berlin is rather large.', 4000, 2500)])).toBe('Berlin is');
  });

  it('stops at the first piece not played to the end', () => {
    const pieces = [piece('One.', 100, 100), piece('Two three.', 200, 100), piece('Four.', 100, 100)];
    expect(heardText(pieces)).toBe('One. Two');
  });

  it('collapses the whitespace inside a cut piece', () => {
    expect(heardText([piece('one   two\nthree  four', 400, 300)])).toBe('one two three');
  });

  it('a piece whose audio was empty does not hide the pieces heard after it', () => {
    const pieces = [piece('Hm.', 0, 0), piece('Paris is big.', 300, 300), piece('It is old.', 300, 150)];
    expect(heardText(pieces)).toBe('Hm. Paris is big. It');
  });
});
