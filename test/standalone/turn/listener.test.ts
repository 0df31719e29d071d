import { afterEach, describe, expect, it, vi } from 'vitest';
import { concatFloat32 } from '../../../src/audio/pcm.js';
import type { DuplexMode } from '../../../src/turn/echo-gate-options.js';
import { Listener, type ListenerOptions, type Utterance } from '../../../src/turn/listener.js';
import { FRAME_SAMPLES, ScriptedVad, silence, tone } from '../../support/fake-engines.js';

/** A Listener on a scripted VAD, with every hook call recorded. */
function setup(options: Partial<ListenerOptions> & { duplex?: DuplexMode } = {}, vad = new ScriptedVad()) {
  const starts: number[] = [];
  const utterances: Utterance[] = [];
  const errors: Error[] = [];
  const reply = { audible: false };
  let frameCalls = 0;
  const listener = new Listener(
    vad,
    { duplex: 'full', ...options },
    {
      speechStart: (s) => starts.push(s),
      utterance: (u) => utterances.push(u),
      frame: () => frameCalls++,
      replyAudible: () => reply.audible,
    },
    (e) => errors.push(e),
  );
  return { listener, vad, starts, utterances, errors, reply, frames: () => frameCalls };
}

/** Pushes `audio` in blocks of `block` samples, as a microphone delivers it. */
function pushInBlocks(listener: Listener, audio: Float32Array, rate: number, block: number): void {
  for (let i = 0; i < audio.length; i += block) listener.push(audio.subarray(i, i + block), rate, performance.now());
}

/** 0.5 s of silence, 1 s of speech, 1 s of silence, at `rate`. */
const utteranceAt = (rate: number) => concatFloat32([silence(500, rate), tone(1000, rate), silence(1000, rate)]);

describe('Listener', () => {
  afterEach(() => vi.useRealTimers());

  it('cuts 16 kHz audio in any block size into whole 512-sample frames, in order, nothing lost', async () => {
    const { listener, vad, errors } = setup();
    // Quiet, distinct samples: no utterance opens, and any lost or repeated sample shows.
    const audio = new Float32Array(16_000 + 300).map((_, i) => i / 1e6);
    let at = 0;
    for (const size of [1, 100, 511, 777, 2048, 4000]) {
      listener.push(audio.slice(at, at + size), 16_000, performance.now());
      at += size;
    }
    listener.push(audio.slice(at), 16_000, performance.now());
    await listener.flush();
    expect(errors).toEqual([]);
    expect(vad.frames.every((f) => f.length === FRAME_SAMPLES)).toBe(true);
    expect(vad.frames).toHaveLength(Math.floor(audio.length / FRAME_SAMPLES));
    expect(concatFloat32(vad.frames)).toEqual(audio.slice(0, vad.frames.length * FRAME_SAMPLES));
  });

  for (const [rate, blockMs] of [
    [48_000, 10],
    [44_100, 23],
    [8_000, 32],
  ] as const) {
    it(`hears ${rate} Hz audio in ${blockMs} ms blocks as 32 ms frames at 16 kHz, and finds the same utterance`, async () => {
      const { listener, vad, starts, utterances, errors } = setup();
      const audio = utteranceAt(rate);
      pushInBlocks(listener, audio, rate, Math.round((rate * blockMs) / 1000));
      await listener.flush();
      expect(errors).toEqual([]);
      expect(vad.frames.every((f) => f.length === FRAME_SAMPLES)).toBe(true);
      const expectedFrames = (2.5 * 16_000) / FRAME_SAMPLES;
      expect(vad.frames.length).toBeGreaterThanOrEqual(Math.floor(expectedFrames) - 2);
      expect(vad.frames.length).toBeLessThanOrEqual(Math.ceil(expectedFrames));
      expect(starts).toHaveLength(1);
      expect(utterances).toHaveLength(1);
      // The speech sits at 0.5-1.5 s whatever the input rate (within a frame plus the resampler's delay).
      const u = utterances[0];
      expect(Math.abs(u.startSample - 8000)).toBeLessThanOrEqual(2 * FRAME_SAMPLES);
      expect(Math.abs(u.endSample - 24_000)).toBeLessThanOrEqual(2 * FRAME_SAMPLES);
    });
  }

  it('reports the onset at once and the utterance when the end silence has passed', async () => {
    const { listener, starts, utterances, frames } = setup();
    listener.push(utteranceAt(16_000), 16_000, performance.now());
    await listener.flush();
    expect(starts).toEqual([Math.floor(8000 / FRAME_SAMPLES) * FRAME_SAMPLES]);
    expect(utterances).toHaveLength(1);
    const u = utterances[0];
    expect(u.truncated).toBe(false);
    expect(u.startSample).toBe(starts[0]);
    expect(u.endSample - u.startSample).toBeGreaterThanOrEqual(16_000);
    expect(u.endSample - u.startSample).toBeLessThan(16_000 + 2 * FRAME_SAMPLES);
    expect(frames()).toBe(Math.floor((2.5 * 16_000) / FRAME_SAMPLES));
  });

  it('turns the VAD\u2019s own probabilities into turns, soft frames inside speech included', async () => {
    const script = [...Array(10).fill(0.9), ...Array(20).fill(0.4), ...Array(20).fill(0.02)];
    const { listener, utterances } = setup({}, new ScriptedVad(script));
    listener.push(silence(50 * 32), 16_000, performance.now());
    await listener.flush();
    expect(utterances).toHaveLength(1);
    expect(utterances[0]).toMatchObject({ startSample: 0, endSample: 30 * FRAME_SAMPLES });
  });

  it('endpointMs is the silence waited plus the time the deciding frame took to process', async () => {
    vi.useFakeTimers();
    const { listener, utterances } = setup({ endpointing: { endSilenceMs: 512 } }, new ScriptedVad(undefined, 5));
    listener.push(concatFloat32([tone(640), silence(1000)]), 16_000, performance.now());
    const done = listener.flush();
    await vi.advanceTimersByTimeAsync(5 * 100);
    await done;
    expect(utterances).toHaveLength(1);
    expect(utterances[0].endpointMs).toBe(512 + 5);
  });

  it('in half duplex, ignores the microphone while the reply is audible, and hears it again after', async () => {
    const { listener, starts, utterances, reply } = setup({ duplex: 'half' });
    reply.audible = true;
    listener.push(utteranceAt(16_000), 16_000, performance.now());
    await listener.flush();
    expect(starts).toEqual([]);
    expect(utterances).toEqual([]);
    reply.audible = false;
    listener.push(utteranceAt(16_000), 16_000, performance.now());
    await listener.flush();
    expect(starts).toHaveLength(1);
    expect(utterances).toHaveLength(1);
  });

  it('in full duplex, hears the user over an audible reply', async () => {
    const { listener, starts, reply } = setup({ duplex: 'full' });
    reply.audible = true;
    listener.push(utteranceAt(16_000), 16_000, performance.now());
    await listener.flush();
    expect(starts).toHaveLength(1);
  });

  it('flush() closes an open utterance as if silence followed', async () => {
    const { listener, utterances } = setup();
    listener.push(concatFloat32([silence(200), tone(800)]), 16_000, performance.now());
    await listener.flush();
    expect(listener.inSpeech).toBe(false);
    expect(utterances).toHaveLength(1);
    expect(utterances[0].truncated).toBe(false);
    // The speech runs to the last whole frame; a part-frame left at the end is not heard.
    expect(utterances[0].endSample).toBe(Math.floor(16_000 / FRAME_SAMPLES) * FRAME_SAMPLES);
  });

  it('flush() with no open utterance adds no audio', async () => {
    const { listener, vad, utterances } = setup();
    listener.push(silence(320), 16_000, performance.now());
    await listener.flush();
    expect(vad.frames).toHaveLength(10);
    expect(utterances).toEqual([]);
  });

  it('stop() drops the open utterance, the queued audio and the partial frame, and resets the VAD', async () => {
    const { listener, vad, starts, utterances } = setup();
    listener.push(tone(800), 16_000, performance.now());
    await vi.waitFor(() => expect(starts).toHaveLength(1));
    expect(listener.inSpeech).toBe(true);
    listener.push(new Float32Array(300).fill(0.5), 16_000, performance.now());
    await listener.stop();
    expect(listener.inSpeech).toBe(false);
    expect(vad.resets).toBe(1);
    const heardBeforeStop = vad.frames.length;

    listener.push(silence(1000), 16_000, performance.now());
    await listener.flush();
    expect(utterances).toEqual([]);
    // The 300 samples left over before stop() did not join the first frame after it.
    expect(vad.frames[heardBeforeStop].every((s) => s === 0)).toBe(true);
    expect(vad.frames.length - heardBeforeStop).toBe(Math.floor(16_000 / FRAME_SAMPLES));
  });

  it('stop() drops audio pushed but not yet heard', async () => {
    const { listener, vad } = setup();
    listener.push(tone(2000), 16_000, performance.now());
    await listener.stop();
    expect(vad.frames).toEqual([]);
  });

  it('a failing VAD reports the error and the listener goes on with the next block', async () => {
    let failOnce = true;
    const vad = new ScriptedVad(() => {
      if (failOnce) {
        failOnce = false;
        throw new Error('vad broke');
      }
      return 0.02;
    });
    const { listener, errors } = setup({}, vad);
    listener.push(silence(64), 16_000, performance.now());
    listener.push(silence(64), 16_000, performance.now());
    await listener.flush();
    expect(errors.map((e) => e.message)).toEqual(['vad broke']);
    expect(vad.frames.length).toBeGreaterThanOrEqual(3);
  });
});
