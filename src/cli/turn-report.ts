import type { TurnMetrics } from '../agent/turn-metrics.js';

const fmt = (v: number | undefined) => (v === undefined ? '-' : `${Math.round(v)}`);

/** The one latency line per turn: stage times from the end of the user's speech. */
export function latencyLine(m: TurnMetrics): string {
  const s = m.ms;
  return (
    `latency ms: endpoint ${fmt(s.endpoint)} · transcript ${fmt(s.transcript)} · first token ${fmt(s.firstToken)} · ` +
    `first sentence ${fmt(s.firstSentence)} · first audio ${fmt(s.firstAudio)} · total ${fmt(s.total)}` +
    (m.compute.prefillTokens !== undefined ? ` · prefill ${m.compute.prefillTokens} tokens` : '') +
    (m.speculated ? ' (prepared in the pause)' : '') +
    (m.interrupted ? ' (interrupted)' : '')
  );
}

/** One JSON line per turn for --metrics-json. */
export function metricsJsonLine(m: TurnMetrics): string {
  return JSON.stringify({
    turn: m.turn,
    transcript: m.transcript,
    reply: m.reply,
    ms: m.ms,
    compute: m.compute,
    speech: m.speech,
    ...(m.speculated ? { speculated: true } : {}),
  });
}
