import { get as httpGet } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentOptions } from '../../../src/agent/agent-options.js';
import { loadEngines, type LoadedEngines } from '../../../src/agent/load-engines.js';
import { concatFloat32 } from '../../../src/audio/pcm.js';
import { resample } from '../../../src/audio/resample.js';
import { encodePcmFrame } from '../../../src/server/pcm-frame.js';
import { SUBPROTOCOL } from '../../../src/server/protocol.js';
import type { ServeOptions } from '../../../src/server/serve-options.js';
import { CLOSE_BUSY, VoiceServer, type VoiceServerEvents } from '../../../src/server/voice-server.js';
import { connectClient, type ProtocolClient } from '../../support/protocol-client.js';
import { fliteSpeech, trimmedSpeech } from '../../support/speech-fixtures.js';
import { SCRIPTED_REPLY, SCRIPTED_TRANSCRIPT, testModels } from '../../support/test-models.js';

type Shared = LoadedEngines<'stt' | 'llm' | 'tts'>['engines'];

const agentOptions = (): AgentOptions => ({ models: { espeakData: testModels.espeakData }, gpu: 'off' });

async function load(llm: string): Promise<Shared> {
  const { engines } = await loadEngines(
    { models: { stt: testModels.stt, llm, voice: testModels.voice, espeakData: testModels.espeakData }, gpu: 'off' },
    ['stt', 'llm', 'tts'],
  );
  return engines;
}

/** Engines loaded once for the enclosing describe block, freed after it. */
function enginesFor(llm: string): () => Shared {
  let engines: Shared | undefined;
  beforeAll(async () => {
    engines = await load(llm);
  });
  afterAll(async () => {
    if (engines) await Promise.all([engines.stt.dispose(), engines.llm.dispose(), engines.tts.dispose()]);
  });
  return () => engines!;
}

async function startServer(
  engines: Shared,
  serve: Partial<ServeOptions> = {},
  agent: AgentOptions = {},
): Promise<{ server: VoiceServer; socketUrl: string; pageUrl: string }> {
  const server = new VoiceServer({ engines, agentOptions: { ...agentOptions(), ...agent }, serve: { port: 0, ...serve } });
  await server.listen();
  const page = new URL(server.url);
  const socket = new URL(page.href);
  socket.protocol = 'ws:';
  socket.pathname = '/ws';
  return { server, socketUrl: socket.href, pageUrl: page.href };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('earshot serve: the protocol over a real socket, with the real engines', () => {
  const engines = enginesFor(testModels.llm);
  let server: VoiceServer;
  let url: string;
  let question: Float32Array;
  const open: ProtocolClient[] = [];

  const client = async () => {
    const c = await connectClient(url);
    open.push(c);
    await c.next('hello');
    return c;
  };

  beforeAll(async () => {
    ({ server, socketUrl: url } = await startServer(engines()));
    question = await fliteSpeech(SCRIPTED_TRANSCRIPT);
  });

  afterAll(async () => {
    for (const c of open) c.close();
    await server?.close();
  });

  it('greets with the protocol version and the limits, then reports the state', async () => {
    const c = await client();
    const hello = await c.next('hello');
    expect(hello).toMatchObject({ protocol: 1, voiceSampleRate: engines().tts.sampleRate, limits: { maxMessageBytes: 256 * 1024 } });
    expect(await c.next('state')).toEqual({ type: 'state', state: 'idle', listening: false, mode: 'hands-free' });
    c.close();
  });

  it('answers a spoken question sent as PCM frames at 48 kHz, in audio at the voice\'s rate, sentence by sentence', async () => {
    const c = await client();
    const voiceRate = engines().tts.sampleRate;
    c.send({ type: 'start' });
    const at48k = await resample(concatFloat32([question, new Float32Array(16_000)]), 16_000, 48_000);
    await c.sendAudio(at48k, 48_000, { speed: 4 });
    expect(await c.next('speech-start')).toMatchObject({ type: 'speech-start' });
    expect(await c.next('transcript')).toEqual({ type: 'transcript', turn: 1, text: SCRIPTED_TRANSCRIPT });
    const end = await c.next('turn-end');
    expect(end).toMatchObject({ turn: 1, reply: SCRIPTED_REPLY, spoken: SCRIPTED_REPLY, interrupted: false });
    const sentences = c.messages.filter((m) => m.type === 'sentence-start');
    expect(sentences.map((s) => s.type === 'sentence-start' && s.text).join(' ')).toBe(SCRIPTED_REPLY);
    expect(c.messages.filter((m) => m.type === 'sentence-end').every((m) => m.type === 'sentence-end' && !m.interrupted)).toBe(true);
    expect(await c.next('metrics')).toMatchObject({ turn: 1, interrupted: false, ms: { firstAudio: expect.any(Number) } });
    // Every frame is tagged with its turn and carries the voice's rate; together they are the whole reply.
    expect(new Set(c.frames.map((f) => f.turn))).toEqual(new Set([1]));
    expect(new Set(c.frames.map((f) => f.sampleRate))).toEqual(new Set([voiceRate]));
    const seconds = c.frames.reduce((n, f) => n + f.samples.length, 0) / voiceRate;
    const said = sentences.reduce((n, s) => n + (s.type === 'sentence-start' ? s.durationMs : 0), 0) / 1000;
    expect(Math.abs(seconds - said)).toBeLessThan(0.05);
    c.close();
  });

  it('answers malformed, unknown, oversized and broken messages with an error and carries on', async () => {
    const c = await client();
    const errors = () => c.messages.filter((m) => m.type === 'error').map((m) => m.type === 'error' && m.code);
    c.sendRaw('this is not JSON');
    c.sendRaw(JSON.stringify({ type: 'shout' }));
    c.sendRaw(JSON.stringify({ type: 'text', text: '' }));
    c.sendRaw(JSON.stringify({ type: 'text', text: 'hi', extra: 1 }));
    c.sendRaw(JSON.stringify({ type: 'config', mode: 'always' }));
    c.sendRaw(JSON.stringify({ type: 'text', text: 'x'.repeat(300 * 1024) }));
    c.sendRaw(Buffer.from([1, 2, 3]));
    c.sendRaw(encodePcmFrame(new Int16Array(10), 1000));
    c.sendRaw(Buffer.concat([encodePcmFrame(new Int16Array(10), 16_000), Buffer.from([0])]));
    const junk = encodePcmFrame(new Int16Array(10), 16_000);
    junk[0] = 7;
    c.sendRaw(junk);
    c.sendRaw(Buffer.alloc(0));
    await c.next('error', { where: () => errors().length >= 11 });
    expect(errors()).toEqual([
      'bad-message', 'bad-message', 'bad-message', 'bad-message', 'bad-message', 'too-large',
      'bad-audio', 'bad-audio', 'bad-audio', 'bad-audio', 'bad-audio',
    ]);
    c.send({ type: 'text', text: 'Still there?' });
    expect(await c.next('turn-end')).toMatchObject({ transcript: 'Still there?', reply: SCRIPTED_REPLY });
    expect(c.socket.readyState).toBe(c.socket.OPEN);
    c.close();
  });

  it('closes a socket that sends more than the hard limit at once (1009), and keeps serving others', async () => {
    const c = await client();
    c.sendRaw(Buffer.alloc(256 * 1024 * 16 + 1));
    expect((await c.closed).code).toBe(1009);
    const other = await client();
    other.send({ type: 'text', text: 'Hello?' });
    expect(await other.next('turn-end')).toMatchObject({ reply: SCRIPTED_REPLY });
    other.close();
  });

  it('push-to-talk: audio counts only while the key is held, and releasing it ends the turn without waiting for silence', async () => {
    const c = await client();
    c.send({ type: 'start', mode: 'push-to-talk' });
    await c.next('state', { where: (m) => m.listening && m.mode === 'push-to-talk' });
    // Not held: the question is not heard at all.
    await c.sendAudio(concatFloat32([question, new Float32Array(16_000)]), 16_000, { speed: Infinity });
    await sleep(1500);
    expect(c.messages.filter((m) => m.type === 'speech-start' || m.type === 'transcript')).toEqual([]);
    // Held: the question with no silence after it; only the release can end this utterance.
    c.send({ type: 'ptt-down' });
    await c.sendAudio(await trimmedSpeech(SCRIPTED_TRANSCRIPT), 16_000, { speed: Infinity });
    await c.next('speech-start');
    await sleep(300);
    expect(c.messages.some((m) => m.type === 'speech-end')).toBe(false);
    c.send({ type: 'ptt-up' });
    expect(await c.next('transcript')).toMatchObject({ text: SCRIPTED_TRANSCRIPT });
    expect(await c.next('turn-end')).toMatchObject({ reply: SCRIPTED_REPLY });
    c.close();
  });

  it('interrupt cuts the reply: the sentence playing ends early, the turn ends interrupted, no audio follows', async () => {
    const c = await client();
    c.send({ type: 'text', text: 'Tell me about Paris.' });
    await c.next('sentence-start');
    await sleep(400);
    c.send({ type: 'interrupt' });
    const end = await c.next('turn-end');
    const framesAtEnd = c.frames.length;
    expect(end.interrupted).toBe(true);
    expect(SCRIPTED_REPLY.startsWith(end.spoken)).toBe(true);
    expect(end.spoken.length).toBeLessThan(SCRIPTED_REPLY.length);
    expect(await c.next('sentence-end')).toMatchObject({ interrupted: true });
    await sleep(500);
    expect(c.frames.length).toBe(framesAtEnd);
    c.close();
  });

  it('two conversations at once: each its own history, the shared model answers them in the order asked', async () => {
    const [a, b] = [await client(), await client()];
    a.send({ type: 'text', text: 'First question from A.' });
    b.send({ type: 'text', text: 'First question from B.' });
    const [endA, endB] = await Promise.all([a.next('turn-end'), b.next('turn-end')]);
    expect(endA).toMatchObject({ turn: 1, transcript: 'First question from A.', reply: SCRIPTED_REPLY });
    expect(endB).toMatchObject({ turn: 1, transcript: 'First question from B.', reply: SCRIPTED_REPLY });
    // One model, two calls queued in the order made: one reply is written whole before the other begins.
    const deltaTimes = (c: ProtocolClient) => c.arrivals.filter((_, i) => c.messages[i].type === 'reply-delta');
    const [first, second] = [deltaTimes(a), deltaTimes(b)].sort((x, y) => x[0] - y[0]);
    expect(first.length).toBeGreaterThan(3);
    expect(first.at(-1)!).toBeLessThan(second[0]);
    const [sessionA, sessionB] = server.sessions.slice(-2);
    expect(sessionA.history.map((t) => t.text)).toEqual(['First question from A.', SCRIPTED_REPLY]);
    expect(sessionB.history.map((t) => t.text)).toEqual(['First question from B.', SCRIPTED_REPLY]);

    // A third is turned away while both are open, and gets in once one leaves.
    const third = await connectClient(url);
    open.push(third);
    expect(await third.next('error')).toMatchObject({ code: 'busy' });
    expect((await third.closed).code).toBe(CLOSE_BUSY);
    a.close();
    await until(() => server.sessions.length === 1);
    const fourth = await client();
    expect(fourth.messages[0]).toMatchObject({ type: 'hello' });
    b.close();
    fourth.close();
  });

  it('closes a session from which nothing arrived for the idle time', async () => {
    const quick = await startServer(engines(), { idleTimeoutMs: 400 });
    try {
      const c = await connectClient(quick.socketUrl);
      await c.next('hello');
      expect(await c.next('error', { timeoutMs: 5000 })).toMatchObject({ code: 'idle' });
      expect((await c.closed).code).toBe(4001);
      await until(() => quick.server.sessions.length === 0);
    } finally {
      await quick.server.close();
    }
  });

  it('forgets a conversation after the idle reset and tells the page, per session', async () => {
    const quick = await startServer(engines(), {}, { idleReset: { afterMs: 500 } });
    try {
      const [a, b] = [await connectClient(quick.socketUrl), await connectClient(quick.socketUrl)];
      await Promise.all([a.next('hello'), b.next('hello')]);
      const [sessionA, sessionB] = quick.server.sessions;
      a.send({ type: 'text', text: 'Where is the Vermeer room?' });
      await a.next('sentence-start');
      a.send({ type: 'interrupt' });
      await a.next('turn-end');
      expect(sessionA.history.map((t) => t.text)[0]).toBe('Where is the Vermeer room?');
      expect(await a.next('forgotten', { timeoutMs: 5000 })).toEqual({ type: 'forgotten', reason: 'idle' });
      expect(sessionA.history).toEqual([]);
      // The other conversation had nothing to forget, and was told nothing.
      expect(b.messages.some((m) => m.type === 'forgotten')).toBe(false);
      expect(sessionB.history).toEqual([]);
      a.close();
      b.close();
    } finally {
      await quick.server.close();
    }
  });
});

/** fetch() will not send another Host header; a plain request will, as a rebinding attacker's browser would. */
function statusOf(url: string, headers: Record<string, string>): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers }, (res) => {
      res.resume();
      resolve(res.statusCode);
    }).on('error', reject);
  });
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}

describe('earshot serve: who may connect', () => {
  const engines = enginesFor(testModels.llm);

  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => 'connected',
      (e: { status?: number }) => e.status,
    );

  it('on loopback without a token: same-origin sockets only, this machine\'s names only, protocol earshot.v1 only', async () => {
    const { server, socketUrl, pageUrl } = await startServer(engines());
    try {
      const origin = new URL(pageUrl).origin;
      const ok = await connectClient(socketUrl, { origin });
      ok.close();
      const noOrigin = await connectClient(socketUrl);
      noOrigin.close();
      expect(await refusal(connectClient(socketUrl, { origin: 'http://evil.example' }))).toBe(403);
      expect(await refusal(connectClient(socketUrl, { headers: { Host: 'evil.example' } }))).toBe(403);
      expect(await refusal(connectClient(socketUrl, { protocols: ['earshot.v2'] }))).toBe(400);
      expect(await refusal(connectClient(socketUrl.replace('/ws', '/other')))).toBe(400);
      const page = await fetch(pageUrl);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(await statusOf(pageUrl, { Host: 'evil.example' })).toBe(403);
      expect((await fetch(new URL('/tsconfig.json', pageUrl))).status).toBe(404);
      expect((await fetch(new URL('/%2e%2e/package.json', pageUrl))).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('with a token: the page and every socket must present it; the page\'s cookie serves its own socket', async () => {
    const { server, socketUrl, pageUrl } = await startServer(engines(), { token: 'secret-1' });
    try {
      expect(pageUrl).toContain('?token=secret-1');
      const bare = new URL(pageUrl);
      bare.search = '';
      expect((await fetch(bare)).status).toBe(401);
      expect((await fetch(`${bare.href}?token=wrong`)).status).toBe(401);
      const page = await fetch(pageUrl);
      expect(page.status).toBe(200);
      const cookie = page.headers.get('set-cookie')!.split(';')[0];
      expect((await fetch(new URL('/app.js', bare), { headers: { Cookie: cookie } })).status).toBe(200);

      const socketBare = socketUrl.replace(/\?.*$/, '');
      expect(await refusal(connectClient(socketBare))).toBe(401);
      expect(await refusal(connectClient(`${socketBare}?token=wrong`))).toBe(401);
      (await connectClient(`${socketBare}?token=secret-1`)).close();
      (await connectClient(socketBare, { headers: { Cookie: cookie } })).close();
      // A token also lets other host names in (a LAN address), still same-origin only.
      (await connectClient(`${socketBare}?token=secret-1`, { headers: { Host: 'kiosk.lan:1' }, origin: 'http://kiosk.lan:1' })).close();
    } finally {
      await server.close();
    }
  });

  it('refuses to bind a non-loopback address without a token', () => {
    expect(() => new VoiceServer({ engines: engines(), serve: { host: '0.0.0.0', port: 0 } })).toThrow(/needs a token/);
  });

  it('accepts the subprotocol among others the client offers', async () => {
    const { server, socketUrl } = await startServer(engines());
    try {
      const c = await connectClient(socketUrl, { protocols: ['earshot.v9', SUBPROTOCOL] });
      expect(c.socket.protocol).toBe(SUBPROTOCOL);
      c.close();
    } finally {
      await server.close();
    }
  });
});

describe('earshot serve: a closed tab', () => {
  // A model that never stops talking: only an abort ends its turn and frees it for the next caller.
  const engines = enginesFor(testModels.llmEndless);

  it('aborts its turn at once, whether running or waiting, and frees the shared model for the others', async () => {
    // No token limit: A's reply must still be going when the others close.
    const { server, socketUrl } = await startServer(engines(), { maxSessions: 3 }, { maxReplyTokens: 1_000_000 });
    const closes: VoiceServerEvents['session-close'][] = [];
    server.on('session-close', (e) => closes.push(e));
    const talking = (c: ProtocolClient) => c.messages.some((m) => m.type === 'reply-delta');
    try {
      const [a, b, c] = await Promise.all([connectClient(socketUrl), connectClient(socketUrl), connectClient(socketUrl)]);
      await Promise.all([a.next('hello'), b.next('hello'), c.next('hello')]);
      a.send({ type: 'text', text: 'Talk forever.' });
      await a.next('sentence-start');
      b.send({ type: 'text', text: 'My turn?' });
      c.send({ type: 'text', text: 'And mine?' });
      await sleep(500);
      expect([talking(b), talking(c)]).toEqual([false, false]);

      // B closes while its turn waits for the model: it is freed now, not when A's endless reply ends.
      b.socket.terminate();
      await until(() => closes.length === 1);
      const aDeltas = a.messages.length;
      await sleep(300);
      expect(a.messages.length).toBeGreaterThan(aDeltas);

      // A closes mid-reply: its generation stops and C, next in line, is answered.
      a.socket.terminate();
      expect(await c.next('reply-delta', { timeoutMs: 20_000 })).toMatchObject({ turn: 1 });
      await until(() => closes.length === 2);
      expect(server.sessions).toHaveLength(1);
      console.log(
        `[serve] closed tabs freed ${closes.map((e) => e.closeMs.toFixed(0)).join(' and ')} ms after their sockets closed (waiting, then talking)`,
      );
      c.send({ type: 'interrupt' });
      expect(await c.next('turn-end')).toMatchObject({ interrupted: true });
      c.close();
    } finally {
      await server.close();
    }
  });
});
