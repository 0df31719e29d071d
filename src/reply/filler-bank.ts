import type { TtsEngine } from '../tts/tts-engine.js';
import { makeEarcon } from './earcon.js';
import type { MaskMode } from './latency-mask-options.js';
import { toSpeakableText } from './speech-text.js';

/** One filler, ready to play. */
export interface Filler {
  kind: 'phrase' | 'earcon';
  /** The phrase (absent for the earcon). */
  text?: string;
  samples: Float32Array;
  sampleRate: number;
}

/**
 * The fillers of one conversation: the phrases voiced once, ahead of need, and the earcon. A phrase is never
 * picked twice in a row; until the phrases are voiced, the earcon stands in.
 */
export class FillerBank {
  private readonly voiced = new Map<string, Float32Array>();
  private earcon: Float32Array | undefined;
  private lastPhrase: string | undefined;
  private preparing: Promise<void> | undefined;

  constructor(
    private readonly phrases: readonly string[],
    private readonly tts: TtsEngine,
    private readonly random: () => number = Math.random,
  ) {}

  /** Voices the phrases (once; later calls wait for the same work). Rejects with the first synthesis error. */
  prepare(): Promise<void> {
    this.preparing ??= (async () => {
      for (const p of this.phrases) if (!this.voiced.has(p)) this.voiced.set(p, await this.tts.synthesize(toSpeakableText(p)));
    })();
    return this.preparing;
  }

  /** A filler for `mode` ('phrase' falls back to the earcon while no phrase is voiced). */
  pick(mode: Exclude<MaskMode, 'off'>): Filler {
    const rate = this.tts.sampleRate;
    if (mode === 'phrase') {
      const ready = this.phrases.filter((p) => this.voiced.has(p));
      const choices = ready.length > 1 ? ready.filter((p) => p !== this.lastPhrase) : ready;
      if (choices.length > 0) {
        const text = choices[Math.min(choices.length - 1, Math.floor(this.random() * choices.length))];
        this.lastPhrase = text;
        return { kind: 'phrase', text, samples: this.voiced.get(text)!, sampleRate: rate };
      }
    }
    this.earcon ??= makeEarcon(rate);
    return { kind: 'earcon', samples: this.earcon, sampleRate: rate };
  }
}
