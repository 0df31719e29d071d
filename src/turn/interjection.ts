/** What words said over a reply amount to. */
export type Interjection = 'nothing' | 'backchannel' | 'interruption';

export interface InterjectionPhrases {
  backchannels: readonly string[];
  stopPhrases: readonly string[];
}

/** Lower case, hyphens and apostrophes kept inside words, everything else between words a single space. */
function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}'-]+/gu, ' ')
    .replace(/(^|\s)[-']+|[-']+(?=\s|$)/g, ' ')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
}

/** True when `phrase` (already split into words) starts at `at` in `list`. */
function startsAt(list: readonly string[], at: number, phrase: readonly string[]): boolean {
  return phrase.length > 0 && phrase.every((w, i) => list[at + i] === w);
}

/**
 * Sorts what was said over a reply: 'nothing' (no words), 'backchannel' (only listener feedback such as
 * "mm-hm" or "yeah, okay": the reply goes on) or 'interruption' (a stop phrase anywhere, or anything else).
 */
export function classifyInterjection(text: string, phrases: InterjectionPhrases): Interjection {
  const said = words(text);
  if (said.length === 0) return 'nothing';
  const stops = phrases.stopPhrases.map(words);
  for (let i = 0; i < said.length; i++) if (stops.some((p) => startsAt(said, i, p))) return 'interruption';
  const backchannels = phrases.backchannels.map(words).sort((a, b) => b.length - a.length);
  for (let i = 0; i < said.length; ) {
    const match = backchannels.find((p) => startsAt(said, i, p));
    if (!match) return 'interruption';
    i += match.length;
  }
  return 'backchannel';
}
