import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConversations } from '../../bench/conversation.js';
import type { AgentEngineSet } from '../../src/agent/agent.js';
import { loadLlamaEngine } from '../../src/llm/llama-engine.js';
import type { LlmEngine } from '../../src/llm/llm-engine.js';
import { loadWhisperEngine } from '../../src/stt/whisper-engine.js';
import { loadPiperTts } from '../../src/tts/piper-tts-engine.js';
import { loadSileroVad } from '../../src/vad/silero-vad.js';
import { trimmedSpeech } from '../support/speech-fixtures.js';
import { testModels } from '../support/test-models.js';

/** The short version of `npm run bench -- --shapes real`: the same live harness, with the small test models. */
describe('bench conversation harness (small shapes)', () => {
  let shared: Omit<AgentEngineSet, 'llm'>;
  let llms: LlmEngine[];
  beforeAll(async () => {
    shared = {
      vad: await loadSileroVad(),
      stt: await loadWhisperEngine({ modelPath: testModels.stt }),
      tts: await loadPiperTts({ voiceDir: testModels.voice, espeakDataDir: testModels.espeakData, threads: 1 }),
    };
    llms = [await loadLlamaEngine({ modelPath: testModels.llm, gpu: 'off', threads: 1 }), await loadLlamaEngine({ modelPath: testModels.llm, gpu: 'off', threads: 1 })];
  });
  afterAll(async () => {
    await Promise.all([...Object.values(shared), ...llms].map((e) => e.dispose()));
  });

  it('interleaves set-ups question by question and reports first audio, prefill per turn and the ears’ lag', async () => {
    const questions = [await trimmedSpeech('What is the capital of France?'), await trimmedSpeech('And of Germany?')];
    const [off, on] = await runConversations(
      [
        { label: 'off', engines: { ...shared, llm: llms[0] }, options: { speculation: { enabled: false } } },
        { label: 'on', engines: { ...shared, llm: llms[1] }, options: {} },
      ],
      questions,
    );
    for (const r of [off, on]) {
      expect(r.turns).toHaveLength(2);
      expect(r.firstAudioMs.samples).toHaveLength(2);
      // From the question's last sample: at least the 500 ms end-of-turn silence.
      for (const ms of r.firstAudioMs.samples) expect(ms).toBeGreaterThan(450);
      expect(r.prefillTokens).toHaveLength(2);
      expect(r.prefillTokens[1]).toBeLessThan(r.prefillTokens[0]);
      expect(r.listenerLagMs.p95).toBeGreaterThanOrEqual(0);
      expect(r.listenerLagMs.max).toBeGreaterThanOrEqual(r.listenerLagMs.p95);
    }
    expect(off.speculatedTurns).toBe(0);
    expect(on.speculatedTurns).toBeGreaterThan(0);
  });
});
