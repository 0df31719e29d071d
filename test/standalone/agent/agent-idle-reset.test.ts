import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Agent } from '../../../src/agent/agent.js';
import { concatFloat32 } from '../../../src/audio/pcm.js';
import { EarshotError } from '../../../src/errors.js';
import { silence, tone } from '../../support/fake-engines.js';
import { settle } from '../../support/fake-time.js';
import { scriptedAgent, speak, type AgentScript } from '../../support/scripted-agent.js';

const EVENTS = ['speech-start', 'transcript', 'no-speech', 'audio', 'metrics', 'forgotten', 'greeting', 'error'] as const;

function setup(script: AgentScript) {
  return scriptedAgent(script, EVENTS);
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

  it('speech over the greeting cuts the turn like any reply: the question waits for the words, no second greeting', async () => {
    const greeting = 'Welcome to the museum of modern art.';
    const { agent, log, llm } = setup({
      transcripts: ['Where is the cafe?', 'and the shop?'],
      replies: ['Never heard.', 'Both downstairs.'],
      options: { idleReset: { greeting }, speculation: { enabled: false } },
    });
    const states: string[] = [];
    agent.on('state', ({ state }) => states.push(state));
    agent.start();
    await speak(agent, concatFloat32([tone(800), silence(600)]));
    for (let i = 0; i < 200 && !states.includes('speaking'); i++) await vi.advanceTimersByTimeAsync(10);
    // The greeting is playing (700 ms of it); the visitor talks over it.
    expect(log.audio.map((x) => x.text)).toEqual([greeting]);
    await vi.advanceTimersByTimeAsync(200);
    await speak(agent, concatFloat32([tone(600), silence(1000)]));
    await settle(agent.flush());

    expect(log.greeting).toHaveLength(1);
    expect(log.transcript.map((t) => t.text)).toEqual(['Where is the cafe?', 'Where is the cafe? and the shop?']);
    expect(llm.calls.at(-1)!.history).toEqual([{ role: 'user', text: 'Where is the cafe? and the shop?' }]);
    expect(agent.history).toEqual([
      { role: 'user', text: 'Where is the cafe? and the shop?' },
      { role: 'assistant', text: 'Both downstairs.' },
    ]);
    // Nothing of the first reply was heard; the greeting was cut short.
    expect(log.audio.filter((a) => a.text === 'Never heard.')).toEqual([]);
    expect(log.error).toEqual([]);
    await settle(agent.close());
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
