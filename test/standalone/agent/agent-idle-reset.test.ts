import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Agent } from '../../../src/agent/agent.js';
import type { AgentOptions } from '../../../src/agent/agent-options.js';
import type { AgentEvents } from '../../../src/agent/events.js';
import { concatFloat32 } from '../../../src/audio/pcm.js';
import { EarshotError } from '../../../src/errors.js';
import { FRAME_MS, FRAME_SAMPLES, RecordingSink, ScriptedLlm, ScriptedStt, ScriptedVad, ToneTts, silence, tone } from '../../support/fake-engines.js';
import { settle } from '../../support/fake-time.js';

type Logged = { [K in keyof AgentEvents]: (AgentEvents[K] & { t: number })[] };

function setup(script: { transcripts: string[]; replies: string[]; options?: AgentOptions }) {
  const engines = {
    vad: new ScriptedVad(),
    stt: new ScriptedStt(script.transcripts),
    llm: new ScriptedLlm(script.replies),
    tts: new ToneTts({ msPerWord: 100 }),
  };
  const sink = new RecordingSink(20);
  const agent = new Agent(engines, { sink, interruption: { duplex: 'full' }, ...script.options });
  const names = ['speech-start', 'transcript', 'no-speech', 'audio', 'metrics', 'forgotten', 'greeting', 'error'] as const;
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

/** One utterance (speech, then the silence that ends it), answered to the end. */
async function utterance(agent: Agent): Promise<void> {
  await speak(agent, concatFloat32([tone(800), silence(1000)]));
  await settle(agent.flush());
}

describe('idle reset', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('forgets the conversation once nobody has spoken for afterMs; speech in between starts the wait anew', async () => {
    const { agent, log, llm } = setup({
      transcripts: ['Where is the shop?', 'And the cafe?'],
      replies: ['On the left.', 'Upstairs.'],
      options: { idleReset: { afterMs: 60_000 } },
    });
    agent.start();
    await utterance(agent);
    await vi.advanceTimersByTimeAsync(50_000);
    await utterance(agent);
    // 50 s after the first turn and 59 s after the second: never 60 s in a row without speech.
    await vi.advanceTimersByTimeAsync(59_000);
    expect(log.forgotten).toEqual([]);
    expect(agent.history).toHaveLength(4);

    await vi.advanceTimersByTimeAsync(2_000);
    expect(log.forgotten.map((f) => f.reason)).toEqual(['idle']);
    expect(agent.history).toEqual([]);
    expect(llm.forgets).toEqual([2]);
    expect(agent.state).toBe('listening');

    // Nothing more to forget: no reset until someone speaks again.
    await vi.advanceTimersByTimeAsync(600_000);
    expect(log.forgotten).toHaveLength(1);
    expect(log.error).toEqual([]);
    await settle(agent.close());
  });

  it('is off by default: the conversation is kept however long the silence', async () => {
    const { agent, log } = setup({ transcripts: ['Where is the shop?'], replies: ['On the left.'] });
    agent.start();
    await utterance(agent);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(log.forgotten).toEqual([]);
    expect(agent.history).toHaveLength(2);
    await settle(agent.close());
  });

  it('rejects a negative or non-number wait in one line', () => {
    const make = (afterMs: number) => () => setup({ transcripts: [], replies: [], options: { idleReset: { afterMs } } });
    expect(make(-1)).toThrow(EarshotError);
    expect(make(Number.NaN)).toThrow(/idleReset.afterMs must be 0 \(off\) or a number of ms above 0/);
  });

  for (const speculation of [true, false]) {
    it(`greets each new visitor before the first answer, not for a noise (speculation ${speculation ? 'on' : 'off'})`, async () => {
      const greeting = 'Welcome to the museum.';
      const { agent, log, tts } = setup({
        // A speculation that hears no words leaves the turn to transcribe the utterance again.
        transcripts: [...(speculation ? [''] : []), '', 'Where is the shop?', 'Thanks.', 'When do you close?'],
        replies: ['On the left.', 'You are welcome.', 'At six.'],
        options: { idleReset: { afterMs: 10_000, greeting }, speculation: { enabled: speculation } },
      });
      agent.start();
      await utterance(agent); // a noise: no words, no greeting
      expect(log['no-speech']).toHaveLength(1);
      expect(log.greeting).toEqual([]);
      await utterance(agent);
      await utterance(agent);
      await vi.advanceTimersByTimeAsync(11_000);
      expect(log.forgotten).toHaveLength(1);
      await utterance(agent);

      expect(log.greeting.map((g) => [g.turn, g.text])).toEqual([
        [1, greeting],
        [3, greeting],
      ]);
      // Heard in order: the greeting, then the answer; the second turn of a visit is answered straight away.
      expect(log.audio.map((a) => [a.turn, a.text])).toEqual([
        [1, greeting],
        [1, 'On the left.'],
        [2, 'You are welcome.'],
        [3, greeting],
        [3, 'At six.'],
      ]);
      expect(tts.synthesized.filter((t) => t === greeting)).toHaveLength(2);
      // The greeting never enters the history the model sees.
      expect(agent.history).toEqual([
        { role: 'user', text: 'When do you close?' },
        { role: 'assistant', text: 'At six.' },
      ]);
      expect(log.metrics.map((m) => m.greeted ?? false)).toEqual([true, false, true]);
      expect(log.error).toEqual([]);
      await settle(agent.close());
    });
  }
});
