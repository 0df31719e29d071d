import { describe, expect, it } from 'vitest';
import { createAgent } from '../../src/agent/create-agent.js';
import { WavCollectorSink } from '../../src/audio/wav-collector-sink.js';
import { isEarshotError } from '../../src/errors.js';
import { resolveModel } from '../../src/models/resolve.js';
import { fliteSpeech } from '../support/speech-fixtures.js';

/** The default preset's models, when `npm run fetch-models` has installed them. */
function installedModels(): { stt: string; llm: string; voice: string } | string {
  try {
    return {
      stt: resolveModel('stt', undefined).path,
      llm: resolveModel('llm', undefined).path,
      voice: resolveModel('tts', undefined).path,
    };
  } catch (e) {
    if (isEarshotError(e)) return e.message;
    throw e;
  }
}

const models = installedModels();
const reason = typeof models === 'string' ? `skipped, real models are not installed (${models})` : 'with the real models in models/';
if (typeof models === 'string') console.log(`model-dependent tests ${reason}`);

describe.skipIf(typeof models === 'string')(`the voice loop ${reason}`, () => {
  it('hears a spoken question, answers it and speaks the answer', async () => {
    if (typeof models === 'string') return;
    const sink = new WavCollectorSink();
    const agent = await createAgent({ models, sink, interruption: { enabled: false } });
    const transcripts: string[] = [];
    const replies: string[] = [];
    agent.on('transcript', (t) => transcripts.push(t.text));
    agent.on('turn-end', (t) => replies.push(t.reply));
    agent.start();
    agent.pushAudio(new Float32Array(8000), 16000);
    agent.pushAudio(await fliteSpeech('What is the capital of France?'), 16000);
    agent.pushAudio(new Float32Array(16000), 16000);
    await agent.flush();
    await agent.close();
    expect(transcripts).toHaveLength(1);
    expect(transcripts[0].toLowerCase()).toContain('capital');
    expect(transcripts[0].toLowerCase()).toContain('france');
    expect(replies[0].length).toBeGreaterThan(0);
    expect(sink.joined(0).samples.length).toBeGreaterThan(sink.sampleRate / 2);
  }, 300_000);
});
