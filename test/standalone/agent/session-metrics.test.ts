import { describe, expect, it } from 'vitest';
import { EngineCpuMeter, cpuMsBetween } from '../../../src/agent/engine-cpu-meter.js';
import { percentile, SessionMetricsRecorder } from '../../../src/agent/session-metrics.js';
import type { TurnMetrics } from '../../../src/agent/turn-metrics.js';

const turn = (n: number, total: number, extra: Partial<TurnMetrics> = {}): TurnMetrics => ({
  turn: n,
  transcript: 'q',
  reply: 'a',
  interrupted: false,
  ms: { endpoint: 500, transcript: 600, firstToken: 650, firstSentence: 700, firstAudio: total - 100, total },
  compute: { stt: 100 },
  ...extra,
});

/** Burns CPU on this thread for about `ms`. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
}

describe('percentile', () => {
  it('is the nearest rank, ignoring missing values', () => {
    const v = [5, 1, 4, 2, 3, undefined];
    expect(percentile(v, 50)).toBe(3);
    expect(percentile(v, 95)).toBe(5);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95)).toBe(95);
    expect(percentile([], 50)).toBeUndefined();
  });
});

describe('SessionMetricsRecorder', () => {
  it('aggregates turns, barge-ins, masks, tool calls and CPU time', () => {
    const r = new SessionMetricsRecorder();
    for (let i = 1; i <= 20; i++) {
      r.addTurn(
        turn(i, 1000 + i * 10, {
          cpuMs: { vad: 1, stt: i, llm: 10 * i, tts: 2, tools: 0, other: 1 },
          ...(i === 3 ? { mask: { kind: 'phrase', text: 'One moment.', trigger: 'tool', startMs: 900, playedMs: 600, cut: true } } : {}),
          ...(i <= 2 ? { tools: [{ name: 'hours', status: 'ok', ms: 10 * i }] } : {}),
          ...(i === 4 ? { tools: [{ name: 'call_staff', status: 'timeout', ms: 5000 }] } : {}),
        }),
      );
    }
    for (const a of ['pause', 'cut', 'pause', 'resume', 'pause', 'cut'] as const) r.addBargeIn(a);
    const m = r.snapshot({ vad: 30, stt: 300, llm: 3000, tts: 60, tools: 5, other: 40 });
    expect(m).toMatchObject({ turns: 20, interruptions: 2, falseInterruptions: 1, maskedTurns: 1 });
    expect(m.stages.total).toEqual({ p50: 1100, p95: 1190, n: 20 });
    expect(m.stages.endpoint).toEqual({ p50: 500, p95: 500, n: 20 });
    expect(m.tools).toMatchObject({ calls: 3, failed: 1, ms: { p50: 20, p95: 5000, n: 3 } });
    expect(m.tools.byName).toEqual({
      hours: { calls: 2, failed: 0, ms: { p50: 10, p95: 20, n: 2 } },
      call_staff: { calls: 1, failed: 1, ms: { p50: 5000, p95: 5000, n: 1 } },
    });
    expect(m.cpuMs.total.llm).toBe(3000);
    expect(m.cpuMs.perTurn.llm).toEqual({ p50: 100, p95: 190, n: 20 });
    expect(m.records).toHaveLength(20);
    // A snapshot is a copy: later turns and edits do not change it.
    m.records[0].reply = 'changed';
    expect(r.snapshot().records[0].reply).toBe('a');
  });
});

describe('SessionMetricsRecorder over a long run', () => {
  it('keeps only the latest records, but counts every turn', () => {
    const r = new SessionMetricsRecorder(100);
    for (let i = 1; i <= 1000; i++) {
      r.addTurn(turn(i, i <= 900 ? 5000 : 1000, i % 10 === 0 ? { mask: { kind: 'earcon', trigger: 'late', startMs: 900, playedMs: 100, cut: true } } : {}));
    }
    const m = r.snapshot();
    expect(m.turns).toBe(1000);
    expect(m.maskedTurns).toBe(100);
    expect(m.records).toHaveLength(100);
    expect(m.records[0].turn).toBe(901);
    expect(m.records.at(-1)!.turn).toBe(1000);
    // The figures are the recent turns': the slow early ones have left the window.
    expect(m.stages.total).toEqual({ p50: 1000, p95: 1000, n: 100 });
  });
});

describe('EngineCpuMeter', () => {
  it('gives CPU time to the engine that spent it, shares overlaps by threads, and the rest is other', async () => {
    const meter = new EngineCpuMeter({ vad: 1, stt: 2, llm: 1, tts: 1, tools: 1 });
    const start = meter.totalsMs();
    meter.track('stt', () => spin(120));
    spin(60);
    await meter.track('tts', async () => spin(80));
    meter.enter('stt');
    meter.enter('llm');
    spin(150);
    meter.exit('llm');
    meter.exit('stt');
    const d = cpuMsBetween(start, meter.totalsMs());
    // CPU time, not wall time: a busy machine can only make these smaller, never larger.
    expect(d.stt).toBeGreaterThan(0);
    expect(d.stt).toBeLessThan(120 + 100 + 40);
    expect(d.tts).toBeGreaterThan(0);
    expect(d.tts).toBeLessThan(80 + 40);
    expect(d.llm).toBeGreaterThan(0);
    // stt has twice llm's threads: it gets two thirds of the shared slice.
    expect(d.llm).toBeLessThan(d.stt);
    expect(d.other).toBeGreaterThan(0);
    expect(d.vad + d.tools).toBe(0);
  });

  it('counts a running tool as the tool, not the LLM waiting for it', () => {
    const meter = new EngineCpuMeter({ vad: 1, stt: 1, llm: 1, tts: 1, tools: 1 });
    meter.enter('llm');
    meter.enter('tools');
    spin(80);
    meter.exit('tools');
    meter.exit('llm');
    const t = meter.totalsMs();
    expect(t.tools).toBeGreaterThan(0);
    expect(t.llm).toBeLessThan(t.tools / 10);
  });
});
