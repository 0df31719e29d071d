import { withDefaults } from '../util/with-defaults.js';

/** How streamed reply text is cut into pieces for speech. */
export interface SentenceChunkerOptions {
  /**
   * The first piece may end at a clause break (`,` `;` `:` or a dash) once it holds at least this many words,
   * so the first audio starts before the first full sentence is written. 0 turns it off. Default: 5.
   */
  firstClauseMinWords: number;
  /** Locale for sentence boundaries (Intl.Segmenter). Default: 'en'. */
  locale: string;
  /**
   * Words ending in a period that do not end a sentence (compared without case). Intl.Segmenter splits after
   * "Dr." in "Dr. Smith", which would be voiced as two pieces with a pause between. Default: English titles
   * and Latin abbreviations (mr. mrs. ms. dr. prof. st. mt. jr. sr. vs. e.g. i.e.).
   */
  abbreviations: readonly string[];
}

export const defaultSentenceChunkerOptions: Readonly<SentenceChunkerOptions> = Object.freeze({
  firstClauseMinWords: 5,
  locale: 'en',
  abbreviations: Object.freeze(['mr.', 'mrs.', 'ms.', 'dr.', 'prof.', 'st.', 'mt.', 'jr.', 'sr.', 'vs.', 'e.g.', 'i.e.']),
});

const CLAUSE_BREAK = /[,;:\u2013\u2014](?=\s)/g;

/**
 * Collects streamed text and hands out complete sentences. A sentence counts as complete only once the next
 * one has begun (Intl.Segmenter sees two segments): a trailing "." may still turn out to be "Dr." or "3.5".
 */
export class SentenceChunker {
  private readonly options: SentenceChunkerOptions;
  private readonly segmenter: Intl.Segmenter;
  private readonly abbreviations: ReadonlySet<string>;
  private buffer = '';
  private emitted = 0;

  constructor(options: Partial<SentenceChunkerOptions> = {}) {
    this.options = withDefaults(defaultSentenceChunkerOptions, options);
    this.segmenter = new Intl.Segmenter(this.options.locale, { granularity: 'sentence' });
    this.abbreviations = new Set(this.options.abbreviations.map((a) => a.toLowerCase()));
  }

  push(delta: string): string[] {
    this.buffer += delta;
    const out: string[] = [];
    const segments = this.sentences(this.buffer);
    if (segments.length > 1) {
      for (const s of segments.slice(0, -1)) this.take(s, out);
      this.buffer = segments[segments.length - 1];
    }
    if (this.emitted === 0 && out.length === 0) this.takeFirstClause(out);
    return out;
  }

  /** The rest of the text, at the end of the reply. */
  flush(): string[] {
    const out: string[] = [];
    for (const s of this.sentences(this.buffer)) this.take(s, out);
    this.buffer = '';
    return out;
  }

  /** The segmenter's sentences, with a piece that ends in an abbreviation joined to the one after it. */
  private sentences(text: string): string[] {
    const out: string[] = [];
    for (const { segment } of this.segmenter.segment(text)) {
      const last = out.at(-1);
      if (last !== undefined && this.endsWithAbbreviation(last)) out[out.length - 1] = last + segment;
      else out.push(segment);
    }
    return out;
  }

  private endsWithAbbreviation(sentence: string): boolean {
    const lastWord = sentence.trimEnd().split(/\s+/).at(-1);
    return lastWord !== undefined && this.abbreviations.has(lastWord.toLowerCase());
  }

  private takeFirstClause(out: string[]): void {
    const min = this.options.firstClauseMinWords;
    if (min <= 0) return;
    for (const m of this.buffer.matchAll(CLAUSE_BREAK)) {
      const head = this.buffer.slice(0, m.index + 1);
      if (head.trim().split(/\s+/).length >= min) {
        this.take(head, out);
        this.buffer = this.buffer.slice(head.length);
        return;
      }
    }
  }

  private take(text: string, out: string[]): void {
    const t = text.trim();
    if (t.length === 0) return;
    out.push(t);
    this.emitted++;
  }
}
