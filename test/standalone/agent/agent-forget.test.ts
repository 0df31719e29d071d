import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Agent } from '../../../src/agent/agent.js';
import type { AgentOptions } from '../../../src/agent/agent-options.js';
import type { AgentEvents } from '../../../src/agent/events.js';
import { concatFloat32 } from '../../../src/audio/pcm.js';
import { isAbortError } from '../../../src/errors.js';
import { FRAME_MS, FRAME_SAMPLES, RecordingSink, ScriptedLlm, ScriptedStt, ScriptedVad, ToneTts, silence, tone } from '../../support/fake-engines.js';
import { advanceUntil, settle } from '../../support/fake-time.js';

const COUNT = 'One two three four. Five six seven eight. Nine ten eleven twelve.';

type Logged = { [K in keyof AgentEvents]: (AgentEvents[K] & { t: number })[] };

function setup(script: { transcripts?: string[]; replies?: string[]; tokenMs?: number; options?: AgentOptions } = {}) {
  const engines = {
    vad: new ScriptedVad(),
    stt: new ScriptedStt(script.transcripts ?? []),
    llm: new ScriptedLlm(script.replies ?? [COUNT], { tokenMs: script.tokenMs }),
    tts: new ToneTts({ msPerWord: 100 }),
  };
  const sink = new RecordingSink(20);
  const agent = new Agent(engines, { sink, interruption: { duplex: 'full' }, ...script.options });
  const names = ['state', 'speech-start', 'speech-end', 'transcript', 'audio', 'turn-end', 'metrics', 'forgotten', 'error'] as const;
  const log = Object.fromEntries(names.map((n) => [n, []])) as unknown as Logged;
  for (const n of names) agent.on(n, (e: object) => (log[n] as object[]).push({ ...e, t: performance.now() }));
  return { agent, sink, log, ...engines };
}

/** A microphone in fake time: one 32 ms block pushed every 32 ms. */
async function speak(agent: Agent, audio: Float32Array): Promise<void> {
  for (let i = 0; i < audio.length; i += FRAME_SAMPLES) {
    agent.pushAudio(audio.subarray(i, i + FRAME_SAMPLES), 16_000);
    await vi.advanceTimersByTimeAsync(FRAME_MS);
  }
}

describe('Agent.forget()', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('forgets the history, the records\' words and the model\'s context; the next turn starts from nothing', async () => {
    const { agent, log, llm } = setup({ replies: ['Down the hall.', 'Hello.'] });
    await settle(agent.sendText('Where is the museum shop?'));
    expect(agent.history).toHaveLength(2);

    await settle(agent.forget());
    expect(agent.history).toEqual([]);
    expect(log.forgotten.map((f) => f.reason)).toEqual(['call']);
    // The engine was told after the one generation it had run.
    expect(llm.forgets).toEqual([1]);
    const records = agent.metrics().records;
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ turn: 1, transcript: '', reply: '' });
    expect(records[0].ms.total).toBeGreaterThan(0);

    await settle(agent.sendText('Hi'));
    expect(llm.calls[1].history).toEqual([{ role: 'user', text: 'Hi' }]);
    expect(log.error).toEqual([]);
    await settle(agent.close());
  });

  it('cuts the reply in progress and fails queued turns; nothing of them enters the new conversation', async () => {
    const { agent, log, llm } = setup({ replies: [COUNT, 'Never said.'] });
    const first = agent.sendText('Count for me.');
    const second = agent.sendText('And then?');
    const secondOutcome = second.then(
      () => 'resolved',
      (e: unknown) => (isAbortError(e) ? 'aborted' : String(e)),
    );
    await advanceUntil(() => log.state.some((s) => s.state === 'speaking'));
    await vi.advanceTimersByTimeAsync(150);
    const forgetting = agent.forget();
    const result = await settle(first);
    await settle(forgetting);

    expect(result.interrupted).toBe(true);
    expect(COUNT.startsWith(result.spoken)).toBe(true);
    expect(await secondOutcome).toBe('aborted');
    expect(agent.history).toEqual([]);
    // The cut generation was aborted, the queued one never ran, and the model forgot after the cut one.
    expect(llm.calls).toHaveLength(1);
    expect(llm.calls[0].signal?.aborted).toBe(true);
    expect(llm.forgets).toEqual([1]);
    expect(log.forgotten).toHaveLength(1);
    expect(log.forgotten[0].t).toBeGreaterThanOrEqual(log['turn-end'][0].t);
    expect(agent.metrics().records.map((r) => [r.transcript, r.reply])).toEqual([['', '']]);
    expect(log.error).toEqual([]);
    await settle(agent.close());
  });

  it('drops a speculation running in the pause and the utterance still open: no turn comes of them', async () => {
    const { agent, log, llm, sink } = setup({ transcripts: ['What is the capital of France?'], replies: ['Paris.'] });
    agent.start();
    // One second of speech, then 300 ms of a pause: the reply is being prepared at the 200 ms point.
    await speak(agent, concatFloat32([silence(300), tone(1000), silence(300)]));
    await advanceUntil(() => llm.calls.length === 1);
    await settle(agent.forget());
    await speak(agent, silence(1500));
    await settle(agent.flush());

    expect(llm.calls[0].signal?.aborted).toBe(true);
    expect(log['speech-end']).toEqual([]);
    expect(log['turn-end']).toEqual([]);
    expect(log.transcript).toEqual([]);
    expect(sink.plays).toEqual([]);
    expect(agent.history).toEqual([]);
    expect(agent.state).toBe('listening');
    await settle(agent.close());
  });

  it('keeps listening: the next visitor is heard and answered from an empty history', async () => {
    const { agent, log, llm } = setup({
      transcripts: ['Where are the toilets?', 'What time do you close?'],
      replies: ['On the left.', 'At six.'],
      options: { speculation: { enabled: false } },
    });
    agent.start();
    await speak(agent, concatFloat32([tone(800), silence(1000)]));
    await settle(agent.flush());
    expect(agent.history).toHaveLength(2);
    await settle(agent.forget());
    await speak(agent, concatFloat32([tone(800), silence(1000)]));
    await settle(agent.flush());
    expect(log.transcript.map((t) => t.text)).toEqual(['Where are the toilets?', 'What time do you close?']);
    expect(llm.calls[1].history).toEqual([{ role: 'user', text: 'What time do you close?' }]);
    expect(agent.history).toEqual([
      { role: 'user', text: 'What time do you close?' },
      { role: 'assistant', text: 'At six.' },
    ]);
    await settle(agent.close());
  });
});
