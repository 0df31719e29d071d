import type { MonitorRecorder } from './pulse-server.js';

/** A recording as one signal: every block a monitor recorder received, in order. */
export function joinedSamples(rec: MonitorRecorder): Float32Array {
  const n = rec.blocks.reduce((s, b) => s + b.samples.length, 0);
  const out = new Float32Array(n);
  let at = 0;
  for (const b of rec.blocks) {
    out.set(b.samples, at);
    at += b.samples.length;
  }
  return out;
}

/** Peak over which a 10 ms block "has sound": -34 dBFS, well above a null sink's silence. */
export const SOUND_PEAK = 0.02;
const BLOCK_MS = 10;

/** One flag per 10 ms block: whether its peak exceeds `peak`. */
export function soundBlocks(samples: Float32Array, rate: number, peak = SOUND_PEAK): boolean[] {
  const n = Math.round((rate * BLOCK_MS) / 1000);
  const flags: boolean[] = [];
  for (let i = 0; i + n <= samples.length; i += n) {
    let max = 0;
    for (let j = i; j < i + n; j++) max = Math.max(max, Math.abs(samples[j]));
    flags.push(max > peak);
  }
  return flags;
}

/** Sample index of the first 10 ms block with sound in `samples`, or -1. */
export function firstSoundIndex(samples: Float32Array, rate: number, peak = SOUND_PEAK): number {
  const k = soundBlocks(samples, rate, peak).indexOf(true);
  return k < 0 ? -1 : Math.round((k * rate * BLOCK_MS) / 1000);
}

/**
 * Sample index, at or after `from`, where a run of at least `minMs` without sound starts on `samples`; -1 if
 * the recording holds none (the sound went on to the end).
 */
export function silenceStartIndex(samples: Float32Array, rate: number, from: number, minMs = 500): number {
  const blockLen = Math.round((rate * BLOCK_MS) / 1000);
  const flags = soundBlocks(samples, rate);
  const need = Math.ceil(minMs / BLOCK_MS);
  let run = 0;
  for (let k = Math.floor(from / blockLen); k < flags.length; k++) {
    run = flags[k] ? 0 : run + 1;
    if (run >= need) return (k - need + 1) * blockLen;
  }
  return -1;
}

/**
 * Where `needle` (played into a sink) sits in `haystack` (that sink's monitor, with other sound mixed in): the
 * offset in [from, to] with the highest normalized correlation. A coarse search on a 4x decimated signal,
 * then the exact sample around it.
 */
export function locate(haystack: Float32Array, needle: Float32Array, from = 0, to = haystack.length): number {
  const D = 4;
  const h = decimate(haystack, D);
  const nd = decimate(needle, D);
  const nNorm = Math.sqrt(energy(nd, 0, nd.length));
  let best = -Infinity;
  let bestAt = 0;
  for (let s = Math.floor(from / D); s <= Math.floor(to / D) && s + nd.length <= h.length; s++) {
    let dot = 0;
    for (let i = 0; i < nd.length; i++) dot += h[s + i] * nd[i];
    const score = dot / (nNorm * Math.sqrt(energy(h, s, nd.length)) + 1e-9);
    if (score > best) {
      best = score;
      bestAt = s;
    }
  }
  let fine = bestAt * D;
  let bestFine = -Infinity;
  for (let s = Math.max(0, bestAt * D - D); s <= bestAt * D + D && s + needle.length <= haystack.length; s++) {
    let dot = 0;
    for (let i = 0; i < needle.length; i++) dot += haystack[s + i] * needle[i];
    if (dot > bestFine) {
      bestFine = dot;
      fine = s;
    }
  }
  return fine;
}

function decimate(x: Float32Array, d: number): Float32Array {
  const out = new Float32Array(Math.floor(x.length / d));
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j];
    out[i] = s / d;
  }
  return out;
}

function energy(x: Float32Array, from: number, length: number): number {
  let s = 0;
  for (let i = from; i < from + length; i++) s += x[i] * x[i];
  return s;
}

/** Median and worst of a list of figures. */
export function medianAndWorst(values: readonly number[]): { median: number; worst: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, worst: sorted[sorted.length - 1] };
}
