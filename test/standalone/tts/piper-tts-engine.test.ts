import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_VOICE_SAMPLES_PER_ID, writeTestVoice } from '../../fixtures/models/piper-voice.js';
import { rms } from '../../../src/audio/pcm.js';
import { EarshotError, isAbortError } from '../../../src/errors.js';
import { loadPiperTts } from '../../../src/tts/piper-tts-engine.js';
import { DEBIAN_ESPEAK_DATA_DIR } from '../../../src/tts/piper-voice-check.js';
import type { TtsEngine } from '../../../src/tts/tts-engine.js';

const root = path.resolve('.cache/test/piper-tts-engine');
const voiceDir = path.join(root, 'en_US-earshot_test-low');

/**
 * espeak-ng phonemizes "Hello world." as "həlˈoʊ wˈɜːld." (14 symbols); sherpa-onnx feeds Piper
 * `^ _ (symbol _)* $`, so 2 * 14 + 3 = 31 ids, each TEST_VOICE_SAMPLES_PER_ID samples at speed 1.
 */
const HELLO = 'Hello world.';
const HELLO_IDS = 31;
const sentences = (n: number) =>
  Array.from({ length: n }, (_, i) => `This is sentence number ${i + 1}, and it goes on for a while.`).join(' ');
/** Long enough (some hundreds of ms) that an abort lands while sherpa-onnx is still working. */
const LONG = sentences(300);

let engine: TtsEngine;

describe.skipIf(!existsSync(DEBIAN_ESPEAK_DATA_DIR))('loadPiperTts', () => {
  beforeAll(async () => {
    await writeTestVoice({ dir: voiceDir });
    engine = await loadPiperTts({ voiceDir, threads: 1 });
  });
  afterAll(async () => {
    await engine?.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it('synthesizes non-silent audio of the predicted length at the voice rate', async () => {
    expect(engine.sampleRate).toBe(22050);
    const audio = await engine.synthesize(HELLO);
    expect(audio).toBeInstanceOf(Float32Array);
    expect(audio.length).toBe(HELLO_IDS * TEST_VOICE_SAMPLES_PER_ID);
    expect(rms(audio)).toBeGreaterThan(0.05);
    expect(Math.max(...audio.map(Math.abs))).toBeLessThanOrEqual(1);
  });

  it('applies speed per call and lengthScale per voice', async () => {
    expect((await engine.synthesize(HELLO, { speed: 2 })).length).toBe((HELLO_IDS * TEST_VOICE_SAMPLES_PER_ID) / 2);
    const slow = await loadPiperTts({ voiceDir, threads: 1, lengthScale: 2 });
    expect((await slow.synthesize(HELLO)).length).toBe(HELLO_IDS * TEST_VOICE_SAMPLES_PER_ID * 2);
    expect((await slow.synthesize(HELLO, { speed: 2 })).length).toBe(HELLO_IDS * TEST_VOICE_SAMPLES_PER_ID);
    await slow.dispose();
  });

  it('returns no audio for text with nothing to say', async () => {
    expect((await engine.synthesize('')).length).toBe(0);
    expect((await engine.synthesize('  \n ')).length).toBe(0);
    expect((await engine.synthesize('...')).length).toBe(0);
  });

  it('keeps the event loop free and serves overlapping calls one after another', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const results = await Promise.all([engine.synthesize(sentences(50)), engine.synthesize(HELLO), engine.synthesize(HELLO)]);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(3);
    expect(results[0].length % TEST_VOICE_SAMPLES_PER_ID).toBe(0);
    expect(results[1].length).toBe(HELLO_IDS * TEST_VOICE_SAMPLES_PER_ID);
    expect(results[2]).toEqual(results[1]);
  });

  it('rejects an already-aborted call at once', async () => {
    const err = await engine.synthesize(HELLO, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(isAbortError(err)).toBe(true);
  });

  it('aborts a long synthesis promptly, stops the native work, and stays usable', async () => {
    let t = performance.now();
    await engine.synthesize(LONG);
    const fullMs = performance.now() - t;

    const controller = new AbortController();
    t = performance.now();
    const pending = engine.synthesize(LONG, { signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    const err = await pending.catch((e: unknown) => e);
    const abortMs = performance.now() - t;
    expect(isAbortError(err)).toBe(true);
    expect(abortMs).toBeLessThan(Math.max(100, fullMs / 2));

    // The next call queues behind the aborted native run: finishing quickly shows that run stopped early.
    t = performance.now();
    const after = await engine.synthesize(HELLO);
    expect(after.length).toBe(HELLO_IDS * TEST_VOICE_SAMPLES_PER_ID);
    expect(performance.now() - t).toBeLessThan(fullMs / 2);
  });

  it('rejects bad options with EarshotError', async () => {
    await expect(engine.synthesize(HELLO, { speakerId: 1 })).rejects.toBeInstanceOf(EarshotError);
    await expect(engine.synthesize(HELLO, { speed: 0 })).rejects.toThrow(/speed/);
    await expect(loadPiperTts({ voiceDir, threads: 0 })).rejects.toThrow(/threads/);
    await expect(loadPiperTts({ voiceDir, speakerId: 3 })).rejects.toThrow(/Speaker id 3/);
  });

  it('selects speakers of a multi-speaker voice', async () => {
    const dir = path.join(root, 'two-speakers');
    await writeTestVoice({ dir, speakers: 2, sampleRate: 16000 });
    const two = await loadPiperTts({ voiceDir: dir, threads: 1 });
    expect(two.sampleRate).toBe(16000);
    const a = await two.synthesize(HELLO, { speakerId: 0 });
    const b = await two.synthesize(HELLO, { speakerId: 1 });
    expect(b.length).toBe(a.length);
    expect(rms(b)).toBeLessThan(rms(a));
    await two.dispose();
    await expect(two.synthesize(HELLO)).rejects.toThrow(/dispose/);
  });
});
