import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { createAgent } from '../../src/agent/create-agent.js';
import type { AgentEngines } from '../../src/agent/agent-options.js';
import type { TurnMetrics } from '../../src/agent/turn-metrics.js';
import { WavCollectorSink } from '../../src/audio/wav-collector-sink.js';
import { readWavForPipeline } from '../../src/audio/wav.js';
import { loadLlamaEngine } from '../../src/llm/llama-engine.js';
import { loadPiperTts } from '../../src/tts/piper-tts-engine.js';
import { writeScenario, type Scenario } from '../support/speech-fixtures.js';
import { SCRIPTED_REPLY, SCRIPTED_TRANSCRIPT, testModels } from '../support/test-models.js';

const SENTENCES = ['Paris is the capital of France.', 'It is known for the Eiffel Tower.'];

async function feed(agent: Agent, scenario: Scenario): Promise<void> {
  const input = await readWavForPipeline(scenario.path);
  agent.start();
  for (let i = 0; i < input.samples.length; i += 4000) agent.pushAudio(input.samples.subarray(i, i + 4000), 16_000);
  await agent.flush();
}

function record(agent: Agent) {
  const log = {
    metrics: [] as TurnMetrics[],
    transcripts: [] as string[],
    sentences: [] as string[],
    audio: [] as { text: string; samples: number }[],
    speechEnds: [] as { startMs: number; endMs: number }[],
    states: [] as string[],
  };
  agent.on('metrics', (m) => log.metrics.push(m));
  agent.on('transcript', (t) => log.transcripts.push(t.text));
  agent.on('reply-sentence', (s) => log.sentences.push(s.text));
  agent.on('audio', (a) => log.audio.push({ text: a.text, samples: a.chunk.samples.length }));
  agent.on('speech-end', (e) => log.speechEnds.push(e));
  agent.on('state', (s) => log.states.push(s.state));
  agent.on('error', ({ error }) => {
    throw error;
  });
  return log;
}

describe('the voice loop on real engines with generated models', () => {
  let oneQuestion: Scenario;
  let twoQuestions: Scenario;
  let expectedSamples: Map<string, number>;

  beforeAll(async () => {
    oneQuestion = await writeScenario('one-question', [1200, 'What is the capital of France?', 1500]);
    twoQuestions = await writeScenario('two-questions', [800, 'What is the capital of France?', 2000, 'How far away is the moon?', 1500]);
    // The generated voice is deterministic: what each sentence must sound like, measured on its own.
    const tts = await loadPiperTts({ voiceDir: testModels.voice, espeakDataDir: testModels.espeakData });
    expectedSamples = new Map();
    for (const s of SENTENCES) expectedSamples.set(s, (await tts.synthesize(s)).length);
    await tts.dispose();
  });

  it('finds the utterance, transcribes, replies sentence by sentence, and times every stage in order', async () => {
    const sink = new WavCollectorSink();
    const agent = await createAgent({
      models: { stt: testModels.stt, llm: testModels.llm, voice: testModels.voice, espeakData: testModels.espeakData },
      sink,
      interruption: { enabled: false },
    });
    const log = record(agent);
    await feed(agent, oneQuestion);
    await agent.close();

    expect(log.speechEnds).toHaveLength(1);
    const found = log.metrics[0].speech!;
    expect(Math.abs(found.startMs - oneQuestion.speech[0].startMs)).toBeLessThanOrEqual(150);
    expect(Math.abs(found.endMs - oneQuestion.speech[0].endMs)).toBeLessThanOrEqual(150);

    expect(log.transcripts).toEqual([SCRIPTED_TRANSCRIPT]);
    expect(log.metrics[0].reply).toBe(SCRIPTED_REPLY);
    expect(log.sentences).toEqual(SENTENCES);
    expect(log.audio.map((a) => a.text)).toEqual(SENTENCES);
    for (const a of log.audio) expect(a.samples).toBe(expectedSamples.get(a.text));
    const total = SENTENCES.reduce((n, s) => n + expectedSamples.get(s)!, 0);
    expect(sink.joined(0).samples.length).toBe(total);
    expect(sink.sampleRate).toBe(22050);

    const ms = log.metrics[0].ms;
    const order = [ms.endpoint, ms.transcript, ms.firstToken, ms.firstSentence, ms.firstAudio, ms.total];
    for (const v of order) expect(v).toBeTypeOf('number');
    for (let i = 1; i < order.length; i++) expect(order[i]!).toBeGreaterThanOrEqual(order[i - 1]!);
    // The endpoint cannot come before the configured end-of-turn silence has passed.
    expect(ms.endpoint).toBeGreaterThanOrEqual(500);
    expect(log.states).toEqual(expect.arrayContaining(['listening', 'user-speaking', 'thinking', 'speaking']));
  });

  describe('with engines loaded once and shared', () => {
    let engines: AgentEngines;
    beforeAll(async () => {
      const vad = await import('../../src/vad/silero-vad.js').then((m) => m.loadSileroVad());
      const stt = await import('../../src/stt/whisper-engine.js').then((m) => m.loadWhisperEngine({ modelPath: testModels.stt }));
      const llm = await loadLlamaEngine({ modelPath: testModels.llm, gpu: 'off' });
      const tts = await loadPiperTts({ voiceDir: testModels.voice, espeakDataDir: testModels.espeakData });
      engines = { vad, stt, llm, tts };
    });
    afterAll(async () => {
      await Promise.all(Object.values(engines).map((e) => e.dispose()));
    });

    it('answers two questions as two turns and keeps both in the history', async () => {
      const agent = new Agent(engines as Required<AgentEngines>, { sink: new WavCollectorSink(), interruption: { enabled: false } });
      const log = record(agent);
      await feed(agent, twoQuestions);
      await agent.close();
      expect(log.metrics.map((m) => m.turn)).toEqual([1, 2]);
      expect(log.transcripts).toEqual([SCRIPTED_TRANSCRIPT, SCRIPTED_TRANSCRIPT]);
      for (let i = 0; i < 2; i++) {
        const truth = twoQuestions.speech[i];
        expect(Math.abs(log.metrics[i].speech!.startMs - truth.startMs)).toBeLessThanOrEqual(150);
        expect(Math.abs(log.metrics[i].speech!.endMs - truth.endMs)).toBeLessThanOrEqual(150);
      }
      expect(agent.history.map((t) => t.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
      expect(agent.history[3].text).toBe(SCRIPTED_REPLY);
    });

    it('takes a text turn with sendText() and speaks given text with say()', async () => {
      const agent = new Agent(engines as Required<AgentEngines>, {});
      const heard: number[] = [];
      agent.on('audio', (a) => heard.push(a.chunk.samples.length));
      agent.start();
      const turn = await agent.sendText('Where is Paris?');
      expect(turn).toMatchObject({ transcript: 'Where is Paris?', reply: SCRIPTED_REPLY, spoken: SCRIPTED_REPLY, interrupted: false });
      const said = await agent.say('Hello there. Goodbye.');
      expect(said).toMatchObject({ reply: 'Hello there. Goodbye.', interrupted: false });
      expect(heard.length).toBe(4);
      expect(agent.history.map((t) => t.role)).toEqual(['user', 'assistant', 'assistant']);
      await agent.close();
    });

    it('does not take a turn for silence', async () => {
      const silent = await writeScenario('silence-only', [3000]);
      const agent = new Agent(engines as Required<AgentEngines>, { interruption: { enabled: false } });
      const log = record(agent);
      await feed(agent, silent);
      await agent.close();
      expect(log.speechEnds).toHaveLength(0);
      expect(log.metrics).toHaveLength(0);
    });
  });

  it('interrupt() stops an endless reply and keeps only what was played in the history', async () => {
    const sink = new WavCollectorSink();
    const agent = await createAgent({
      models: { stt: testModels.stt, llm: testModels.llmEndless, voice: testModels.voice, espeakData: testModels.espeakData },
      sink,
      gpu: 'off',
      maxReplyTokens: 100_000,
    });
    agent.start();
    const played: string[] = [];
    agent.on('audio', (a) => {
      played.push(a.text);
      if (played.length === 3) agent.interrupt();
    });
    const turn = await agent.sendText('Tell me everything.');
    await agent.close();
    expect(turn.interrupted).toBe(true);
    // The third sentence was handed over as the interruption came: it never reached the sink.
    expect(turn.spoken).toBe(played.slice(0, 2).join(' '));
    expect(turn.reply.startsWith(turn.spoken)).toBe(true);
    expect(agent.history[1]).toMatchObject({ role: 'assistant', interrupted: true, text: turn.spoken });
  });
});
