import { describe, expect, it } from 'vitest';
import { RealtimeSink } from '../../../src/audio/realtime-sink.js';

const RATE = 16_000;
const chunk = (ms: number) => ({ samples: new Float32Array((RATE * ms) / 1000).fill(0.1), sampleRate: RATE });

describe('RealtimeSink with a lead', () => {
  it('hands over the lead at once, then paces; what it had handed ahead does not count as heard when cut', async () => {
    const written: { samples: number; at: number }[] = [];
    const sink = new RealtimeSink({ leadMs: 100, blockMs: 20, write: (b) => written.push({ samples: b.length, at: performance.now() }) });
    const controller = new AbortController();
    const start = performance.now();
    const playing = sink.play(chunk(1000), controller.signal);
    await new Promise((r) => setTimeout(r, 300));
    controller.abort();
    const heard = await playing;
    // At some point the far end held the whole lead (a busy machine only makes writes later, never earlier).
    let handedSoFar = 0;
    let mostAheadMs = 0;
    for (const w of written) {
      handedSoFar += w.samples;
      mostAheadMs = Math.max(mostAheadMs, (handedSoFar / RATE) * 1000 - (w.at - start));
    }
    expect(mostAheadMs).toBeGreaterThanOrEqual(100);
    const handed = written.reduce((n, w) => n + w.samples, 0);
    const elapsedSamples = ((performance.now() - start) * RATE) / 1000;
    expect(handed - heard).toBeGreaterThan((RATE * 60) / 1000);
    expect(heard).toBeLessThanOrEqual(elapsedSamples);
  });

  it('keeps the far end at most one lead ahead across consecutive chunks', async () => {
    const written: { samples: number; at: number }[] = [];
    const sink = new RealtimeSink({ leadMs: 100, blockMs: 20, write: (b) => written.push({ samples: b.length, at: performance.now() }) });
    const start = performance.now();
    for (let i = 0; i < 4; i++) await sink.play(chunk(100), new AbortController().signal);
    // Every sample was handed over no more than lead + one block ahead of its own time.
    let handed = 0;
    for (const w of written) {
      const dueMs = (handed / RATE) * 1000;
      expect(dueMs - (w.at - start)).toBeLessThanOrEqual(100 + 20 + 1);
      handed += w.samples;
    }
  });
});
