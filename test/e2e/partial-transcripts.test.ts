import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, type AgentEngineSet } from '../../src/agent/agent.js';
import { loadEngines } from '../../src/agent/load-engines.js';
import { concatFloat32 } from '../../src/audio/pcm.js';
import { TerminalView } from '../../src/cli/terminal-view.js';
import { isAbortError } from '../../src/errors.js';
import type { SttEngine, TranscribeOptions } from '../../src/stt/stt-engine.js';
import { loadWhisperEngine } from '../../src/stt/whisper-engine.js';
import { sleep } from '../support/live-feed.js';
import { scriptedModel } from '../standalone/stt/fixtures.js';
import { fliteSpeech } from '../support/speech-fixtures.js';
import { SCRIPTED_TRANSCRIPT, testModels } from '../support/test-models.js';

/** The real whisper engine, with a record of every call made to it and how many ran at once. */
function watched(stt: SttEngine) {
  const calls: { shortWindow: boolean; audioMs: number; aborted?: boolean }[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const engine: SttEngine = {
    async transcribe(audio: Float32Array, options?: TranscribeOptions) {
      const call = { shortWindow: options?.shortWindow === true, audioMs: (audio.length / 16_000) * 1000, aborted: false };
      calls.push(call);
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      try {
        return await stt.transcribe(audio, options);
      } catch (e) {
        call.aborted = isAbortError(e);
        throw e;
      } finally {
        running--;
      }
    },
    dispose: () => stt.dispose(),
  };
  return { engine, calls, mostAtOnce: () => mostAtOnce };
}

type Event = { name: 'partial' | 'speech-end' | 'transcript'; text?: string };

function record(agent: Agent): Event[] {
  const events: Event[] = [];
  agent.on('partial-transcript', ({ text }) => events.push({ name: 'partial', text }));
  agent.on('speech-end', () => events.push({ name: 'speech-end' }));
  agent.on('transcript', ({ text }) => events.push({ name: 'transcript', text }));
  return events;
}

/** Pushes `samples` (16 kHz) in 20 ms blocks at the speed of real time. */
async function speakLive(agent: Agent, samples: Float32Array): Promise<void> {
  const block = 320;
  const start = performance.now();
  for (let i = 0; i < samples.length; i += block) {
    agent.pushAudio(samples.subarray(i, i + block), 16_000);
    await sleep(start + ((i + block) / 16_000) * 1000 - performance.now());
  }
}

describe('partial transcripts while the user speaks (real whisper, real VAD)', () => {
  let engines: AgentEngineSet;
  let longQuestion: Float32Array;

  beforeAll(async () => {
    ({ engines } = await loadEngines({
      models: { stt: testModels.stt, llm: testModels.llm, voice: testModels.voice, espeakData: testModels.espeakData },
      gpu: 'off',
    }));
    longQuestion = await fliteSpeech('What is the capital of France, and what is the tallest building in the city of Paris?');
  });

  afterAll(async () => {
    await Promise.all(Object.values(engines).map((e) => e.dispose()));
  });

  it('come about every 500 ms of speech, one at a time, on a short window, and never after the utterance ends', async () => {
    const stt = watched(engines.stt);
    const agent = new Agent({ ...engines, stt: stt.engine }, {});
    const events = record(agent);
    agent.start();
    await speakLive(agent, concatFloat32([longQuestion, new Float32Array(16_000)]));
    await agent.flush();
    await agent.close();

    const partialCalls = stt.calls.filter((c) => c.shortWindow);
    const speechMs = longQuestion.length / 16;
    expect(partialCalls.length).toBeGreaterThanOrEqual(2);
    // One per 500 ms of audio at most, each on more audio than the one before.
    expect(partialCalls.length).toBeLessThanOrEqual(Math.ceil(speechMs / 500) + 1);
    for (let i = 1; i < partialCalls.length; i++) expect(partialCalls[i].audioMs - partialCalls[i - 1].audioMs).toBeGreaterThanOrEqual(500 - 64);
    expect(stt.mostAtOnce()).toBe(1);
    // The final transcript is made on the whole window.
    expect(stt.calls.at(-1)!.shortWindow).toBe(false);

    const end = events.findIndex((e) => e.name === 'speech-end');
    const partials = events.filter((e) => e.name === 'partial');
    expect(partials.length).toBeGreaterThanOrEqual(1);
    expect(partials.every((p) => p.text === SCRIPTED_TRANSCRIPT)).toBe(true);
    expect(events.slice(end).some((e) => e.name === 'partial')).toBe(false);
    expect(events.at(-1)).toEqual({ name: 'transcript', text: SCRIPTED_TRANSCRIPT });
  });

  it('a partial still running when the utterance ends is dropped, and the final transcript comes all the same', async () => {
    // A real-size encoder (tiny.en shape): a partial takes long enough that the utterance surely ends under it.
    const tiny = await scriptedModel('tiny.en', SCRIPTED_TRANSCRIPT);
    const stt = watched(await loadWhisperEngine({ modelPath: tiny.path }));
    const agent = new Agent({ ...engines, stt: stt.engine }, {});
    const events = record(agent);
    try {
      agent.start();
      agent.pushAudio(longQuestion, 16_000);
      while (!stt.calls.some((c) => c.shortWindow)) await sleep(5);
      // The silence that ends the utterance arrives while that partial runs.
      agent.pushAudio(new Float32Array(16_000), 16_000);
      await agent.flush();
    } finally {
      await agent.close();
      await stt.engine.dispose();
    }
    const end = events.findIndex((e) => e.name === 'speech-end');
    expect(stt.calls.filter((c) => c.shortWindow && c.aborted)).toHaveLength(1);
    expect(events.slice(end).some((e) => e.name === 'partial')).toBe(false);
    expect(events.filter((e) => e.name === 'transcript')).toEqual([{ name: 'transcript', text: SCRIPTED_TRANSCRIPT }]);
  });

  it('show on the terminal status line and as JSON lines (earshot start --json)', async () => {
    const agent = new Agent(engines, {});
    const sink = () => {
      const stream = new PassThrough();
      let text = '';
      stream.on('data', (d: Buffer) => (text += d.toString()));
      return { stream, text: () => text };
    };
    const [json, tty, status] = [sink(), sink(), sink()];
    new TerminalView({ mode: 'json', out: json.stream, content: true }).attachAgent(agent);
    new TerminalView({ mode: 'tty', out: tty.stream, status: status.stream, redrawMs: 0, content: true }).attachAgent(agent);
    agent.start();
    await speakLive(agent, concatFloat32([longQuestion, new Float32Array(16_000)]));
    await agent.flush();
    await agent.close();
    const lines = json.text().trim().split('\n').map((l) => JSON.parse(l) as { event: string; text?: string });
    const partial = lines.findIndex((l) => l.event === 'partial-transcript');
    expect(partial).toBeGreaterThan(-1);
    expect(lines[partial].text).toBe(SCRIPTED_TRANSCRIPT);
    expect(partial).toBeLessThan(lines.findIndex((l) => l.event === 'transcript'));
    expect(status.text()).toContain(`"${SCRIPTED_TRANSCRIPT}…"`);
    expect(tty.text()).toContain(`you: ${SCRIPTED_TRANSCRIPT}`);
  });

  it('can be turned off', async () => {
    const stt = watched(engines.stt);
    const agent = new Agent({ ...engines, stt: stt.engine }, { partialTranscripts: { enabled: false } });
    const events = record(agent);
    agent.start();
    await speakLive(agent, concatFloat32([longQuestion.subarray(0, 16_000 * 2), new Float32Array(12_000)]));
    await agent.flush();
    await agent.close();
    expect(stt.calls.filter((c) => c.shortWindow)).toEqual([]);
    expect(events.some((e) => e.name === 'partial')).toBe(false);
  });
});
