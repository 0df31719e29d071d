import type { Agent } from '../../src/agent/agent.js';
import type { AgentEvents } from '../../src/agent/events.js';

/** Every event an agent emitted, by name, each stamped with performance.now() on arrival. */
export type AgentLog = { [K in keyof AgentEvents]: (AgentEvents[K] & { t: number })[] };

const RECORDED: (keyof AgentEvents)[] = [
  'speech-start',
  'speech-end',
  'transcript',
  'no-speech',
  'reply-delta',
  'reply-sentence',
  'audio',
  'turn-end',
  'metrics',
  'barge-in',
  'error',
];

export function recordAgent(agent: Agent): AgentLog {
  const log = {} as AgentLog;
  for (const n of RECORDED) {
    const list: unknown[] = [];
    (log as Record<string, unknown[]>)[n] = list;
    agent.on(n, (e) => list.push({ ...(e as object), t: performance.now() }));
  }
  return log;
}
