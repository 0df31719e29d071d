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

/**
 * One JSON line per turn (--metrics-json, --json): the turn's numbers, and with `content` what was said in it
 * (the transcript and the reply). Tool records hold names, outcomes and times only.
 */
export function metricsJsonLine(m: TurnMetrics, content: boolean): string {
  const { turn, transcript, reply, interrupted, ms, compute, speech, tools, mask, cpuMs, speculated, greeted } = m;
  const said = content ? { transcript, reply } : {};
  return JSON.stringify({ turn, ...said, interrupted, ms, compute, speech, tools, mask, cpuMs, speculated, greeted });
}

/** One line per tool call: what was called, with what (only with `content`), and how it ended. */
export function toolCallLine(
  r: Pick<AgentEvents['tool-result'], 'name' | 'status' | 'ms'> & Partial<Pick<AgentEvents['tool-result'], 'args' | 'error'>>,
  content: boolean,
): string {
  const ended = r.status === 'ok' ? `ok in ${r.ms} ms` : content ? `${r.status}: ${r.error ?? ''}` : r.status;
  return `tool ${r.name}${content ? ` ${JSON.stringify(r.args ?? {})}` : ''} → ${ended}`;
}
