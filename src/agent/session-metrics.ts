import type { ToolCallRecord } from '../tools/turn-tool-calls.js';
import { zeroCpuMs, type CpuConsumer, type CpuMs } from './engine-cpu-meter.js';
import type { TurnMetrics, TurnStageTimes } from './turn-metrics.js';

/** The middle and the slow tail of a set of times, ms. */
export interface Spread {
  p50: number;
  p95: number;
  n: number;
}

export interface ToolSummary {
  calls: number;
  /** Calls that did not end 'ok' (failed, timed out, bad arguments, cancelled, ...). */
  failed: number;
  ms: Spread;
}

/** A whole conversation in numbers: per-turn records and aggregates. */
export interface SessionMetrics {
  /** Turns answered (metrics emitted), interrupted ones included. */
  turns: number;
  /** Replies cut by the user speaking over them. */
  interruptions: number;
  /** Replies paused for a sound that brought no words, then resumed. */
  falseInterruptions: number;
  /** Turns whose wait was covered by a filler. */
  maskedTurns: number;
  /** p50/p95 of each stage time (ms from the end of the user's speech) over the kept records that reached it. */
  stages: Partial<Record<keyof TurnStageTimes, Spread>>;
  tools: { calls: number; failed: number; ms: Spread | undefined; byName: Record<string, ToolSummary> };
  /** CPU time per engine: the whole session (between turns included), and p50/p95 per turn. */
  cpuMs: { total: CpuMs; perTurn: Partial<Record<CpuConsumer | 'other', Spread>> };
  /**
   * The most recent turns' own records, in order: at most `DEFAULT_KEPT_RECORDS` (the stage, CPU and tool figures
   * are over these too), so an agent that runs for weeks does not keep every turn it ever took.
   */
  records: TurnMetrics[];
}

const STAGES: readonly (keyof TurnStageTimes)[] = ['endpoint', 'transcript', 'firstToken', 'firstSentence', 'firstAudio', 'total'];

/** Turn records a session keeps for its figures: enough for stable percentiles, bounded for a long-running agent. */
export const DEFAULT_KEPT_RECORDS = 1000;

/** Collects what a session needs beyond single turns: turn records and barge-in outcomes. */
export class SessionMetricsRecorder {
  private records: TurnMetrics[] = [];
  private turns = 0;
  private maskedTurns = 0;
  private interruptions = 0;
  private falseInterruptions = 0;

  /** @param keptRecords how many of the latest turn records are kept (older ones are only counted) */
  constructor(private readonly keptRecords = DEFAULT_KEPT_RECORDS) {}

  addTurn(m: TurnMetrics): void {
    this.turns++;
    if (m.mask) this.maskedTurns++;
    this.records.push(m);
    // Dropped in batches: one copy per `keptRecords / 4` turns instead of a shift per turn.
    if (this.records.length > this.keptRecords + Math.floor(this.keptRecords / 4)) this.records = this.records.slice(-this.keptRecords);
  }

  /** The conversation was forgotten: the records keep their numbers, not what was said. */
  forgetContent(): void {
    for (const r of this.records) {
      r.transcript = '';
      r.reply = '';
    }
  }

  addBargeIn(action: 'pause' | 'resume' | 'cut'): void {
    if (action === 'cut') this.interruptions++;
    else if (action === 'resume') this.falseInterruptions++;
  }

  /** @param cpuTotal the session's CPU time per engine so far */
  snapshot(cpuTotal: CpuMs = zeroCpuMs()): SessionMetrics {
    const records = this.records.slice(-this.keptRecords).map((r) => structuredClone(r));
    const stages: SessionMetrics['stages'] = {};
    for (const s of STAGES) {
      const spread = spreadOf(records.map((r) => r.ms[s]));
      if (spread) stages[s] = spread;
    }
    const calls = records.flatMap((r) => r.tools ?? []);
    const perTurn: SessionMetrics['cpuMs']['perTurn'] = {};
    for (const c of Object.keys(cpuTotal) as (CpuConsumer | 'other')[]) {
      const spread = spreadOf(records.map((r) => r.cpuMs?.[c]));
      if (spread) perTurn[c] = spread;
    }
    return {
      turns: this.turns,
      interruptions: this.interruptions,
      falseInterruptions: this.falseInterruptions,
      maskedTurns: this.maskedTurns,
      stages,
      tools: { calls: calls.length, failed: failedCount(calls), ms: spreadOf(calls.map((c) => c.ms)), byName: byName(calls) },
      cpuMs: { total: roundAll(cpuTotal), perTurn },
      records,
    };
  }
}

/** Nearest-rank percentile of the defined values (p in 0..100); undefined when there are none. */
export function percentile(values: readonly (number | undefined)[], p: number): number | undefined {
  const sorted = values.filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

function spreadOf(values: readonly (number | undefined)[]): Spread | undefined {
  const p50 = percentile(values, 50);
  if (p50 === undefined) return undefined;
  const n = values.filter((v) => v !== undefined).length;
  return { p50: round(p50), p95: round(percentile(values, 95)!), n };
}

function byName(calls: readonly ToolCallRecord[]): Record<string, ToolSummary> {
  const out: Record<string, ToolSummary> = {};
  for (const name of new Set(calls.map((c) => c.name))) {
    const mine = calls.filter((c) => c.name === name);
    out[name] = { calls: mine.length, failed: failedCount(mine), ms: spreadOf(mine.map((c) => c.ms))! };
  }
  return out;
}

function failedCount(calls: readonly ToolCallRecord[]): number {
  return calls.filter((c) => c.status !== 'ok').length;
}

function roundAll(cpu: CpuMs): CpuMs {
  const out = { ...cpu };
  for (const k of Object.keys(out) as (keyof CpuMs)[]) out[k] = round(out[k]);
  return out;
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
