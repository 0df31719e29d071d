import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, type AgentEngineSet } from '../../src/agent/agent.js';
import type { AgentOptions } from '../../src/agent/agent-options.js';
import type { AgentEvents } from '../../src/agent/events.js';
import { RealtimeSink } from '../../src/audio/realtime-sink.js';
import { WavCollectorSink } from '../../src/audio/wav-collector-sink.js';
import { readWavForPipeline } from '../../src/audio/wav.js';
import { loadLlamaEngine } from '../../src/llm/llama-engine.js';
import { loadWhisperEngine } from '../../src/stt/whisper-engine.js';
import { loadToolsModule } from '../../src/tools/load-tools-module.js';
import type { Tool } from '../../src/tools/tool.js';
import { loadPiperTts } from '../../src/tts/piper-tts-engine.js';
import { loadSileroVad } from '../../src/vad/silero-vad.js';
import { writeScriptedLlama } from '../fixtures/models/gguf-llama.js';
import { writeScriptedWhisperModel } from '../fixtures/models/whisper-ggml.js';
import { LiveFeed, sleep } from '../support/live-feed.js';
import { fliteSpeech, writeScenario, type Scenario } from '../support/speech-fixtures.js';
import { testModels } from '../support/test-models.js';

const QUESTION = 'When is the museum open on Sunday?';
const ANSWER = 'On Sunday the museum is open from 10:00 to 18:00.';
const APOLOGY = 'Sorry, I could not look that up.';
const STAFF_SAY = 'I have asked a member of staff to come to you.';
const STAFF_ANSWER = 'Someone will be with you shortly.';
const dir = join(process.cwd(), '.cache', 'test', 'tool-calls');

type Log = { [K in keyof AgentEvents]: (AgentEvents[K] & { t: number })[] };

function record(agent: Agent): Log {
  const log = {} as Log;
  const names: (keyof AgentEvents)[] = ['speech-start', 'transcript', 'reply-sentence', 'audio', 'turn-end', 'metrics', 'barge-in', 'tool-call', 'tool-result', 'mask', 'error'];
  for (const n of names) {
    const list: unknown[] = [];
    (log as Record<string, unknown[]>)[n] = list;
    agent.on(n, (e) => list.push({ ...(e as object), t: performance.now() }));
  }
  return log;
}

/** An opening_hours tool with the kiosk's schema and the given handler. */
function openingHours(handler: Tool['handler'], extra: Partial<Tool> = {}): Tool {
  return {
    name: 'opening_hours',
    description: 'Opening hours of the museum on a given day.',
    parameters: { type: 'object', properties: { day: { type: 'string' } }, required: ['day'] },
    handler,
    ...extra,
  };
}

describe('tools on real engines with a model that calls them', () => {
  let engines: AgentEngineSet;
  let staffLlm: AgentEngineSet['llm'];
  let kioskTools: Tool[];
  let question: Scenario;

  beforeAll(async () => {
    const [stt, llm, staff] = await Promise.all([
      writeScriptedWhisperModel({ path: join(dir, 'whisper-museum.bin'), script: QUESTION, shape: 'micro' }),
      writeScriptedLlama({
        path: join(dir, 'llama-opening-hours.gguf'),
        toolCall: { name: 'opening_hours', params: { day: 'sunday' }, answers: [{ when: '18:00', reply: ANSWER }, { when: 'error', reply: APOLOGY }] },
      }),
      writeScriptedLlama({
        path: join(dir, 'llama-call-staff.gguf'),
        toolCall: { name: 'call_staff', params: { reason: 'lost ticket' }, answers: [{ when: 'queued', reply: STAFF_ANSWER }, { when: 'error', reply: APOLOGY }] },
      }),
    ]);
    engines = {
      vad: await loadSileroVad(),
      stt: await loadWhisperEngine({ modelPath: stt.path }),
      // One thread: see test/standalone/llm/llama-engine.test.ts.
      llm: await loadLlamaEngine({ modelPath: llm.path, gpu: 'off', threads: 1 }),
      tts: await loadPiperTts({ voiceDir: testModels.voice, espeakDataDir: testModels.espeakData, threads: 1 }),
    };
    staffLlm = await loadLlamaEngine({ modelPath: staff.path, gpu: 'off', threads: 1 });
    kioskTools = await loadToolsModule('examples/kiosk/tools.mjs');
    question = await writeScenario('museum-question', [800, QUESTION, 1500]);
  });
  afterAll(async () => {
    await Promise.all([...Object.values(engines ?? {}), staffLlm].map((e) => e?.dispose()));
  });

  async function answerFile(options: AgentOptions) {
    const agent = new Agent(engines, { sink: new WavCollectorSink(), interruption: { enabled: false }, ...options });
    const log = record(agent);
    const input = await readWavForPipeline(question.path);
    agent.start();
    for (let i = 0; i < input.samples.length; i += 4000) agent.pushAudio(input.samples.subarray(i, i + 4000), 16_000);
    await agent.flush();
    await agent.close();
    return { agent, log };
  }

  it('a spoken question calls the tool with the expected arguments, and the spoken reply carries its result', async () => {
    const { agent, log } = await answerFile({ tools: kioskTools });
    expect(log.transcript.map((t) => t.text)).toEqual([QUESTION]);
    expect(log['tool-call'].map(({ name, args }) => ({ name, args }))).toEqual([{ name: 'opening_hours', args: { day: 'sunday' } }]);
    expect(log['tool-result'][0]).toMatchObject({ status: 'ok', result: { day: 'sunday', open: '10:00', close: '18:00' } });
    expect(log.audio.map((a) => a.text)).toEqual([ANSWER]);
    expect(log.audio[0].t).toBeGreaterThan(log['tool-result'][0].t);
    expect(agent.history).toEqual([
      { role: 'user', text: QUESTION },
      { role: 'assistant', text: ANSWER },
    ]);
    expect(log.metrics[0].tools).toEqual([{ name: 'opening_hours', status: 'ok', ms: expect.any(Number) }]);
    expect(log.error).toEqual([]);

    const session = agent.metrics();
    expect(session).toMatchObject({ turns: 1, interruptions: 0, falseInterruptions: 0, maskedTurns: 0, tools: { calls: 1, failed: 0 } });
    for (const engine of ['vad', 'stt', 'llm', 'tts'] as const) expect(session.cpuMs.total[engine]).toBeGreaterThan(0);
    expect(session.stages.firstAudio!.n).toBe(1);
  });

  it('a throwing tool gives a spoken apology, and nothing else breaks', async () => {
    const { agent, log } = await answerFile({
      tools: [openingHours(() => Promise.reject(new Error('the hours database is offline')))],
    });
    expect(log['tool-result'][0]).toMatchObject({ status: 'failed', error: 'opening_hours failed: the hours database is offline' });
    expect(log.audio.map((a) => a.text)).toEqual([APOLOGY]);
    expect(agent.history.at(-1)).toEqual({ role: 'assistant', text: APOLOGY });
    expect(log.error).toEqual([]);
    expect(agent.metrics().tools).toMatchObject({ calls: 1, failed: 1 });
  });

  it('arguments that fail the schema, and a tool that times out: the model is told, the user hears the apology', async () => {
    let ran = false;
    // The grammar lets any string through; the pattern is checked after the call.
    const weekdaysOnly = openingHours(() => (ran = true), { parameters: z.object({ day: z.string().regex(/^(mon|tues|wednes|thurs|fri|satur)day$/) }) });
    const invalid = await answerFile({ tools: [weekdaysOnly] });
    expect(ran).toBe(false);
    expect(invalid.log['tool-result'][0]).toMatchObject({ status: 'invalid-arguments' });
    expect(invalid.log.audio.map((a) => a.text)).toEqual([APOLOGY]);

    const timedOut = await answerFile({ tools: [openingHours(() => new Promise(() => {}), { timeoutMs: 300 })] });
    expect(timedOut.log['tool-result'][0]).toMatchObject({ status: 'timeout', error: 'opening_hours did not answer within 300 ms' });
    expect(timedOut.log.audio.map((a) => a.text)).toEqual([APOLOGY]);
  });

  it('a tool can speak at once: its words come first, then the answer, and both are in the history', async () => {
    const queue = join(await mkdtemp(join(tmpdir(), 'earshot-kiosk-')), 'staff.jsonl');
    process.env.KIOSK_STAFF_QUEUE = queue;
    try {
      const agent = new Agent({ ...engines, llm: staffLlm }, { sink: new WavCollectorSink(), tools: kioskTools });
      const log = record(agent);
      const result = await agent.sendText('I lost my ticket, can someone help me?');
      await agent.close();
      expect(log['tool-call'].map((c) => c.args)).toEqual([{ reason: 'lost ticket' }]);
      expect(log.audio.map((a) => a.text)).toEqual([STAFF_SAY, STAFF_ANSWER]);
      expect(result.reply).toBe(`${STAFF_SAY} ${STAFF_ANSWER}`);
      expect(agent.history.at(-1)).toEqual({ role: 'assistant', text: `${STAFF_SAY} ${STAFF_ANSWER}` });
      const lines = (await readFile(queue, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      expect(lines).toEqual([{ at: expect.any(String), reason: 'lost ticket' }]);
    } finally {
      delete process.env.KIOSK_STAFF_QUEUE;
    }
  });

  it('a slow tool is covered by a filler that is cut by the reply, never enters the history, and is in the metrics', async () => {
    const slow = openingHours(async (_args, { signal }) => {
      await sleep(600);
      signal.throwIfAborted();
      return { day: 'sunday', open: '10:00', close: '18:00' };
    });
    // Played in real time: the filler (several seconds with the test voice) is still playing when the answer is ready.
    const phrase = 'One moment please, I am looking that up for you.';
    const fullMs = ((await engines.tts.synthesize(phrase)).length / engines.tts.sampleRate) * 1000;
    const { agent, log } = await answerFile({
      sink: new RealtimeSink(),
      tools: [slow],
      latencyMask: { mode: 'phrase', maskAfterMs: 10_000, toolMaskAfterMs: 200, phrases: [phrase] },
    });
    expect(log.mask.map((m) => [m.action, m.record.kind, m.record.trigger])).toEqual([
      ['start', 'phrase', 'tool'],
      ['end', 'phrase', 'tool'],
    ]);
    const [start, end] = log.mask;
    expect(start.record.text).toBe(phrase);
    expect(end.record.cut).toBe(true);
    expect(start.t).toBeGreaterThan(log['tool-call'][0].t);
    expect(end.t).toBeLessThanOrEqual(log.audio[0].t);
    expect(log.audio.map((a) => a.text)).toEqual([ANSWER]);
    expect(agent.history.at(-1)).toEqual({ role: 'assistant', text: ANSWER });
    expect(log.metrics[0].mask).toMatchObject({ kind: 'phrase', trigger: 'tool', cut: true });
    expect(log.metrics[0].mask!.playedMs).toBeLessThan(fullMs - 100);
    expect(agent.metrics().maskedTurns).toBe(1);
  });

  it('a barge-in while a slow tool runs aborts the signal its handler got', async () => {
    const signals: AbortSignal[] = [];
    let abortedAt = 0;
    const slow = openingHours(
      (_args, { signal }) =>
        new Promise((resolve) => {
          signals.push(signal);
          signal.addEventListener('abort', () => {
            abortedAt ||= performance.now();
            resolve('too late');
          });
          setTimeout(() => resolve({ close: '18:00' }), 20_000);
        }),
      { timeoutMs: 30_000 },
    );
    let feed!: LiveFeed;
    const sink = new RealtimeSink({ write: (b, r) => feed.onSinkWrite(b, r) });
    const agent = new Agent(engines, { sink, tools: [slow], interruption: { duplex: 'full' } });
    const log = record(agent);
    feed = new LiveFeed(agent);
    agent.start();
    feed.start();
    feed.say(await fliteSpeech(QUESTION), 200);
    while (log['tool-call'].length === 0) await sleep(20);
    const interjectedAt = performance.now() + 300;
    feed.say(await fliteSpeech('Wait, stop, tell me about the cafe instead.', 'kal'), 300);
    while (signals.length === 0 || !signals[0].aborted) await sleep(20);
    await feed.stop();
    await agent.close();

    expect(abortedAt - interjectedAt).toBeLessThan(10_000);
    expect(log['barge-in'].map((b) => b.action)).toContain('cut');
    expect(log['tool-result'][0]).toMatchObject({ status: 'cancelled' });
    expect(log['turn-end'][0]).toMatchObject({ interrupted: true });
    expect(log.error).toEqual([]);
    expect(agent.metrics().interruptions).toBeGreaterThanOrEqual(1);
  });
});
