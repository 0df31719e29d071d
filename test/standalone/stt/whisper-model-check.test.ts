import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EarshotError } from '../../../src/errors.js';
import { checkWhisperModel } from '../../../src/stt/whisper-model-check.js';
import { STT_CACHE, scriptedModel } from './fixtures.js';

const dir = join(STT_CACHE, 'model-check');

function caught(fn: () => unknown): EarshotError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EarshotError);
    return e as EarshotError;
  }
  throw new Error('expected an EarshotError');
}

/** Byte offset just past the vocabulary, where the first tensor header starts. */
function firstTensorOffset(path: string): number {
  const b = readFileSync(path);
  let pos = 4 + 11 * 4;
  const nMel = b.readInt32LE(pos);
  const nFft = b.readInt32LE(pos + 4);
  pos += 8 + nMel * nFft * 4;
  const nTokens = b.readInt32LE(pos);
  pos += 4;
  for (let i = 0; i < nTokens; i++) pos += 4 + b.readUInt32LE(pos);
  return pos;
}

describe('checkWhisperModel', () => {
  let good: string;
  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    good = (await scriptedModel('micro')).path;
  }, 60_000);

  it('accepts a complete model and reports its shape', () => {
    const info = checkWhisperModel(good);
    expect(info.hparams).toMatchObject({ nVocab: 51864, nAudioCtx: 1500, nAudioState: 64, nAudioLayer: 1, nTextLayer: 1, nMels: 80 });
    expect(info.tensorCount).toBe(7 + 15 + 4 + 24);
    expect(info.multilingual).toBe(false);
    expect(info.sizeBytes).toBe(statSync(good).size);
  });

  it('rejects a missing file with MODEL_MISSING and the fetch command', () => {
    const path = join(dir, 'ggml-base.en.bin');
    const e = caught(() => checkWhisperModel(path));
    expect(e.code).toBe('MODEL_MISSING');
    expect(e.message).toBe(`whisper model not found: ${path}; run npm run fetch-models -- --stt base.en`);
  });

  it('uses the given model name in the fix line', () => {
    const e = caught(() => checkWhisperModel(join(dir, 'nope.bin'), { modelName: 'tiny.en' }));
    expect(e.message).toContain('npm run fetch-models -- --stt tiny.en');
  });

  it('rejects a directory with MODEL_MISSING', () => {
    expect(caught(() => checkWhisperModel(dir)).code).toBe('MODEL_MISSING');
  });

  it('rejects a wrong magic number with MODEL_CORRUPT', () => {
    const path = join(dir, 'ggml-wrong-magic.bin');
    writeFileSync(path, Buffer.from('GGUF\x03\x00\x00\x00 this is not a whisper model'));
    const e = caught(() => checkWhisperModel(path));
    expect(e.code).toBe('MODEL_CORRUPT');
    expect(e.message).toMatch(/^whisper model .*ggml-wrong-magic\.bin is corrupt or truncated \(not a whisper\.cpp ggml model/);
    expect(e.message).toContain('re-download it: npm run fetch-models -- --stt wrong-magic');
    expect(e.message).not.toContain('\n');
  });

  it('rejects an empty file', () => {
    const path = join(dir, 'ggml-empty.bin');
    writeFileSync(path, Buffer.alloc(0));
    expect(caught(() => checkWhisperModel(path)).code).toBe('MODEL_CORRUPT');
  });

  it('rejects absurd hparams before any allocation could happen', () => {
    const path = join(dir, 'ggml-huge-vocab.bin');
    copyFileSync(good, path);
    const fd = openSync(path, 'r+');
    const b = Buffer.alloc(4);
    b.writeInt32LE(2_000_000_000);
    writeSync(fd, b, 0, 4, 4);
    closeSync(fd);
    const e = caught(() => checkWhisperModel(path));
    expect(e.code).toBe('MODEL_CORRUPT');
    expect(e.message).toContain('n_vocab = 2000000000 is out of range');
  });

  it.each([
    ['one byte short', (size: number) => size - 1],
    ['cut in half', (size: number) => Math.floor(size / 2)],
    ['cut inside the vocabulary', () => 4 + 44 + 8 + 80 * 201 * 4 + 1000],
  ])('rejects a truncated file (%s) with MODEL_CORRUPT', (_label, cut) => {
    const path = join(dir, 'ggml-truncated.bin');
    copyFileSync(good, path);
    truncateSync(path, cut(statSync(good).size));
    const e = caught(() => checkWhisperModel(path));
    expect(e.code).toBe('MODEL_CORRUPT');
    expect(e.message).toMatch(/file ends inside/);
    expect(e.message).toContain('re-download it');
  });

  it('rejects a file cut exactly between tensors (whisper.cpp would load it as an empty test model)', () => {
    const path = join(dir, 'ggml-no-tensors.bin');
    copyFileSync(good, path);
    truncateSync(path, firstTensorOffset(good));
    const e = caught(() => checkWhisperModel(path));
    expect(e.code).toBe('MODEL_CORRUPT');
    expect(e.message).toContain('holds 0 tensors, a model of this shape needs 50');
  });

  it('walks the tensors of a 78 MB tiny.en-shaped model without reading their data', async () => {
    const { path } = await scriptedModel('tiny.en');
    const t0 = performance.now();
    const info = checkWhisperModel(path);
    const ms = performance.now() - t0;
    expect(info.tensorCount).toBe(7 + 15 * 4 + 4 + 24 * 4);
    expect(ms).toBeLessThan(200);
  }, 60_000);
});
