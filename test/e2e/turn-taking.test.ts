import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, type AgentEngineSet } from '../../src/agent/agent.js';
import type { AgentOptions } from '../../src/agent/agent-options.js';
import { RealtimeSink } from '../../src/audio/realtime-sink.js';
import { WavCollectorSink } from '../../src/audio/wav-collector-sink.js';
import { loadLlamaEngine } from '../../src/llm/llama-engine.js';
import { loadWhisperEngine } from '../../src/stt/whisper-engine.js';
import { loadPiperTts } from '../../src/tts/piper-tts-engine.js';
import { loadSileroVad } from '../../src/vad/silero-vad.js';
import type { DuplexMode } from '../../src/turn/echo-gate-options.js';
import { recordAgent, type AgentLog } from '../support/agent-log.js';
import { LiveFeed, sleep, type EchoPath } from '../support/live-feed.js';
import { fliteSpeech, trimmedSpeech } from '../support/speech-fixtures.js';
import { SCRIPTED_REPLY, SCRIPTED_TRANSCRIPT, testModels } from '../support/test-models.js';

type Log = AgentLog;
const record = recordAgent;

describe('turn-taking on real engines', () => {
  let engines: AgentEngineSet;
  let sttNoWords: AgentEngineSet["stt"];
  let question: Float32Array;
  let otherVoice: Float32Array;
  let ahem: Float32Array;

  beforeAll(async () => {
    engines = {
      vad: await loadSileroVad(),
      stt: await loadWhisperEngine({ modelPath: testModels.stt }),
      llm: await loadLlamaEngine({ modelPath: testModels.llmEndless, gpu: 'off', threads: 1 }),
      tts: await loadPiperTts({ voiceDir: testModels.voice, espeakDataDir: testModels.espeakData, threads: 1 }),
    };
    sttNoWords = await loadWhisperEngine({ modelPath: testModels.sttNoWords });
    question = await fliteSpeech('What is the capital of France?');
    otherVoice = await fliteSpeech('Wait, stop, tell me about Berlin instead.', 'kal');
    ahem = await fliteSpeech('ahem');
  });
  afterAll(async () => {
    await Promise.all([...Object.values(engines), sttNoWords].map((e) => e.dispose()));
  });

  /** An agent on a real-time sink and a real-time microphone feed, optionally with its own echo in the mic. */
  function live(opts: { duplex?: DuplexMode; echo?: EchoPath; stt?: AgentEngineSet['stt']; options?: AgentOptions }) {
    let feed!: LiveFeed;
    const sink = new RealtimeSink({
      write: (b, r) => {
        writes.push(performance.now());
        feed.onSinkWrite(b, r);
      },
    });
    const writes: number[] = [];
    const agent = new Agent(
      { ...engines, ...(opts.stt ? { stt: opts.stt } : {}) },
      { sink, maxReplyTokens: 16, interruption: { duplex: opts.duplex ?? 'full' }, ...opts.options },
    );
    feed = new LiveFeed(agent, opts.echo);
    const log = record(agent);
    agent.start();
    feed.start();
    return { agent, feed, sink, log, writes };
  }

  const firstAudio = async (log: Log) => {
    while (log.audio.length === 0) await sleep(10);
    return log.audio[0].t;
  };

  it('a pause shorter than the end-of-turn silence does not split the turn; a longer one does', async () => {
    const agent = new Agent(engines, { sink: new WavCollectorSink(), interruption: { enabled: false }, maxReplyTokens: 30 });
    const log = record(agent);
    agent.start();
    const a = await trimmedSpeech('What is the capital');
    const b = await trimmedSpeech('of France?');
    const gap = (ms: number) => new Float32Array((ms / 1000) * 16000);
    agent.pushAudio(gap(600), 16000);
    agent.pushAudio(a, 16000);
    agent.pushAudio(gap(300), 16000);
    agent.pushAudio(b, 16000);
    agent.pushAudio(gap(1500), 16000);
    await agent.flush();
    expect(log['speech-end']).toHaveLength(1);
    agent.pushAudio(a, 16000);
    agent.pushAudio(gap(900), 16000);
    agent.pushAudio(b, 16000);
    agent.pushAudio(gap(1500), 16000);
    await agent.flush();
    await agent.close();
    expect(log['speech-end']).toHaveLength(3);
  });

  for (const offsetMs of [300, 1500]) {
    it(`speech over the reply ${offsetMs} ms into it cuts everything, keeps what was heard, and becomes the next turn`, async () => {
      const { agent, feed, log, writes } = live({ duplex: 'full' });
      feed.say(question, 200);
      const audioAt = await firstAudio(log);
      feed.say(otherVoice, offsetMs - (performance.now() - audioAt));
      await feed.drain(1500);
      while (log['turn-end'].length < 2) await sleep(20);
      await feed.stop();
      await agent.close();

      const [first, second] = log['turn-end'];
      expect(first.interrupted).toBe(true);
      expect(SCRIPTED_REPLY.repeat(20).startsWith(first.spoken)).toBe(true);
      expect(first.spoken.length).toBeLessThan(first.reply.length + 1);
      expect(second.transcript).toBe(SCRIPTED_TRANSCRIPT);
      expect(agent.history[1]).toMatchObject({ role: 'assistant', interrupted: true, text: first.spoken });
      expect(agent.history[2]).toMatchObject({ role: 'user', text: SCRIPTED_TRANSCRIPT });

      // Audible silence: from the detected onset until the next turn starts, the sink writes at most the one
      // 20 ms block already due — well inside 150 ms.
      const onset = log['speech-start'][1].t;
      expect(log['barge-in'].map((b) => b.action)).toEqual(['pause', 'cut']);
      const lastReplyWrite = Math.max(...writes.filter((w) => w < log['turn-end'][0].t));
      expect(lastReplyWrite - onset).toBeLessThan(150);
      expect(writes.filter((w) => w > onset + 25 && w < log['turn-end'][0].t)).toEqual([]);
      console.log(`barge-in at ${offsetMs} ms: onset to last reply audio ${(lastReplyWrite - onset).toFixed(1)} ms`);
    });
  }

  it('a cough over the reply pauses playback, then the reply goes on to the end', async () => {
    const { agent, feed, log } = live({ duplex: 'full', stt: sttNoWords, options: { maxReplyTokens: 16 } });
    const turn = agent.sendText('Tell me about Paris.');
    const audioAt = await firstAudio(log);
    feed.say(ahem, 400 - (performance.now() - audioAt));
    const result = await turn;
    await feed.stop();
    await agent.close();
    expect(log['speech-start'].length).toBeGreaterThan(0);
    expect(log['barge-in'].map((b) => b.action)).toEqual(['pause', 'resume']);
    expect(log['no-speech']).toHaveLength(1);
    expect(result.interrupted).toBe(false);
    expect(result.spoken).toBe(result.reply);
    expect(agent.history.map((h) => h.role)).toEqual(['user', 'assistant']);
  });

  it('a sound that transcribes to no words never starts a turn', async () => {
    const agent = new Agent({ ...engines, stt: sttNoWords }, { sink: new WavCollectorSink() });
    const log = record(agent);
    agent.start();
    agent.pushAudio(new Float32Array(8000), 16000);
    agent.pushAudio(ahem, 16000);
    agent.pushAudio(new Float32Array(16000), 16000);
    await agent.flush();
    await agent.close();
    expect(log['speech-end']).toHaveLength(1);
    expect(log['no-speech']).toHaveLength(1);
    expect(log['no-speech'][0].text).toBe('(coughs)');
    expect(log.transcript).toHaveLength(0);
    expect(agent.history).toHaveLength(0);
  });

  it('two people speaking back to back are answered once, with nothing lost and nothing talked over', async () => {
    const { agent, feed, log } = live({ duplex: 'full' });
    feed.say(question, 200);
    feed.say(otherVoice, 200 + (question.length / 16) + 700);
    await feed.drain(1000);
    while (log['turn-end'].length === 0 || agent.state !== 'listening') await sleep(20);
    await feed.stop();
    await agent.close();
    const users = agent.history.filter((h) => h.role === 'user').map((h) => h.text).join(' ');
    expect(users.split(SCRIPTED_TRANSCRIPT).length - 1).toBe(2);
    const last = agent.history[agent.history.length - 1];
    expect(last.role).toBe('assistant');
    expect(last.interrupted).toBeUndefined();
    // A reply cut before any of it was heard leaves no empty assistant message behind.
    expect(agent.history.some((h) => h.role === 'assistant' && h.text === '')).toBe(false);
    const answered = log['turn-end'].filter((t) => !t.interrupted);
    expect(answered.length).toBeGreaterThanOrEqual(1);
  });

  it('with open speakers (gate), its own voice in the microphone never interrupts it', async () => {
    const { agent, feed, log } = live({ duplex: 'gate', echo: { delayMs: 60, gain: 0.5 }, options: { maxReplyTokens: 16 } });
    const result = await agent.sendText('Tell me about Paris.');
    await feed.stop();
    await agent.close();
    expect(result.interrupted).toBe(false);
    expect(log['barge-in']).toHaveLength(0);
  });

  it('the same echo does interrupt in full duplex (so the gate is what stops it)', async () => {
    const { agent, feed, log } = live({ duplex: 'full', echo: { delayMs: 60, gain: 0.5 }, options: { maxReplyTokens: 16 } });
    const result = await agent.sendText('Tell me about Paris.');
    await feed.stop();
    await agent.close();
    expect(log['barge-in'].length).toBeGreaterThan(0);
    void result;
  });

  it('with open speakers (gate), a different voice over the echo still barges in', async () => {
    const { agent, feed, log } = live({ duplex: 'gate', echo: { delayMs: 60, gain: 0.5 } });
    const turn = agent.sendText('Tell me about Paris.');
    const audioAt = await firstAudio(log);
    feed.say(otherVoice, 800 - (performance.now() - audioAt));
    const result = await turn;
    await feed.drain(1200);
    while (log['turn-end'].length < 2) await sleep(20);
    await feed.stop();
    await agent.close();
    expect(result.interrupted).toBe(true);
    expect(log['turn-end'][1].transcript).toBe(SCRIPTED_TRANSCRIPT);
  });

  it('in half duplex the microphone is ignored while it speaks', async () => {
    const { agent, feed, log } = live({ duplex: 'half', echo: { delayMs: 60, gain: 0.5 }, options: { maxReplyTokens: 16 } });
    const turn = agent.sendText('Tell me about Paris.');
    const audioAt = await firstAudio(log);
    feed.say(otherVoice, 500 - (performance.now() - audioAt));
    const result = await turn;
    await feed.stop();
    await agent.close();
    expect(result.interrupted).toBe(false);
    expect(log['barge-in']).toHaveLength(0);
  });
});
