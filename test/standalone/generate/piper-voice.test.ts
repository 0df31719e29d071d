import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  encodeTestVoice,
  TEST_VOICE_SAMPLES_PER_ID,
  testVoiceTokens,
  writeTestVoice,
} from '../../../scripts/generate/piper-voice.js';
import { readOnnxModelInfo } from '../../../src/tts/onnx-model-info.js';

const root = path.resolve('.cache/test/generate-piper-voice');
afterAll(() => rm(root, { recursive: true, force: true }));

function tokenIds(): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of testVoiceTokens().split('\n')) {
    if (line === '') continue;
    const cut = line.lastIndexOf(' ');
    map.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return map;
}

async function run(session: ort.InferenceSession, ids: number[], lengthScale = 1, sid?: number) {
  const feeds: Record<string, ort.Tensor> = {
    input: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
    input_lengths: new ort.Tensor('int64', BigInt64Array.of(BigInt(ids.length)), [1]),
    scales: new ort.Tensor('float32', Float32Array.of(0.667, lengthScale, 0.8), [3]),
  };
  if (sid !== undefined) feeds.sid = new ort.Tensor('int64', BigInt64Array.of(BigInt(sid)), [1]);
  const out = await session.run(feeds);
  return out[session.outputNames[0]];
}

function rms(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / x.length);
}

describe('writeTestVoice', () => {
  it('writes a Piper-contract ONNX and tokens.txt that onnxruntime runs', async () => {
    const voice = await writeTestVoice({ dir: path.join(root, 'default') });
    expect(voice.modelPath).toBe(path.join(root, 'default', 'en_US-earshot_test-low.onnx'));

    const info = await readOnnxModelInfo(voice.modelPath);
    expect(info.inputNames).toEqual(['input', 'input_lengths', 'scales']);
    expect(info.metadata).toMatchObject({ sample_rate: '22050', n_speakers: '1', language: 'English', voice: 'en-us' });
    expect(info.metadata.comment).toContain('piper');

    const tokens = tokenIds();
    expect([tokens.get('_'), tokens.get('^'), tokens.get('$'), tokens.get(' ')]).toEqual([0, 1, 2, 3]);
    expect(new Set(tokens.values()).size).toBe(tokens.size);
    for (const sym of 'həlˈoʊwɜːdθðŋɹæ') expect(tokens.has(sym)).toBe(true);

    const session = await ort.InferenceSession.create(voice.modelPath);
    const ids = [1, 0, ...[...'həlˈoʊ'].flatMap((s) => [tokens.get(s)!, 0]), 2];
    const audio = await run(session, ids);
    expect(audio.type).toBe('float32');
    expect(audio.dims).toEqual([1, 1, ids.length * TEST_VOICE_SAMPLES_PER_ID]);
    const samples = audio.data as Float32Array;
    expect(rms(samples)).toBeGreaterThan(0.05);
    expect(Math.max(...samples.map(Math.abs))).toBeLessThanOrEqual(1);
  });

  it('honours length_scale and speaker ids', async () => {
    const voice = await writeTestVoice({ dir: path.join(root, 'two'), speakers: 2, sampleRate: 16000 });
    const session = await ort.InferenceSession.create(voice.modelPath);
    expect(session.inputNames).toEqual(['input', 'input_lengths', 'scales', 'sid']);
    const ids = [1, 0, 20, 0, 2];
    expect((await run(session, ids, 0.5, 0)).dims).toEqual([1, 1, (ids.length * TEST_VOICE_SAMPLES_PER_ID) / 2]);
    expect((await run(session, ids, 2, 0)).dims).toEqual([1, 1, ids.length * TEST_VOICE_SAMPLES_PER_ID * 2]);
    const loud = rms((await run(session, ids, 1, 0)).data as Float32Array);
    const soft = rms((await run(session, ids, 1, 1)).data as Float32Array);
    expect(soft).toBeLessThan(loud);
  });

  it('is deterministic and can leave out metadata', async () => {
    expect(Buffer.from(encodeTestVoice()).equals(Buffer.from(encodeTestVoice()))).toBe(true);
    const voice = await writeTestVoice({ dir: path.join(root, 'broken'), omitMetadata: ['language'] });
    const info = await readOnnxModelInfo(voice.modelPath);
    expect(info.metadata.language).toBeUndefined();
    expect(info.metadata.sample_rate).toBe('22050');
    expect((await readFile(voice.tokensPath, 'utf8')).startsWith('_ 0\n^ 1\n$ 2\n  3\n')).toBe(true);
  });
});
