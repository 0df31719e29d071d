import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import type { AgentOptions } from '../../src/agent/agent-options.js';
import { createAgent } from '../../src/agent/create-agent.js';
import type { AgentEvents } from '../../src/agent/events.js';
import { APOLOGY } from '../../src/agent/watchdog-options.js';
import { readWavForPipeline } from '../../src/audio/wav.js';
import { HealthMonitor, type HealthReport } from '../../src/server/health-monitor.js';
import { HealthServer } from '../../src/server/health-server.js';
import { loadWhisperEngine } from '../../src/stt/whisper-engine.js';
import { hangOn } from '../support/fake-engines.js';
import { writeScenario } from '../support/speech-fixtures.js';
import { SCRIPTED_REPLY, SCRIPTED_TRANSCRIPT, testModels } from '../support/test-models.js';

/** The real engines, one thread each, no speculation or partial transcripts: one transcription per turn. */
const base: AgentOptions = {
  models: { llm: testModels.llm, voice: testModels.voice, espeakData: testModels.espeakData },
  gpu: 'off',
  threads: 1,
  speculation: { enabled: false },
  partialTranscripts: { enabled: false },
  turnEnd: { mode: 'silence' },
};

type Logged = { [K in keyof AgentEvents]: AgentEvents[K][] };

function record(agent: Agent): Logged {
  const names = ['transcript', 'turn-end', 'error', 'engine-failure', 'engine-reloaded', 'fatal', 'audio'] as const;
  const log = Object.fromEntries(names.map((n) => [n, []])) as unknown as Logged;
  for (const n of names) agent.on(n, (e: object) => (log[n] as object[]).push(e));
  return log;
}

describe('the watchdog on the real engines', () => {
  let question: { samples: Float32Array; sampleRate: number };
  let agent: Agent | undefined;
  let health: HealthServer | undefined;

  beforeAll(async () => {
    question = await readWavForPipeline((await writeScenario('watchdog-question', [500, 'What is the capital of France?', 1200])).path);
  });
  afterEach(async () => {
    await health?.close();
    await agent?.close();
    agent = health = undefined;
  });

  it('whisper stuck in a call: the apology comes in the real voice, a fresh whisper is loaded and answers the next question; the stuck one is freed when its call returns', async () => {
    const loadStt = () => loadWhisperEngine({ modelPath: testModels.stt, threads: 1 });
    const stuck = hangOn(await loadStt(), 'transcribe', (n) => n === 0);
    let loads = 0;
    agent = await createAgent({
      ...base,
      engines: { stt: stuck },
      engineLoaders: { stt: () => (loads++, loadStt()) },
      watchdog: { sttTimeoutMs: 1_500, sttTimeoutMsPerAudioSecond: 0 },
    });
    const log = record(agent);
    const monitor = new HealthMonitor({ stt: testModels.stt, llm: testModels.llm, voice: testModels.voice }, 3);
    monitor.watchAgent(agent);
    health = new HealthServer(() => monitor.report());
    await health.listen(0);

    const reloaded = new Promise((resolve) => agent!.once('engine-reloaded', resolve));
    agent.start();
    agent.pushAudio(question.samples, question.sampleRate);
    await agent.flush();
    // The apology does not wait for whisper to load again.
    await reloaded;
    expect(log['engine-failure']).toMatchObject([{ engine: 'stt', deadlineMs: 1_500, failures: 1 }]);
    expect(loads).toBe(1);
    expect(log['engine-reloaded']).toMatchObject([{ engine: 'stt' }]);
    expect(log.transcript).toEqual([]);
    expect(log['turn-end'].map((t) => t.reply)).toEqual([APOLOGY]);
    const apologyAudio = log.audio.reduce((n, a) => n + a.chunk.samples.length, 0);
    expect(apologyAudio).toBeGreaterThan(0);
    let report = (await (await fetch(health.url)).json()) as HealthReport;
    expect(report).toMatchObject({ status: 'degraded', turns: 0, watchdog: { consecutiveFailures: 1, totalFailures: 1, reloads: 1 } });
    expect(report.lastError?.message).toMatch(/^speech to text took more than 1\.5 s/);

    agent.pushAudio(question.samples, question.sampleRate);
    await agent.flush();
    expect(log.transcript.map((t) => t.text)).toEqual([SCRIPTED_TRANSCRIPT]);
    expect(log['turn-end'].at(-1)?.reply).toBe(SCRIPTED_REPLY);
    expect(log.error).toEqual([]);
    report = (await (await fetch(health.url)).json()) as HealthReport;
    expect(report).toMatchObject({ status: 'ok', state: 'listening', turns: 1, models: { stt: 'whisper-scripted-micro.bin' } });
    expect(report.watchdog.consecutiveFailures).toBe(0);

    expect(stuck.disposed).toBe(false);
    stuck.release();
    await new Promise((r) => setTimeout(r, 200));
    expect(stuck.disposed).toBe(true);
  });

  it('a voice that never finishes within its deadline: reloaded twice, then fatal on the third failure', async () => {
    // A 1 ms deadline per sentence, on sentences long enough (tens of ms of compute) that the real Piper voice
    // never makes it: the first one said, and the apology after each failure.
    const long = (what: string) => `${what} ${'and then it went on and on '.repeat(12)}until the end`;
    agent = await createAgent({
      ...base,
      models: { ...base.models, stt: testModels.stt },
      watchdog: { ttsTimeoutMs: 1, ttsTimeoutMsPerChar: 0, apology: long('Sorry') },
    });
    const log = record(agent);
    const fatal = new Promise<AgentEvents['fatal']>((resolve) => agent!.once('fatal', resolve));
    await expect(agent.say(long('Welcome'))).rejects.toThrow(/the voice took more than 0\.0 s/);
    const end = await fatal;
    expect(end).toMatchObject({ engine: 'tts', failures: 3 });
    expect(log['engine-failure'].map((f) => [f.engine, f.failures])).toEqual([
      ['tts', 1],
      ['tts', 2],
      ['tts', 3],
    ]);
    // Two real reloads of the voice (after the first and second failures), none after the third.
    expect(log['engine-reloaded'].map((r) => r.engine)).toEqual(['tts', 'tts']);
    expect(log.audio).toEqual([]);
    // The turn that failed last winds down after 'fatal'; then the agent stays idle.
    if (agent.state !== 'idle') await new Promise<void>((resolve) => agent!.on('state', ({ state }) => state === 'idle' && resolve()));
    expect(agent.state).toBe('idle');
  });
});
