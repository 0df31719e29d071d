import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { concatFloat32 } from '../../../src/audio/pcm.js';
import { FRAME_MS, silence, tone } from '../../support/fake-engines.js';
import { advanceUntil, settle } from '../../support/fake-time.js';
import { scriptedAgent, speak, COUNT, type AgentScript, type Logged } from '../../support/scripted-agent.js';

const EVENTS = ['state', 'speech-start', 'speech-end', 'transcript', 'no-speech', 'audio', 'turn-end', 'barge-in', 'metrics', 'error'] as const;

function setup(script: AgentScript = {}) {
  return scriptedAgent(script, EVENTS);
}

const speakingAt = (log: Logged) => log.state.find((s) => s.state === 'speaking')?.t;

describe('Agent on scripted engines', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('answers a text turn: the reply is streamed, spoken to the end and kept in the history', async () => {
    const { agent, sink, log, tts, llm } = setup({ replies: ['Paris is the capital of France. It is old.'] });
    const result = await settle(agent.sendText('  What is the capital of France? '));
    expect(result).toEqual({
      turn: 1,
      transcript: 'What is the capital of France?',
      reply: 'Paris is the capital of France. It is old.',
      spoken: 'Paris is the capital of France. It is old.',
      interrupted: false,
    });
    expect(llm.calls[0].history).toEqual([{ role: 'user', text: 'What is the capital of France?' }]);
    expect(log.state.map((s) => s.state)).toEqual(['thinking', 'speaking', 'idle']);
    expect(log.audio.map((a) => a.text)).toEqual(['Paris is the capital of France.', 'It is old.']);
    expect(sink.samplesWritten).toBe(tts.samplesFor('Paris is the capital of France. It is old.'));
    expect(agent.history).toEqual([
      { role: 'user', text: 'What is the capital of France?' },
      { role: 'assistant', text: 'Paris is the capital of France. It is old.' },
    ]);
    expect(log.metrics).toHaveLength(1);
    expect(log.metrics[0].speech).toBeUndefined();
    expect(log.error).toEqual([]);
    await settle(agent.close());
  });

  it('answers an audio turn: the VAD finds the utterance, STT hears all of it, and the reply follows', async () => {
    const { agent, log, stt, llm } = setup({
      transcripts: ['What is the capital of France?'],
      replies: ['Paris.'],
      options: { speculation: { enabled: false } },
    });
    agent.start();
    agent.pushAudio(concatFloat32([silence(300), tone(1000), silence(1000)]), 16_000);
    await settle(agent.flush());

    expect(log['speech-start']).toHaveLength(1);
    expect(log['speech-start'][0].atMs).toBe(288);
    expect(log['speech-end']).toHaveLength(1);
    const end = log['speech-end'][0];
    expect(end).toMatchObject({ startMs: 288, truncated: false });
    expect(Math.abs(end.endMs - 1300)).toBeLessThanOrEqual(FRAME_MS);
    // While the tone was open it was transcribed in part, on a short window, at least once.
    expect(stt.partials.length).toBeGreaterThanOrEqual(1);
    // STT got the pre-roll, the whole tone and the silence that ended the turn.
    expect(stt.heard).toHaveLength(1);
    const heard = stt.heard[0];
    expect(heard.filter((s) => Math.abs(s) > 0.01).length).toBeGreaterThan(0.95 * 16_000);
    expect(heard.length).toBeGreaterThanOrEqual(1.3 * 16_000 + 500 * 16);
    expect(log.transcript.map((t) => t.text)).toEqual(['What is the capital of France?']);
    expect(llm.calls[0].history).toEqual([{ role: 'user', text: 'What is the capital of France?' }]);
    expect(agent.history).toEqual([
      { role: 'user', text: 'What is the capital of France?' },
      { role: 'assistant', text: 'Paris.' },
    ]);
    expect(log.state.map((s) => s.state)).toContain('thinking');
    // Stage times count from the end of speech: the 512 ms of end silence, then STT's 5 ms.
    expect(log.metrics[0].ms).toMatchObject({ endpoint: 512, transcript: 517 });
    expect(log.metrics[0].speech).toEqual({ startMs: end.startMs, endMs: end.endMs });
    await settle(agent.close());
  });

  it('inputLost() mid-utterance drops the words cut off: no turn for them, the next utterance is answered whole', async () => {
    const { agent, log, stt } = setup({ transcripts: ['Say it again.'], replies: ['Paris.'], options: { speculation: { enabled: false } } });
    agent.start();
    await speak(agent, concatFloat32([silence(300), tone(800)]));
    expect(agent.state).toBe('user-speaking');
    // The microphone is lost here: its silence is not the end of a turn, and what it heard so far is half of one.
    expect(await settle(agent.inputLost())).toBe(true);
    expect(agent.state).toBe('listening');
    await speak(agent, silence(1000));
    expect(log['speech-end']).toEqual([]);
    expect(stt.heard).toEqual([]);
    // Back: a whole question, heard from its start.
    await speak(agent, concatFloat32([silence(300), tone(600), silence(700)]));
    await settle(agent.flush());
    expect(log.transcript.map((t) => t.text)).toEqual(['Say it again.']);
    expect(stt.heard).toHaveLength(1);
    expect(stt.heard[0].filter((x) => Math.abs(x) > 0.01).length).toBeLessThan(0.7 * 16_000);
    expect(await settle(agent.inputLost())).toBe(false);
    await settle(agent.close());
  });

  it('with speculation, the reply is prepared from the utterance at its 200 ms pause and played when the turn ends', async () => {
    const { agent, log, stt, llm, sink } = setup({ transcripts: ['What is the capital of France?'], replies: ['Paris.'] });
    agent.start();
    await speak(agent, concatFloat32([silence(300), tone(1000), silence(1000)]));
    await settle(agent.flush());
    // One transcription, of the utterance up to the speculation point: the tone and about 200 ms after it.
    expect(stt.heard).toHaveLength(1);
    expect(stt.heard[0].length).toBeLessThan(1.3 * 16_000 + 300 * 16);
    expect(llm.calls).toHaveLength(1);
    const m = log.metrics[0];
    expect(m.speculated).toBe(true);
    expect(m.ms.endpoint).toBeGreaterThanOrEqual(500);
    expect(m.ms.transcript).toBeLessThan(m.ms.endpoint);
    // Prepared in the pause, the reply plays at the endpoint, not before it.
    expect(m.ms.firstAudio!).toBeGreaterThanOrEqual(m.ms.endpoint);
    expect(m.ms.firstAudio! - m.ms.endpoint).toBeLessThanOrEqual(30);
    expect(log.audio[0].t).toBeGreaterThanOrEqual(log['speech-end'][0].t);
    expect(sink.plays.length).toBeGreaterThan(0);
    expect(agent.history).toEqual([
      { role: 'user', text: 'What is the capital of France?' },
      { role: 'assistant', text: 'Paris.' },
    ]);
    await settle(agent.close());
  });

  it('speech over a reply pauses it at the onset, cuts it, keeps what was heard and becomes the next turn', async () => {
    const { agent, sink, log, llm } = setup({
      transcripts: ['Tell me about Berlin instead.'],
      replies: [COUNT, 'Berlin is big.'],
      // A barge-in needs 250 ms of speech here (128 by default), so the onset lands inside "six".
      options: { interruption: { duplex: 'full', minSpeechMs: 250 } },
    });
    agent.start();
    const first = agent.sendText('Count for me.');
    await advanceUntil(() => speakingAt(log) !== undefined);
    // Sentence one plays 0-400 ms, "Five" 400-500 ms. The user starts at 326 ms; the onset is confirmed
    // 8 frames later (about 550 ms), inside "six".
    await vi.advanceTimersByTimeAsync(326);
    await speak(agent, concatFloat32([tone(1000), silence(1000)]));
    await settle(first);
    await settle(agent.flush());

    expect(log['barge-in'].map((b) => b.action)).toEqual(['pause', 'cut']);
    const [pause, cut] = log['barge-in'];
    // Silent from the pause on: the sink wrote nothing between the pause and the cut.
    expect(sink.writes.filter((w) => w.at > pause.t && w.at <= cut.t)).toEqual([]);
    expect(log['turn-end'][0]).toMatchObject({ interrupted: true, spoken: 'One two three four. Five' });
    expect(log['turn-end'][1]).toMatchObject({ interrupted: false, transcript: 'Tell me about Berlin instead.', spoken: 'Berlin is big.' });
    expect(agent.history).toEqual([
      { role: 'user', text: 'Count for me.' },
      { role: 'assistant', text: 'One two three four. Five', interrupted: true },
      { role: 'user', text: 'Tell me about Berlin instead.' },
      { role: 'assistant', text: 'Berlin is big.' },
    ]);
    // The model was told only what the user heard.
    expect(llm.calls[1].history[1]).toEqual({ role: 'assistant', text: 'One two three four. Five', interrupted: true });
    expect(log.error).toEqual([]);
    await settle(agent.close());
  });

  it('a cough over a reply pauses it, then the reply resumes where it stopped and plays to the end', async () => {
    const { agent, sink, log, tts } = setup({ transcripts: ['(coughs)'] });
    agent.start();
    const turn = agent.sendText('Count for me.');
    await advanceUntil(() => speakingAt(log) !== undefined);
    await vi.advanceTimersByTimeAsync(326);
    await speak(agent, concatFloat32([tone(300), silence(1000)]));
    const result = await settle(turn);

    expect(log['barge-in'].map((b) => b.action)).toEqual(['pause', 'resume']);
    const [pause, resume] = log['barge-in'];
    expect(sink.writes.filter((w) => w.at > pause.t && w.at < resume.t)).toEqual([]);
    expect(resume.t - pause.t).toBeGreaterThan(500);
    expect(log['no-speech']).toHaveLength(1);
    expect(result).toMatchObject({ interrupted: false, spoken: COUNT, reply: COUNT });
    // Nothing of the reply was lost to the pause.
    expect(sink.samplesWritten).toBe(tts.samplesFor(COUNT));
    expect(agent.history).toEqual([
      { role: 'user', text: 'Count for me.' },
      { role: 'assistant', text: COUNT },
    ]);
    expect(log['turn-end']).toHaveLength(1);
    await settle(agent.close());
  });

  it('speech before any of the reply was heard cuts it, and the words join the question', async () => {
    // The first sentence is written 500 ms in; the user's onset comes at about 250 ms.
    const { agent, log, llm } = setup({ transcripts: ['in Germany?'], replies: [COUNT, 'Berlin.'], tokenMs: 100 });
    agent.start();
    const first = agent.sendText('What is the capital');
    await speak(agent, concatFloat32([tone(900), silence(1000)]));
    await settle(first);
    await settle(agent.flush());
    expect(log['turn-end'][0]).toMatchObject({ interrupted: true, spoken: '' });
    expect(llm.calls[1].history).toEqual([{ role: 'user', text: 'What is the capital in Germany?' }]);
    expect(agent.history).toEqual([
      { role: 'user', text: 'What is the capital in Germany?' },
      { role: 'assistant', text: 'Berlin.' },
    ]);
    await settle(agent.close());
  });

  it('goes from user-speaking straight to thinking when the user stops', async () => {
    const { agent, log } = setup({ transcripts: ['Hello.'], replies: ['Hi.'] });
    agent.start();
    agent.pushAudio(concatFloat32([tone(600), silence(1000)]), 16_000);
    await settle(agent.flush());
    expect(log.state.map((s) => s.state)).toEqual(['listening', 'user-speaking', 'thinking', 'speaking', 'listening']);
    await settle(agent.close());
  });

  it('reports what a no-words sound over a reply was transcribed as', async () => {
    const { agent, log } = setup({ transcripts: ['(coughs)'] });
    agent.start();
    const turn = agent.sendText('Count for me.');
    await advanceUntil(() => speakingAt(log) !== undefined);
    await speak(agent, concatFloat32([tone(300), silence(1000)]));
    await settle(turn);
    expect(log['no-speech'].map((n) => n.text)).toEqual(['(coughs)']);
    await settle(agent.close());
  });
});
