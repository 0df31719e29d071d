/** One reply piece as played: its text, its audio length and how much of that audio was heard. */
export interface PlayedPiece {
  text: string;
  samples: number;
  played: number;
}

/**
 * The part of a reply the user actually heard: whole pieces that played to the end, then the share of the
 * next piece's words in proportion to its played samples. Words are the finest unit a listener can hold on to.
 * A piece with no audio (a voice that made no sound for it) counts as heard once audio after it was heard.
 */
export function heardText(pieces: readonly PlayedPiece[]): string {
  const out: string[] = [];
  const silent: string[] = [];
  for (const p of pieces) {
    if (p.samples === 0) {
      silent.push(p.text);
      continue;
    }
    if (p.played >= p.samples) {
      out.push(...silent.splice(0), p.text);
      continue;
    }
    const words = p.text.split(/\s+/).filter(Boolean);
    const n = Math.floor((words.length * p.played) / p.samples);
    if (n > 0) out.push(...silent.splice(0), words.slice(0, n).join(' '));
    break;
  }
  return out.join(' ');
}
