import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TurnClock } from '../../../src/agent/turn-metrics.js';
import type { LlmEngine } from '../../../src/llm/llm-engine.js';
import { streamReply } from '../../../src/reply/reply-pipeline.js';
import type { TtsEngine } from '../../../src/tts/tts-engine.js';
import { RecordingSink, ScriptedLlm, ToneTts, tokens } from '../../support/fake-engines.js';
import { advanceUntil, settle } from '../../support/fake-time.js';

type ReplyArgs = Parameters<typeof streamReply>[0];

const PARIS = 'Paris is the capital of France. It is known for the Eiffel Tower. It is old.';

/** Starts one reply with recorded callbacks; any argument can be replaced. */
function start(args: Partial<ReplyArgs> & { llm?: LlmEngine; tts?: TtsEngine }) {
  const controller = new AbortController();
  const clock = new TurnClock(0, performance.now());
  const log = { deltas: [] as string[], sentences: [] as string[], audio: [] as string[], speakingAt: undefined as number | undefined };
  const result = streamReply({
    llm: undefined,
    tts: new ToneTts(),
    sink: undefined,
    systemPrompt: 'Be brief.',
    history: [{ role: 'user', text: 'Tell me about Paris.' }],
    chunking: {},
    signal: controller.signal,
    clock,
    callbacks: {
      onDelta: (d) => log.deltas.push(d),
      onSentence: (s) => log.sentences.push(s),
      onAudio: (_chunk, text) => log.audio.push(text),
      onSpeaking: () => (log.speakingAt ??= performance.now()),
    },
    ...args,
  });
  return { result, controller, clock, log };
}

describe('streamReply', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('voices and plays each sentence in order; what was spoken is the whole reply', async () => {
    const llm = new ScriptedLlm([PARIS]);
    const tts = new ToneTts({ computeMs: 30 });
    const sink = new RecordingSink();
    const { result, log } = start({ llm, tts, sink });
    const sentences = ['Paris is the capital of France.', 'It is known for the Eiffel Tower.', 'It is old.'];
    expect(await settle(result)).toEqual({ reply: PARIS, spoken: PARIS, interrupted: false });
    expect(log.deltas.join('')).toBe(PARIS);
    expect(log.sentences).toEqual(sentences);
    expect(tts.synthesized).toEqual(sentences);
    expect(log.audio).toEqual(sentences);
    expect(sink.plays).toEqual(sentences.map((s) => ({ samples: tts.samplesFor(s), heard: tts.samplesFor(s) })));
    expect(llm.calls).toEqual([{ systemPrompt: 'Be brief.', history: [{ role: 'user', text: 'Tell me about Paris.' }], signal: expect.any(AbortSignal) }]);
  });

  it('plays the first sentence while the LLM still writes, and voices the next one while it plays', async () => {
    const llm = new ScriptedLlm([PARIS], { tokenMs: 40 });
    const tts = new ToneTts({ computeMs: 30 });
    const sink = new RecordingSink();
    const { result, log } = start({ llm, tts, sink });
    await advanceUntil(() => log.speakingAt !== undefined);
    expect(log.deltas.length).toBeLessThan(tokens(PARIS).length);
    await advanceUntil(() => tts.requested.length === 2);
    expect(sink.plays).toHaveLength(1);
    expect(sink.plays[0].heard).toBeUndefined();
    await settle(result);
  });

  it('marks the stages on the turn clock: first token, first sentence, first audio', async () => {
    // Tokens every 10 ms; the first sentence is complete when the 7th token starts the next one (70 ms);
    // its voice takes 30 ms more.
    const { result, clock } = start({ llm: new ScriptedLlm([PARIS]), tts: new ToneTts({ computeMs: 30 }), sink: new RecordingSink() });
    await settle(result);
    const { ms, compute } = clock.finish();
    expect(ms).toMatchObject({ firstToken: 10, firstSentence: 70, firstAudio: 100 });
    expect(compute).toMatchObject({ llmToFirstSentence: 70, ttsFirstSentence: 30, overhead: 0 });
  });

  it('aborted between sentences: nothing more is voiced or played, and the partial text is kept', async () => {
    const llm = new ScriptedLlm(['One two three. Four five six. Seven eight nine.'], { endless: true, tokenMs: 10 });
    const tts = new ToneTts({ computeMs: 500 });
    const sink = new RecordingSink();
    const { result, controller, log } = start({ llm, tts, sink });
    // The first sentence plays 540-840 ms; the second is being voiced 540-1040 ms.
    await vi.advanceTimersByTimeAsync(900);
    expect(sink.plays).toEqual([{ samples: tts.samplesFor('One two three.'), heard: tts.samplesFor('One two three.') }]);
    expect(tts.requested).toEqual(['One two three.', 'Four five six.']);
    controller.abort();
    const out = await settle(result);
    await vi.advanceTimersByTimeAsync(5000);
    expect(tts.synthesized).toEqual(['One two three.']);
    expect(tts.requested).toHaveLength(2);
    expect(sink.plays).toHaveLength(1);
    expect(out.interrupted).toBe(true);
    expect(out.spoken).toBe('One two three.');
    // The LLM was stopped where it was: its text so far is the reply, and nothing came after the abort.
    expect(out.reply).toBe(log.deltas.join(''));
    expect(log.deltas).toHaveLength(90);
    expect(llm.calls[0].signal?.aborted).toBe(true);
  });

  it('aborted as the next sentence is about to play: none of it is heard', async () => {
    const tts = new ToneTts();
    const sink = new RecordingSink();
    const controller = new AbortController();
    const { result, log } = start({
      llm: new ScriptedLlm(['One two three. Four five six. Seven.']),
      tts,
      sink,
      signal: controller.signal,
      callbacks: {
        onDelta: () => {},
        onSentence: () => {},
        onSpeaking: () => {},
        onAudio: (_c, text) => {
          log.audio.push(text);
          if (text === 'Four five six.') controller.abort();
        },
      },
    });
    const out = await settle(result);
    expect(sink.samplesWritten).toBe(tts.samplesFor('One two three.'));
    expect(out).toMatchObject({ interrupted: true, spoken: 'One two three.' });
    expect(log.audio).toEqual(['One two three.', 'Four five six.']);
  });

  it('aborted mid-sentence: the words heard so far, rounded down', async () => {
    const tts = new ToneTts({ msPerWord: 100 });
    const sink = new RecordingSink(20);
    const { result, controller, log } = start({ llm: new ScriptedLlm(['Alpha beta gamma delta. Epsilon.']), tts, sink });
    await advanceUntil(() => log.speakingAt !== undefined);
    // 250 ms into a 400 ms sentence: 13 blocks of 20 ms are out, 2.6 words' worth.
    await vi.advanceTimersByTimeAsync(250);
    controller.abort();
    const out = await settle(result);
    expect(sink.samplesWritten).toBe(13 * 320);
    expect(out).toMatchObject({ interrupted: true, spoken: 'Alpha beta' });
  });

  it('aborted before any audio: nothing voiced, nothing spoken', async () => {
    const tts = new ToneTts();
    const sink = new RecordingSink();
    const { result, controller } = start({ llm: new ScriptedLlm([PARIS]), tts, sink });
    await vi.advanceTimersByTimeAsync(35);
    controller.abort();
    const out = await settle(result);
    expect(out).toEqual({ reply: 'Paris is the', spoken: '', interrupted: true });
    expect(tts.requested).toEqual([]);
    expect(sink.plays).toEqual([]);
  });

  it('skips a sentence with nothing speakable: it is shown, never voiced or played', async () => {
    const text = 'Sure thing. \u{1F600}\u{1F600}. Bye now.';
    const tts = new ToneTts();
    const sink = new RecordingSink();
    const { result, log } = start({ llm: new ScriptedLlm([text]), tts, sink });
    const out = await settle(result);
    expect(log.sentences).toEqual(['Sure thing.', '\u{1F600}\u{1F600}.', 'Bye now.']);
    expect(tts.requested).toEqual(['Sure thing.', 'Bye now.']);
    expect(sink.plays).toHaveLength(2);
    expect(log.audio).toEqual(['Sure thing.', 'Bye now.']);
    expect(out).toEqual({ reply: text, spoken: text, interrupted: false });
  });

  it('voices markdown as words, and keeps the written text for the transcript', async () => {
    const text = 'This is **very** important. See [the docs](https://example.org) now.';
    const tts = new ToneTts();
    const { result, log } = start({ llm: new ScriptedLlm([text]), tts });
    const out = await settle(result);
    expect(tts.requested).toEqual(['This is very important.', 'See the docs now.']);
    expect(log.audio).toEqual(['This is **very** important.', 'See [the docs](https://example.org) now.']);
    expect(out.spoken).toBe(text);
  });

  it('speaks fixed text without an LLM', async () => {
    const tts = new ToneTts();
    const sink = new RecordingSink();
    const { result, clock } = start({ llm: undefined, fixedText: 'Hello. I am here.', tts, sink });
    expect(await settle(result)).toEqual({ reply: 'Hello. I am here.', spoken: 'Hello. I am here.', interrupted: false });
    expect(tts.synthesized).toEqual(['Hello.', 'I am here.']);
    expect(clock.has('firstToken')).toBe(true);
  });

  it('with no sink, counts every voiced sentence as heard', async () => {
    const { result, log } = start({ llm: new ScriptedLlm([PARIS]), sink: undefined });
    expect(await settle(result)).toMatchObject({ spoken: PARIS, interrupted: false });
    expect(log.audio).toHaveLength(3);
  });

  it('an LLM failure rejects the reply and stops voice and playback', async () => {
    const llm: LlmEngine = {
      async generate(_system, _history, options) {
        options?.onTextDelta?.('Hello there. ');
        options?.onTextDelta?.('And');
        throw new Error('llm broke');
      },
      async dispose() {},
    };
    const tts = new ToneTts({ computeMs: 50 });
    const sink = new RecordingSink();
    const { result } = start({ llm, tts, sink });
    await expect(settle(result)).rejects.toThrow('llm broke');
    await vi.advanceTimersByTimeAsync(5000);
    expect(sink.samplesWritten).toBe(0);
  });

  it('a voice failure rejects the reply and stops the LLM', async () => {
    const llm = new ScriptedLlm([PARIS], { endless: true });
    const tts: TtsEngine = {
      sampleRate: 16_000,
      async synthesize() {
        throw new Error('voice broke');
      },
      async dispose() {},
    };
    const { result, log } = start({ llm, tts, sink: new RecordingSink() });
    await expect(settle(result)).rejects.toThrow('voice broke');
    expect(llm.calls[0].signal?.aborted).toBe(true);
    const written = log.deltas.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(log.deltas).toHaveLength(written);
  });
});
