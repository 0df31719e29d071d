import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, type AgentEngineSet } from '../../src/agent/agent.js';
import type { AgentOptions } from '../../src/agent/agent-options.js';
import { RealtimeSink } from '../../src/audio/realtime-sink.js';
import { loadLlamaEngine } from '../../src/llm/llama-engine.js';
import type { SttEngine } from '../../src/stt/stt-engine.js';
import { loadWhisperEngine } from '../../src/stt/whisper-engine.js';
import { loadPiperTts } from '../../src/tts/piper-tts-engine.js';
import { loadSileroVad } from '../../src/vad/silero-vad.js';
import { recordAgent, type AgentLog } from '../support/agent-log.js';
import { LiveFeed, sleep } from '../support/live-feed.js';
import { trimmedSpeech } from '../support/speech-fixtures.js';
import { SCRIPTED_REPLY, SCRIPTED_TRANSCRIPT, testModels } from '../support/test-models.js';

/** The real whisper engine, counting its calls and failing the ones listed in `failCalls` (1-based). */
function countingStt(stt: SttEngine, failCalls: number[] = []): SttEngine & { calls: number } {
  const counted = {
    calls: 0,
    backend: stt.backend,
    transcribe(audio: Float32Array, options?: Parameters<SttEngine['transcribe']>[1]) {
      counted.calls++;
      if (failCalls.includes(counted.calls)) return Promise.reject(new Error('whisper.cpp failed to transcribe: test failure'));
      return stt.transcribe(audio, options);
    },
    dispose: () => Promise.resolve(),
  };
  return counted;
}

describe('speculative turns on real engines, live', () => {
  let engines: AgentEngineSet;
  let question: Float32Array;
  let first: Float32Array;
  let rest: Float32Array;

  beforeAll(async () => {
    engines = {
      vad: await loadSileroVad(),
      stt: await loadWhisperEngine({ modelPath: testModels.stt }),
      llm: await loadLlamaEngine({ modelPath: testModels.llm, gpu: 'off', threads: 1 }),
      tts: await loadPiperTts({ voiceDir: testModels.voice, espeakDataDir: testModels.espeakData, threads: 1 }),
    };
    question = await trimmedSpeech('What is the capital of France?');
    first = await trimmedSpeech('What is the capital');
    rest = await trimmedSpeech('of France?');
  });
  afterAll(async () => {
    await Promise.all(Object.values(engines).map((e) => e!.dispose()));
  });

  async function conversation(say: (feed: LiveFeed) => void, stt: SttEngine, options: AgentOptions = {}): Promise<{ agent: Agent; log: AgentLog }> {
    // No partial transcripts: every STT call counted here is a turn's or a speculation's.
    const agent = new Agent(
      { ...engines, stt },
      { sink: new RealtimeSink({ write: () => undefined }), interruption: { duplex: 'full' }, partialTranscripts: { enabled: false }, ...options },
    );
    const log = recordAgent(agent);
    const feed = new LiveFeed(agent);
    agent.start();
    feed.start();
    say(feed);
    await feed.drain(1200);
    while (log['turn-end'].length === 0) await sleep(20);
    await feed.stop();
    await agent.close();
    return { agent, log };
  }

  /** Nothing of the reply is heard or shown before the user's turn has ended. */
  function nothingBeforeTheEnd(log: AgentLog): void {
    const ended = log['speech-end'].at(-1)!.t;
    for (const e of [...log.audio, ...log['reply-delta'], ...log['reply-sentence'], ...log.transcript]) expect(e.t).toBeGreaterThanOrEqual(ended);
  }

  it('prepares the reply during the pause and plays it when the turn ends', async () => {
    const stt = countingStt(engines.stt);
    const { agent, log } = await conversation((feed) => feed.say(question, 300), stt);
    expect(log.error).toEqual([]);
    expect(log.metrics).toHaveLength(1);
    const m = log.metrics[0];
    expect(m.speculated).toBe(true);
    expect(m.transcript).toBe(SCRIPTED_TRANSCRIPT);
    expect(m.reply).toBe(SCRIPTED_REPLY);
    expect(stt.calls).toBe(1);
    nothingBeforeTheEnd(log);
    expect(agent.history).toEqual([
      { role: 'user', text: SCRIPTED_TRANSCRIPT },
      { role: 'assistant', text: SCRIPTED_REPLY },
    ]);
    // One transcription, the speculative one: the reply that played was prepared in the pause. How much of its
    // compute fit in the pause depends on the machine; `npm run bench -- --shapes real` measures that.
    console.log(`speculated turn: endpoint ${m.ms.endpoint} ms, transcript ${m.ms.transcript} ms, first audio ${m.ms.firstAudio} ms`);
    expect(m.ms.firstAudio!).toBeGreaterThanOrEqual(m.ms.endpoint);
  });

  it('speech after the pause drops the speculation unheard, and the words join the same turn', async () => {
    const stt = countingStt(engines.stt);
    const { agent, log } = await conversation((feed) => {
      feed.say(first, 300);
      // A 350 ms pause: past the 200 ms speculation point, short of the 500 ms end of turn.
      feed.say(rest, 300 + (first.length / 16) + 350);
    }, stt);
    expect(log.error).toEqual([]);
    expect(log['speech-end']).toHaveLength(1);
    expect(log.transcript).toHaveLength(1);
    expect(log['turn-end']).toHaveLength(1);
    // One speculation for the pause (dropped), one for the end (promoted).
    expect(stt.calls).toBeGreaterThanOrEqual(2);
    expect(log.metrics[0].speculated).toBe(true);
    nothingBeforeTheEnd(log);
    expect(agent.history).toHaveLength(2);
  });

  it('a speculation whose transcription fails never reaches the user: the turn runs as usual', async () => {
    const stt = countingStt(engines.stt, [1]);
    const { agent, log } = await conversation((feed) => feed.say(question, 300), stt);
    expect(log.error).toEqual([]);
    expect(stt.calls).toBe(2);
    expect(log.metrics).toHaveLength(1);
    expect(log.metrics[0].speculated).toBeUndefined();
    expect(log.metrics[0].transcript).toBe(SCRIPTED_TRANSCRIPT);
    expect(agent.history).toHaveLength(2);
  });

  it('speculation off: the same turn is answered after the endpoint, from scratch', async () => {
    const stt = countingStt(engines.stt);
    const { log } = await conversation((feed) => feed.say(question, 300), stt, { speculation: { enabled: false } });
    expect(log.metrics[0].speculated).toBeUndefined();
    expect(log.metrics[0].ms.transcript).toBeGreaterThan(log.metrics[0].ms.endpoint);
  });
});
