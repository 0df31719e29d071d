import { vi } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import type { AgentOptions } from '../../src/agent/agent-options.js';
import type { AgentEvents } from '../../src/agent/events.js';
import { FRAME_MS, FRAME_SAMPLES, RecordingSink, ScriptedLlm, ScriptedStt, ScriptedVad, ToneTts } from './fake-engines.js';

/** A reply of three sentences whose words can be counted as they are heard. */
export const COUNT = 'One two three four. Five six seven eight. Nine ten eleven twelve.';

export type Logged = { [K in keyof AgentEvents]: (AgentEvents[K] & { t: number })[] };

export interface AgentScript {
  transcripts?: string[];
  replies?: string[];
  tokenMs?: number;
  options?: AgentOptions;
}

/**
 * An agent on scripted engines and a recording sink (full duplex unless the options say otherwise), with every
 * event named in `events` logged with its (fake) time.
 */
export function scriptedAgent(script: AgentScript, events: readonly (keyof AgentEvents)[]) {
  const engines = {
    vad: new ScriptedVad(),
    stt: new ScriptedStt(script.transcripts ?? []),
    llm: new ScriptedLlm(script.replies ?? [COUNT], { tokenMs: script.tokenMs }),
    tts: new ToneTts({ msPerWord: 100 }),
  };
  const sink = new RecordingSink(20);
  const agent = new Agent(engines, { sink, interruption: { duplex: 'full' }, ...script.options });
  const log = Object.fromEntries(events.map((n) => [n, []])) as unknown as Logged;
  for (const n of events) agent.on(n, (e: object) => (log[n] as object[]).push({ ...e, t: performance.now() }));
  return { agent, sink, log, ...engines };
}

/** A microphone in fake time: one 32 ms block pushed every 32 ms. */
export async function speak(agent: Agent, audio: Float32Array): Promise<void> {
  for (let i = 0; i < audio.length; i += FRAME_SAMPLES) {
    agent.pushAudio(audio.subarray(i, i + FRAME_SAMPLES), 16_000);
    await vi.advanceTimersByTimeAsync(FRAME_MS);
  }
}
