import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import type { AgentEngineSet } from '../../src/agent/agent.js';
import type { AgentEvents, TurnResult } from '../../src/agent/events.js';
import { RealtimeSink } from '../../src/audio/realtime-sink.js';
import { loadLlamaEngine } from '../../src/llm/llama-engine.js';
import type { SttEngine } from '../../src/stt/stt-engine.js';
import { loadWhisperEngine } from '../../src/stt/whisper-engine.js';
import { loadPiperTts } from '../../src/tts/piper-tts-engine.js';
import { loadSileroVad } from '../../src/vad/silero-vad.js';
import { writeScriptedWhisperModel } from '../fixtures/models/whisper-ggml.js';
import { LiveFeed, sleep } from '../support/live-feed.js';
import { espeakSpeech, trimmedSpeech } from '../support/speech-fixtures.js';
import { TEST_MODEL_DIR, testModels } from '../support/test-models.js';

/**
 * Every word list is classified by unit tests (interjection.test.ts); here, on real engines, the first few of
 * each kind run in every test run and all of them with EARSHOT_ALL_INTERJECTIONS=1 (npm run measure:barge-in).
 */
const pick = (said: string[], n: number) => (process.env.EARSHOT_ALL_INTERJECTIONS ? said : said.slice(0, n));

/** A whisper model that hears `text` in any audio: the transcript of each case is set per test. */
async function scriptedStt(text: string): Promise<SttEngine> {
  const modelPath = join(TEST_MODEL_DIR, `whisper-scripted-${text.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.bin`);
  if (!existsSync(modelPath)) await writeScriptedWhisperModel({ path: modelPath, script: text, shape: 'micro' });
  return loadWhisperEngine({ modelPath });
}

/** What is played for `said`: flite's voice, but a hum for "Mm-hm." (flite spells it out over a second). */
function spoken(said: string): Promise<Float32Array> {
  return said === 'Mm-hm.' ? espeakSpeech('hmm') : trimmedSpeech(said);
}

describe('backchannels over a reply, on real engines', () => {
  let engines: Omit<AgentEngineSet, 'stt'>;

  beforeAll(async () => {
    engines = {
      vad: await loadSileroVad(),
      llm: await loadLlamaEngine({ modelPath: testModels.llm, gpu: 'off', threads: 1 }),
      tts: await loadPiperTts({ voiceDir: testModels.voice, espeakDataDir: testModels.espeakData, threads: 1 }),
    };
  });
  afterAll(async () => {
    await Promise.all(Object.values(engines).map((e) => e.dispose()));
  });

  /** One reply with `said` spoken over it 1.5 s in (or nothing); what was played and what the agent did. */
  async function replyWith(said: string | undefined) {
    const stt = await scriptedStt(said ?? 'nothing');
    let played = 0;
    let feed!: LiveFeed;
    const sink = new RealtimeSink({
      write: (block, rate) => {
        played += block.length;
        feed.onSinkWrite(block, rate);
      },
    });
    const agent = new Agent({ ...engines, stt }, { sink, interruption: { duplex: 'full' } });
    feed = new LiveFeed(agent);
    const actions: AgentEvents['barge-in']['action'][] = [];
    const backchannels: string[] = [];
    const turns: TurnResult[] = [];
    agent.on('barge-in', (e) => actions.push(e.action));
    agent.on('backchannel', (e) => backchannels.push(e.text));
    agent.on('turn-end', (t) => turns.push(t));
    let audioAt = 0;
    agent.on('audio', () => (audioAt ||= performance.now()));
    agent.start();
    feed.start();
    try {
      const reply = agent.sendText('Tell me about Paris.');
      if (said !== undefined) {
        while (!audioAt) await sleep(10);
        feed.say(await spoken(said), 1500 - (performance.now() - audioAt));
      }
      const result = await reply;
      await feed.drain(800);
      await agent.flush();
      return { result, played, actions, backchannels, turns };
    } finally {
      await feed.stop();
      await agent.close();
      await stt.dispose();
    }
  }

  let clean: Awaited<ReturnType<typeof replyWith>>;
  beforeAll(async () => {
    clean = await replyWith(undefined);
  });

  for (const said of pick(['Mm-hm.', 'Yeah.', 'Okay.', 'Right.'], 2)) {
    it(`"${said}" pauses the reply, which then resumes where it paused and is heard whole`, async () => {
      const { result, played, actions, backchannels, turns } = await replyWith(said);
      expect(actions).toEqual(['pause', 'resume']);
      expect(backchannels).toEqual([said]);
      expect(result.interrupted).toBe(false);
      expect(result.spoken).toBe(result.reply);
      // Nothing lost, nothing played twice: as many samples as the same reply with nobody talking over it.
      expect(played).toBe(clean.played);
      expect(turns).toHaveLength(1);
    });
  }

  for (const said of pick(['Stop.', 'Excuse me.', 'Yeah, and what about the tickets for tomorrow evening?', 'Wait.', 'No.'], 3)) {
    it(`"${said}" cuts the reply and is the next turn`, async () => {
      const { result, actions, backchannels, turns } = await replyWith(said);
      expect(actions).toEqual(['pause', 'cut']);
      expect(backchannels).toEqual([]);
      expect(result.interrupted).toBe(true);
      expect(turns[1]?.transcript).toBe(said);
    });
  }
});
