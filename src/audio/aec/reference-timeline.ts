/** Slots per ms at the pipeline rate (16 kHz). */
const SLOTS_PER_MS = 16;

/** Audio on the performance.now() clock: slot s holds the sample heard at s / 16 ms. */
export function slotAt(ms: number): number {
  return Math.round(ms * SLOTS_PER_MS);
}

/**
 * What the speaker played, laid out on the clock at 16 kHz, so that any stretch of microphone time can read
 * the reference that was playing then (zeros where nothing played). Blocks the sink reports as back to back
 * are kept back to back even when their reported times wobble by a few samples, so the reference stays one
 * unbroken signal, which a linear echo canceller needs.
 */
export class ReferenceTimeline {
  private readonly ring: Float32Array;
  /** One past the last slot written. */
  private end = -Infinity;
  /** The last slot that held sound. */
  private lastSound = -Infinity;

  /** @param historyMs how far back the reference can be read */
  constructor(historyMs = 4000) {
    this.ring = new Float32Array(slotAt(historyMs));
  }

  /** `block` (16 kHz) was heard from `playedAt` (performance.now() ms) on. */
  add(block: Float32Array, playedAt: number): void {
    let start = slotAt(playedAt);
    // Within 3 ms of the previous block's end: the same stream, continued.
    if (Math.abs(start - this.end) <= 3 * SLOTS_PER_MS) start = this.end;
    const n = this.ring.length;
    for (let s = Math.max(this.end, start - n); s < start; s++) this.ring[mod(s, n)] = 0;
    for (let i = 0; i < block.length; i++) {
      this.ring[mod(start + i, n)] = block[i];
      if (block[i] !== 0) this.lastSound = start + i;
    }
    this.end = Math.max(this.end, start + block.length);
  }

  /** Reference samples for slots [from, from + out.length) into `out`. */
  read(from: number, out: Float32Array): void {
    const n = this.ring.length;
    for (let i = 0; i < out.length; i++) {
      const s = from + i;
      out[i] = s < this.end && s >= this.end - n ? this.ring[mod(s, n)] : 0;
    }
  }

  /** True when something was played at or after slot `from`. */
  soundSince(from: number): boolean {
    return this.lastSound >= from;
  }
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
