import { Agent } from '../src/agent/agent.js';
import { createAgent } from '../src/agent/create-agent.js';
import type { TurnMetrics } from '../src/agent/turn-metrics.js';
import { WavCollectorSink } from '../src/audio/wav-collector-sink.js';
import { readWavForPipeline } from '../src/audio/wav.js';
import { defaultEndpointingOptions } from '../src/turn/endpointing-options.js';
import { writeScenario } from '../test/support/speech-fixtures.js';
import { generateTestModels, testModels } from '../test/support/test-models.js';
import { median } from './vad.js';

export interface PipelineBenchResult {
  /** Median of firstAudio - endpoint - (STT + LLM-to-first-sentence + TTS-first-sentence compute), ms. */
  overheadMs: number;
  /** Median endpoint delay minus the configured end-of-turn silence: the endpointer's own lag, ms. */
  endpointLagMs: number;
  /** Median end of speech to first audio, ms, with the generated models. */
  firstAudioMs: number;
  turns: TurnMetrics[];
}

/**
 * The pipeline's own cost: time from the end of speech to the first audio, minus the endpoint silence and the
 * engines' compute. Engines are the real ones with the small generated models, so what remains is queues,
 * events, chunking, resampling and scheduling — the part earshot itself adds.
 */
export async function benchPipeline(runs = 5): Promise<PipelineBenchResult> {
  await generateTestModels();
  const scenario = await writeScenario('bench-one-question', [800, 'What is the capital of France?', 1200]);
  const input = await readWavForPipeline(scenario.path);
  const agent: Agent = await createAgent({
    models: { stt: testModels.stt, llm: testModels.llm, voice: testModels.voice, espeakData: testModels.espeakData },
    sink: new WavCollectorSink(),
    gpu: 'off',
    interruption: { enabled: false },
  });
  const turns: TurnMetrics[] = [];
  agent.on('metrics', (m) => turns.push(m));
  agent.start();
  for (let r = 0; r <= runs; r++) {
    agent.pushAudio(input.samples, input.sampleRate);
    await agent.flush();
  }
  await agent.close();
  const measured = turns.slice(1);
  return {
    overheadMs: median(measured.map((t) => t.compute.overhead ?? NaN)),
    endpointLagMs: median(measured.map((t) => t.ms.endpoint - defaultEndpointingOptions.endSilenceMs)),
    firstAudioMs: median(measured.map((t) => t.ms.firstAudio ?? NaN)),
    turns: measured,
  };
}
