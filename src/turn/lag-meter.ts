/** How far behind the microphone the ears run: per frame, the time from its last sample's arrival to being heard. */
export class LagMeter {
  private lags: number[] = [];

  constructor(private readonly capacity = 20_000) {}

  record(lagMs: number): void {
    if (this.lags.length >= this.capacity) this.lags.shift();
    this.lags.push(lagMs);
  }

  /** Percentiles of the frames recorded since the last reset, ms; zeros when none. */
  stats(): { frames: number; p50: number; p95: number; max: number } {
    const s = [...this.lags].sort((a, b) => a - b);
    const at = (q: number) => (s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor(q * s.length))]);
    return { frames: s.length, p50: at(0.5), p95: at(0.95), max: s.at(-1) ?? 0 };
  }

  /** The frames' lags recorded since the last reset, ms, in order. */
  samples(): number[] {
    return [...this.lags];
  }

  reset(): void {
    this.lags = [];
  }
}
