import type { Spread, SessionMetrics } from '../agent/session-metrics.js';

const STAGE_LABELS: readonly [keyof SessionMetrics['stages'], string][] = [
  ['endpoint', 'endpoint'],
  ['transcript', 'transcript'],
  ['firstToken', 'first token'],
  ['firstSentence', 'first sentence'],
  ['firstAudio', 'first audio'],
  ['total', 'total'],
];
const CPU_LABELS = ['vad', 'stt', 'llm', 'tts', 'tools', 'other'] as const;

/** The end-of-session table: counts, stage p50/p95, tools, and CPU time per engine. */
export function sessionSummaryTable(m: SessionMetrics): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const lines = [
    `session: ${plural(m.turns, 'turn')} · ${plural(m.interruptions, 'interruption')} · ` +
      `${plural(m.falseInterruptions, 'false interruption')} · ${m.maskedTurns} masked · ` +
      `${plural(m.tools.calls, 'tool call')} (${m.tools.failed} failed)`,
  ];
  const row = (label: string, ...cells: (string | number)[]) => `  ${label.padEnd(16)}${cells.map((c) => String(c).padStart(9)).join('')}`;
  const spread = (s: Spread | undefined) => (s ? [Math.round(s.p50), Math.round(s.p95)] : ['-', '-']);
  lines.push(row('latency ms', 'p50', 'p95'));
  for (const [key, label] of STAGE_LABELS) if (m.stages[key]) lines.push(row(label, ...spread(m.stages[key])));
  const tools = Object.entries(m.tools.byName);
  if (tools.length > 0) {
    lines.push(row('tool ms', 'calls', 'failed', 'p50', 'p95'));
    for (const [name, t] of tools) lines.push(row(name, t.calls, t.failed, ...spread(t.ms)));
  }
  lines.push(row('cpu ms', 'total', 'turn p50', 'turn p95'));
  for (const c of CPU_LABELS) lines.push(row(c, Math.round(m.cpuMs.total[c]), ...spread(m.cpuMs.perTurn[c])));
  return lines.join('\n');
}

/** The session's numbers as the final `--json` event (aggregates only; the per-turn records were 'metrics' events). */
export function sessionJsonLine(m: SessionMetrics): string {
  const { records: _records, ...aggregates } = m;
  return JSON.stringify({ event: 'session-metrics', ...aggregates });
}
