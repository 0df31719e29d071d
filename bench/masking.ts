import { join } from 'node:path';
import { Agent } from '../src/agent/agent.js';
import type { AgentEngineSet } from '../src/agent/agent.js';
import { RealtimeSink } from '../src/audio/realtime-sink.js';
import { readWavForPipeline } from '../src/audio/wav.js';
import { loadLlamaEngine } from '../src/llm/llama-engine.js';
import type { MaskMode } from '../src/reply/latency-mask-options.js';
import { loadWhisperEngine } from '../src/stt/whisper-engine.js';
import type { Tool } from '../src/tools/tool.js';
import { loadPiperTts } from '../src/tts/piper-tts-engine.js';
import { packageRoot } from '../src/util/package-root.js';
import { loadSileroVad } from '../src/vad/silero-vad.js';
import { writeScriptedLlama } from '../test/fixtures/models/gguf-llama.js';
import { writeScriptedWhisperModel } from '../test/fixtures/models/whisper-ggml.js';
import { writeScenario } from '../test/support/speech-fixtures.js';
import { generateTestModels, testModels } from '../test/support/test-models.js';
import { median } from './vad.js';

const QUESTION = 'When is the museum open on Sunday?';
/** A block "has sound" above this peak (-34 dBFS), as in the project's acoustic measurements. */
const SOUND_PEAK = 0.02;

export interface MaskingBenchResult {
  toolMs: number;
  /** Median end of speech to the first sound out of the sink, ms, per mask mode. */
  firstSoundMs: Record<MaskMode, number>;
  /** Median end of speech to the reply's own first audio, ms (the same in every mode). */
  replyFirstAudioMs: number;
}

/**
 * What a user hears while a slow tool runs: the time from the end of their speech to the first sound out of the
 * (real-time) sink, with masking off, with the earcon and with a phrase, on the real engines with a scripted
 * model that calls a tool taking `toolMs`.
 */
export async function benchMasking(toolMs = 1500, runs = 3): Promise<MaskingBenchResult> {
  await generateTestModels();
  const cache = join(packageRoot(), '.cache', 'bench');
  const [stt, llm] = await Promise.all([
    writeScriptedWhisperModel({ path: join(cache, 'whisper-museum.bin'), script: QUESTION, shape: 'micro' }),
    writeScriptedLlama({
      path: join(cache, 'llama-opening-hours.gguf'),
      toolCall: { name: 'opening_hours', params: { day: 'sunday' }, answers: [{ when: '18:00', reply: 'We open at 10:00 and close at 18:00.' }] },
    }),
  ]);
  const input = await readWavForPipeline((await writeScenario('bench-museum-question', [800, QUESTION, 1200])).path);
  const engines: AgentEngineSet = {
    vad: await loadSileroVad(),
    stt: await loadWhisperEngine({ modelPath: stt.path }),
    // One thread: the model is tiny, and two spinning threads on a busy 2-core machine slow it down many times.
    llm: await loadLlamaEngine({ modelPath: llm.path, gpu: 'off', threads: 1 }),
    tts: await loadPiperTts({ voiceDir: testModels.voice, espeakDataDir: testModels.espeakData }),
  };
  const slowTool: Tool = {
    name: 'opening_hours',
    description: 'Opening hours of the museum on a given day.',
    parameters: { type: 'object', properties: { day: { type: 'string' } }, required: ['day'] },
    handler: async (_args, { signal }) => {
      await new Promise((resolve) => setTimeout(resolve, toolMs));
      signal.throwIfAborted();
      return { day: 'sunday', open: '10:00', close: '18:00' };
    },
  };
  try {
    const firstSoundMs = {} as Record<MaskMode, number>;
    const replyFirstAudio: number[] = [];
    for (const mode of ['off', 'earcon', 'phrase'] as const) {
      const sound: number[] = [];
      for (let r = 0; r < runs; r++) {
        const t = await oneTurn(engines, input.samples, slowTool, mode);
        sound.push(t.firstSoundMs);
        replyFirstAudio.push(t.replyFirstAudioMs);
      }
      firstSoundMs[mode] = median(sound);
    }
    return { toolMs, firstSoundMs, replyFirstAudioMs: median(replyFirstAudio) };
  } finally {
    await Promise.all(Object.values(engines).map((e) => e.dispose()));
  }
}

/** One spoken question; the reply is cut once it starts (only the wait before it is measured). */
async function oneTurn(engines: AgentEngineSet, question: Float32Array, tool: Tool, mode: MaskMode) {
  let firstSoundAt = 0;
  const sink = new RealtimeSink({
    write: (block) => {
      if (firstSoundAt === 0 && block.some((v) => Math.abs(v) > SOUND_PEAK)) firstSoundAt = performance.now();
    },
  });
  const agent = new Agent(engines, { sink, tools: [tool], interruption: { enabled: false }, latencyMask: { mode } });
  let declaredAt = 0;
  let replyAudioAt = 0;
  agent.on('speech-end', () => (declaredAt = performance.now()));
  agent.on('audio', () => {
    if (replyAudioAt) return;
    replyAudioAt = performance.now();
    setTimeout(() => agent.interrupt(), 300);
  });
  let endpointMs = 0;
  agent.on('metrics', (m) => (endpointMs = m.ms.endpoint));
  agent.start();
  // The phrases are voiced when listening starts; a user's first question comes later than this.
  await new Promise((resolve) => setTimeout(resolve, 500));
  agent.pushAudio(question, 16_000);
  await agent.flush();
  await agent.close();
  return { firstSoundMs: endpointMs + firstSoundAt - declaredAt, replyFirstAudioMs: endpointMs + replyAudioAt - declaredAt };
}
