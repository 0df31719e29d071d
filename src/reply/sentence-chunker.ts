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
}

export const defaultSentenceChunkerOptions: Readonly<SentenceChunkerOptions> = Object.freeze({
  firstClauseMinWords: 5,
  locale: 'en',
});

const CLAUSE_BREAK = /[,;:\u2013\u2014](?=\s)/g;

/**
 * Collects streamed text and hands out complete sentences. A sentence counts as complete only once the next
 * one has begun (Intl.Segmenter sees two segments): a trailing "." may still turn out to be "Dr." or "3.5".
 */
export class SentenceChunker {
  private readonly options: SentenceChunkerOptions;
  private readonly segmenter: Intl.Segmenter;
  private buffer = '';
  private emitted = 0;

  constructor(options: Partial<SentenceChunkerOptions> = {}) {
    this.options = withDefaults(defaultSentenceChunkerOptions, options);
    this.segmenter = new Intl.Segmenter(this.options.locale, { granularity: 'sentence' });
  }

  push(delta: string): string[] {
    this.buffer += delta;
    const out: string[] = [];
    const segments = [...this.segmenter.segment(this.buffer)].map((s) => s.segment);
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
    for (const s of this.segmenter.segment(this.buffer)) this.take(s.segment, out);
    this.buffer = '';
    return out;
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
