import { describe, expect, it } from 'vitest';
import { SentenceChunker, type SentenceChunkerOptions } from '../../../src/reply/sentence-chunker.js';
import { tokens } from '../../support/fake-engines.js';

/** Every piece a chunker hands out for `deltas` streamed in, flush included. */
function pieces(deltas: readonly string[], options: Partial<SentenceChunkerOptions> = {}): string[] {
  const chunker = new SentenceChunker(options);
  return [...deltas.flatMap((d) => chunker.push(d)), ...chunker.flush()];
}

describe('SentenceChunker', () => {
  it('hands out a sentence only once the next one has begun', () => {
    const chunker = new SentenceChunker();
    expect(chunker.push('Hello there.')).toEqual([]);
    expect(chunker.push(' How')).toEqual(['Hello there.']);
    expect(chunker.push(' are you?')).toEqual([]);
    expect(chunker.flush()).toEqual(['How are you?']);
    expect(chunker.flush()).toEqual([]);
  });

  it('does not end a sentence at the point of a decimal number', () => {
    const chunker = new SentenceChunker();
    expect(chunker.push('It is 3.')).toEqual([]);
    expect(chunker.push('5 metres long. Next')).toEqual(['It is 3.5 metres long.']);
  });

  it('does not end a sentence at a title such as "Dr."', () => {
    expect(pieces(tokens('Ask Dr. Smith about it. Then rest.'))).toEqual(['Ask Dr. Smith about it.', 'Then rest.']);
  });

  it('cuts the first piece at a clause break once it holds firstClauseMinWords words', () => {
    const chunker = new SentenceChunker();
    const got = tokens('Paris is the capital of France, and it is known for art, food, and wine. It is old.').map((t) => chunker.push(t));
    // The clause goes out with the delta that shows the comma is followed by a space.
    expect(got.findIndex((p) => p.length > 0)).toBe(6);
    expect([...got.flat(), ...chunker.flush()]).toEqual([
      'Paris is the capital of France,',
      'and it is known for art, food, and wine.',
      'It is old.',
    ]);
  });

  it('counts the words of the first clause exactly', () => {
    expect(pieces(tokens('One two, three four.'), { firstClauseMinWords: 3 })).toEqual(['One two, three four.']);
    expect(pieces(tokens('One two three, four five.'), { firstClauseMinWords: 3 })).toEqual(['One two three,', 'four five.']);
  });

  it('takes the first clause break that qualifies, skipping shorter ones before it', () => {
    expect(pieces(tokens('Yes, I think that we can; it is late.'), { firstClauseMinWords: 5 })).toEqual([
      'Yes, I think that we can;',
      'it is late.',
    ]);
  });

  it('cuts clauses only in the first piece of a reply', () => {
    expect(pieces(tokens('Sure. We can meet on Monday, Tuesday, or any day you like. Bye.'))).toEqual([
      'Sure.',
      'We can meet on Monday, Tuesday, or any day you like.',
      'Bye.',
    ]);
  });

  it('treats a spaced dash as a clause break, and a comma inside a number as none', () => {
    expect(pieces(tokens('It costs about 1,000 dollars, give or take. Fine.'))).toEqual([
      'It costs about 1,000 dollars,',
      'give or take.',
      'Fine.',
    ]);
    expect(pieces(tokens('I would go there myself \u2014 it is lovely. Yes.'))).toEqual([
      'I would go there myself \u2014',
      'it is lovely.',
      'Yes.',
    ]);
  });

  it('firstClauseMinWords 0 turns clause cutting off', () => {
    expect(pieces(tokens('Paris is the capital of France, and it is old. Yes.'), { firstClauseMinWords: 0 })).toEqual([
      'Paris is the capital of France, and it is old.',
      'Yes.',
    ]);
  });

  it('gives the same pieces whether the text streams by word or by character', () => {
    const text = 'Well, that depends on the weather, really. If it rains, stay in! Otherwise go out? Sure.';
    const byWord = pieces(tokens(text));
    expect(byWord).toEqual(['Well, that depends on the weather,', 'really.', 'If it rains, stay in!', 'Otherwise go out?', 'Sure.']);
    expect(pieces([...text])).toEqual(byWord);
  });

  it('does not cut a clause from a first sentence that arrived whole', () => {
    const text = 'Well, that depends on the weather, really. If it rains, stay in!';
    expect(pieces([text])).toEqual(['Well, that depends on the weather, really.', 'If it rains, stay in!']);
  });

  it('hands out no empty or blank pieces', () => {
    expect(pieces(['   ', '\n\n'])).toEqual([]);
    expect(pieces(['First.  \n\n', '  Second.'])).toEqual(['First.', 'Second.']);
  });
});
