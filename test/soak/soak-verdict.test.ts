import { describe, expect, it } from 'vitest';
import { judgeSoak, leastSquaresSlope, theilSenSlope, type SoakSample } from '../../bench/soak/soak-verdict.js';

/** A soak's readings every 100 turns: RSS from `rssAt(turns)`, descriptors from `fdsAt(turns)`. */
function series(turns: number, rssAt: (t: number) => number, fdsAt: (t: number) => number = () => 30): SoakSample[] {
  const out: SoakSample[] = [];
  for (let t = 0; t <= turns; t += 100) {
    out.push({ turns: t, elapsedS: t / 5, rssMb: rssAt(t), heapUsedMb: 30, heapTotalMb: 40, externalMb: 10, arrayBuffersMb: 2, rssAnonMb: rssAt(t) - 90, rssFileMb: 90, fds: fdsAt(t) });
  }
  return out;
}

/** Deterministic noise in ±`amp` MB, so a test does not depend on a random draw. */
const wobble = (t: number, amp: number) => amp * Math.sin(t * 0.37) * Math.cos(t * 0.011);

describe('judgeSoak', () => {
  it('passes a flat series with allocator noise, after a warm-up that climbed', () => {
    const v = judgeSoak(series(3000, (t) => (t < 500 ? 300 + t / 25 : 320) + wobble(t, 1.5)));
    expect(v.failures).toEqual([]);
    expect(v.ok).toBe(true);
    expect(Math.abs(v.slopeMbPer1000Turns.rss)).toBeLessThan(1);
    expect(v.warmupTurns).toBe(750);
  });

  it('fails a series that leaks 8 MB per 1000 turns, and says by how much', () => {
    const v = judgeSoak(series(3000, (t) => 300 + (8 * t) / 1000 + wobble(t, 1.5)));
    expect(v.ok).toBe(false);
    expect(v.slopeMbPer1000Turns.rss).toBeGreaterThan(7);
    expect(v.slopeMbPer1000Turns.rss).toBeLessThan(9);
    expect(v.failures.join('\n')).toMatch(/^RSS grows 7\.\d+|^RSS grows 8\.\d+/);
  });

  it('fails a slow leak just over the bound, passes one just under it', () => {
    expect(judgeSoak(series(5000, (t) => 300 + (5.5 * t) / 1000)).ok).toBe(false);
    expect(judgeSoak(series(5000, (t) => 300 + (4.5 * t) / 1000)).ok).toBe(true);
  });

  it('one spike does not decide: the slope is the median of pairwise slopes', () => {
    const v = judgeSoak(series(3000, (t) => 320 + (t === 2900 ? 80 : 0)));
    expect(v.ok).toBe(true);
    // Least squares is pulled by the spike; Theil–Sen is not.
    expect(v.rssLeastSquaresMbPer1000Turns).toBeGreaterThan(5);
    expect(v.slopeMbPer1000Turns.rss).toBe(0);
  });

  it('memory given back once does not hide a leak on either side of it', () => {
    const v = judgeSoak(series(3000, (t) => 300 + (8 * t) / 1000 - (t >= 2200 ? 25 : 0)));
    expect(v.rssLeastSquaresMbPer1000Turns).toBeLessThan(0);
    expect(v.slopeMbPer1000Turns.rss).toBeCloseTo(8, 5);
    expect(v.ok).toBe(false);
    expect(judgeSoak(series(3000, (t) => 320 - (t >= 2200 ? 25 : 0))).ok).toBe(true);
  });

  it('fails when open descriptors grow, even with memory flat', () => {
    const v = judgeSoak(series(3000, () => 320, (t) => 30 + Math.floor(t / 500)));
    expect(v.ok).toBe(false);
    expect(v.fds!.lastThird).toBeGreaterThan(v.fds!.firstThird);
    expect(v.failures).toEqual([expect.stringMatching(/^open descriptors grow: median 3\d in the first third after warm-up, 3\d in the last$/)]);
  });

  it('a descriptor open at the moment of one reading is not growth', () => {
    expect(judgeSoak(series(3000, () => 320, (t) => (t === 2000 ? 31 : 30))).ok).toBe(true);
  });

  it('too few readings after warm-up are inconclusive, and that fails', () => {
    const v = judgeSoak(series(300, () => 320));
    expect(v.ok).toBe(false);
    expect(v.failures[0]).toMatch(/^inconclusive: \d samples after a 100-turn warm-up, 4 needed; run longer$/);
  });

  it('slopes: Theil–Sen and least squares agree on a line', () => {
    const line = [0, 1, 2, 3, 4].map((x) => [x, 2 * x + 1] as const);
    expect(theilSenSlope(line)).toBe(2);
    expect(leastSquaresSlope(line)).toBe(2);
  });
});
