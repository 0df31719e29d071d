import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, type AgentEngineSet } from '../../src/agent/agent.js';
import { createAgent } from '../../src/agent/create-agent.js';
import { WavCollectorSink } from '../../src/audio/wav-collector-sink.js';
import { loadLlamaEngine } from '../../src/llm/llama-engine.js';
import { loadWhisperEngine } from '../../src/stt/whisper-engine.js';
import { loadPiperTts } from '../../src/tts/piper-tts-engine.js';
import { loadSmartTurn, type TurnEndModel } from '../../src/turn/turn-end-model.js';
import { loadSileroVad } from '../../src/vad/silero-vad.js';
import { writeScriptedSmartTurn } from '../fixtures/models/smart-turn.js';
import { recordAgent } from '../support/agent-log.js';
import { trimmedSpeech } from '../support/speech-fixtures.js';
import { TEST_MODEL_DIR, testModels } from '../support/test-models.js';

const gap = (ms: number) => new Float32Array((ms / 1000) * 16000);

describe('turn-end model (Smart Turn v3 contract, scripted answers) in the real listener', () => {
  let engines: AgentEngineSet;
  let complete: TurnEndModel;
  let incomplete: TurnEndModel;
  const paths = { complete: join(TEST_MODEL_DIR, 'smart-turn-complete.onnx'), incomplete: join(TEST_MODEL_DIR, 'smart-turn-incomplete.onnx') };
  let a: Float32Array;
  let b: Float32Array;

  beforeAll(async () => {
    await writeScriptedSmartTurn({ path: paths.complete, probability: 0.92 });
    await writeScriptedSmartTurn({ path: paths.incomplete, probability: 0.08 });
    engines = {
      vad: await loadSileroVad(),
      stt: await loadWhisperEngine({ modelPath: testModels.stt }),
      llm: await loadLlamaEngine({ modelPath: testModels.llm, gpu: 'off', threads: 1 }),
      tts: await loadPiperTts({ voiceDir: testModels.voice, espeakDataDir: testModels.espeakData, threads: 1 }),
    };
    complete = await loadSmartTurn({ modelPath: paths.complete });
    incomplete = await loadSmartTurn({ modelPath: paths.incomplete });
    a = await trimmedSpeech('What is the capital');
    b = await trimmedSpeech('of France?');
  });
  afterAll(async () => {
    await Promise.all([...Object.values(engines), complete, incomplete].map((e) => e!.dispose()));
  });

  async function endpoints(turn: TurnEndModel | undefined, parts: Float32Array[]): Promise<number[]> {
    const agent = new Agent({ ...engines, turn }, { sink: new WavCollectorSink(), interruption: { enabled: false }, maxReplyTokens: 8 });
    const log = recordAgent(agent);
    agent.start();
    for (const p of parts) agent.pushAudio(p, 16000);
    await agent.flush();
    await agent.close();
    expect(log.error).toEqual([]);
    return log.metrics.map((m) => m.ms.endpoint);
  }

  it('answers with the model probability through onnxruntime', async () => {
    expect(await complete.predict(a)).toBeCloseTo(0.92, 2);
    expect(await incomplete.predict(new Float32Array(100))).toBeCloseTo(0.08, 2);
  });

  it('"complete" ends the turn at the 200 ms check point instead of 500 ms of silence', async () => {
    const [withModel] = await endpoints(complete, [gap(500), a, b, gap(2000)]);
    const [bySilence] = await endpoints(undefined, [gap(500), a, b, gap(2000)]);
    // Both figures add the wall time the frame took to process (the model's run included) to the silence.
    expect(withModel).toBeGreaterThanOrEqual(200);
    expect(bySilence).toBeGreaterThanOrEqual(500);
    expect(withModel).toBeLessThan(bySilence);
  });

  it('"incomplete" waits up to 1.5 s, so a 700 ms pause no longer splits the turn', async () => {
    const parts = [gap(500), a, gap(700), b, gap(2500)];
    const withModel = await endpoints(incomplete, parts);
    expect(withModel).toHaveLength(1);
    expect(withModel[0]).toBeGreaterThanOrEqual(1500);
    expect(await endpoints(undefined, parts)).toHaveLength(2);
  });

  it('a missing or corrupt model is one notice line, and the silence rule takes over', async () => {
    const corrupt = join(TEST_MODEL_DIR, 'smart-turn-corrupt.onnx');
    await writeFile(corrupt, Buffer.from('not an onnx model at all'));
    for (const turn of [join(TEST_MODEL_DIR, 'no-such-turn-model.onnx'), corrupt]) {
      const notices: string[] = [];
      const agent = await createAgent({
        engines: { vad: engines.vad, stt: engines.stt, llm: engines.llm, tts: engines.tts },
        models: { turn },
        sink: new WavCollectorSink(),
        interruption: { enabled: false },
        maxReplyTokens: 8,
        onNotice: (line) => notices.push(line),
      });
      expect(notices).toHaveLength(1);
      expect(notices[0]).not.toContain('\n');
      expect(notices[0]).toMatch(/turn model .* (not found|could not be loaded).*fetch-models -- --turn smart-turn-v3; turns end after 500 ms of silence instead$/);
      expect(agent.backends.turnEnd).toBe('silence');
      const log = recordAgent(agent);
      agent.start();
      for (const p of [gap(500), a, b, gap(2000)]) agent.pushAudio(p, 16000);
      await agent.flush();
      await agent.close();
      expect(log.metrics[0].ms.endpoint).toBeGreaterThanOrEqual(500);
    }
  });
});
