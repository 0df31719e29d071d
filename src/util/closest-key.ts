/**
 * The one of `candidates` a mistyped `key` most likely meant, or undefined when none is close: the same name in
 * another spelling (`stt-model`, `STTModel` for `sttModel`) or a few letters off (`sttModle`).
 */
export function closestKey(key: string, candidates: readonly string[]): string | undefined {
  const plain = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');
  const same = candidates.find((c) => plain(c) === plain(key));
  if (same) return same;
  // Up to one edit per four letters (at least one): close enough to be a typo, far enough not to guess wildly.
  const allowed = Math.max(1, Math.floor(key.length / 4));
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const c of candidates) {
    const d = editDistance(plain(key), plain(c));
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/** Levenshtein distance with adjacent swaps counted as one edit (`Modle` for `Model`). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
