import type { AgentEvents } from '../agent/events.js';
import type { TurnMetrics } from '../agent/turn-metrics.js';

const fmt = (v: number | undefined) => (v === undefined ? '-' : `${Math.round(v)}`);

/** The one latency line per turn: stage times from the end of the user's speech. */
export function latencyLine(m: Pick<TurnMetrics, 'ms' | 'interrupted'> & Partial<Pick<TurnMetrics, 'compute' | 'speculated'>>): string {
  const s = m.ms;
  return (
    `latency ms: endpoint ${fmt(s.endpoint)} · transcript ${fmt(s.transcript)} · first token ${fmt(s.firstToken)} · ` +
    `first sentence ${fmt(s.firstSentence)} · first audio ${fmt(s.firstAudio)} · total ${fmt(s.total)}` +
    (m.compute?.prefillTokens !== undefined ? ` · prefill ${m.compute.prefillTokens} tokens` : '') +
    (m.speculated ? ' (prepared in the pause)' : '') +
    (m.interrupted ? ' (interrupted)' : '')
  );
}

/** One JSON line per turn for --metrics-json. */
export function metricsJsonLine(m: TurnMetrics): string {
  const { turn, transcript, reply, ms, compute, speech, tools, mask, cpuMs, speculated } = m;
  return JSON.stringify({ turn, transcript, reply, ms, compute, speech, tools, mask, cpuMs, speculated });
}

/** One line per tool call: what was called, with what, and how it ended. */
export function toolCallLine(r: AgentEvents['tool-result']): string {
  const ended = r.status === 'ok' ? `ok in ${r.ms} ms` : `${r.status}: ${r.error ?? ''}`;
  return `tool ${r.name} ${JSON.stringify(r.args ?? {})} → ${ended}`;
}
