import type { MemoryReading } from './memory-probe.js';

/** A reading taken after `turns` turns, `elapsedS` seconds into the soak. */
export interface SoakSample extends MemoryReading {
  turns: number;
  elapsedS: number;
}

/** What a long-running agent must keep to. */
export interface SoakBound {
  /** RSS growth allowed after warm-up, MB per 1000 turns. Default: 5. */
  maxRssMbPer1000Turns: number;
  /** Share of the run's turns counted as warm-up (caches, pools, JIT filling up) and not judged. Default: 0.25. */
  warmupFraction: number;
  /** Warm-up lasts at least this many turns. Default: 100. */
  minWarmupTurns: number;
  /** Fewer samples than this after warm-up judge nothing: the verdict fails as inconclusive. Default: 4. */
  minJudgedSamples: number;
  /**
   * A fall of at least this much between two readings is memory given back at once (an allocator or the runtime
   * returning pages); readings on either side of it are not compared, so a release cannot hide growth. Default: 10.
   */
  releaseMb: number;
}

export const defaultSoakBound: Readonly<SoakBound> = Object.freeze({
  maxRssMbPer1000Turns: 5,
  warmupFraction: 0.25,
  minWarmupTurns: 100,
  minJudgedSamples: 4,
  releaseMb: 10,
});

export interface SoakVerdict {
  ok: boolean;
  /** One line per failed condition; empty when ok. */
  failures: string[];
  /** What the run was judged against. */
  bound: SoakBound;
  /** Turns before the first judged sample. */
  warmupTurns: number;
  judgedSamples: number;
  /** Robust (Theil–Sen: median of pairwise) slopes after warm-up, MB per 1000 turns; the RSS one is judged. */
  slopeMbPer1000Turns: { rss: number; rssAnon: number | undefined; heapUsed: number; external: number };
  /** Least-squares RSS slope after warm-up, MB per 1000 turns, for comparison. */
  rssLeastSquaresMbPer1000Turns: number;
  /** Median open descriptors in the first and the last third of the judged samples. */
  fds: { firstThird: number; lastThird: number } | undefined;
}

/**
 * Judges a soak's samples: after warm-up, RSS grows less than the bound per 1000 turns, and open descriptors do
 * not grow. Slopes are Theil–Sen (the median of the slopes between every pair of samples, pairs across a release
 * of memory left out), so one garbage collection or one allocator spike does not decide the verdict; descriptors compare the medians of the first
 * and last thirds, so one descriptor open at the instant of a reading does not either.
 */
export function judgeSoak(samples: readonly SoakSample[], bound: Partial<SoakBound> = {}): SoakVerdict {
  const b = { ...defaultSoakBound, ...bound };
  const lastTurns = samples.at(-1)?.turns ?? 0;
  const warmupTurns = Math.max(b.minWarmupTurns, Math.floor(b.warmupFraction * lastTurns));
  const judged = samples.filter((s) => s.turns >= warmupTurns);
  const failures: string[] = [];
  const per1000 = (pick: (s: SoakSample) => number | undefined) => {
    const points = judged.map((s) => [s.turns, pick(s)] as const).filter((p): p is readonly [number, number] => p[1] !== undefined);
    return points.length < 2 ? NaN : round(theilSenSlope(points, b.releaseMb) * 1000);
  };
  const rss = per1000((s) => s.rssMb);
  const anon = per1000((s) => s.rssAnonMb);
  const verdict: SoakVerdict = {
    ok: false,
    failures,
    bound: b,
    warmupTurns,
    judgedSamples: judged.length,
    slopeMbPer1000Turns: { rss, rssAnon: Number.isNaN(anon) ? undefined : anon, heapUsed: per1000((s) => s.heapUsedMb), external: per1000((s) => s.externalMb) },
    rssLeastSquaresMbPer1000Turns: judged.length < 2 ? NaN : round(leastSquaresSlope(judged.map((s) => [s.turns, s.rssMb])) * 1000),
    fds: undefined,
  };
  if (judged.length < b.minJudgedSamples) {
    failures.push(`inconclusive: ${judged.length} samples after a ${warmupTurns}-turn warm-up, ${b.minJudgedSamples} needed; run longer`);
    return verdict;
  }
  if (!(rss < b.maxRssMbPer1000Turns)) {
    failures.push(`RSS grows ${rss} MB per 1000 turns after warm-up (bound: under ${b.maxRssMbPer1000Turns})`);
  }
  const fds = judged.map((s) => s.fds).filter((n): n is number => n !== undefined);
  if (fds.length >= b.minJudgedSamples) {
    const third = Math.max(1, Math.floor(fds.length / 3));
    verdict.fds = { firstThird: median(fds.slice(0, third)), lastThird: median(fds.slice(-third)) };
    if (verdict.fds.lastThird > verdict.fds.firstThird) {
      failures.push(`open descriptors grow: median ${verdict.fds.firstThird} in the first third after warm-up, ${verdict.fds.lastThird} in the last`);
    }
  }
  verdict.ok = failures.length === 0;
  return verdict;
}

/**
 * The median of the slopes between every pair of points with distinct x; with `releaseAt`, only pairs with no fall
 * of `releaseAt` or more between consecutive points in between.
 */
export function theilSenSlope(points: readonly (readonly [number, number])[], releaseAt = Infinity): number {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      if (points[j - 1][1] - points[j][1] >= releaseAt) break;
      const dx = points[j][0] - points[i][0];
      if (dx !== 0) slopes.push((points[j][1] - points[i][1]) / dx);
    }
  }
  return slopes.length === 0 ? NaN : median(slopes);
}

export function leastSquaresSlope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxx === 0 ? NaN : sxy / sxx;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const round = (v: number) => Math.round(v * 100) / 100;
