import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTestVoice } from '../../fixtures/models/piper-voice.js';
import { EarshotError } from '../../../src/errors.js';
import { loadPiperTts } from '../../../src/tts/piper-tts-engine.js';
import { checkPiperVoice, DEBIAN_ESPEAK_DATA_DIR } from '../../../src/tts/piper-voice-check.js';

const root = path.resolve('.cache/test/piper-voice-check');
const good = path.join(root, 'good');
const hasDebianData = existsSync(DEBIAN_ESPEAK_DATA_DIR);

beforeAll(async () => {
  await rm(root, { recursive: true, force: true });
  await writeTestVoice({ dir: good });
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A copy of the good voice, changed by `damage`, in its own folder. */
async function variant(name: string, damage: (dir: string) => Promise<void>): Promise<string> {
  const dir = path.join(root, name);
  await cp(good, dir, { recursive: true });
  await damage(dir);
  return dir;
}

async function rejection(p: Promise<unknown>): Promise<EarshotError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(EarshotError);
  const err = e as EarshotError;
  expect(err.message).not.toContain('\n');
  return err;
}

const model = (dir: string) => path.join(dir, 'en_US-earshot_test-low.onnx');

describe.skipIf(!hasDebianData)('checkPiperVoice', () => {
  it('accepts the generated voice and reports its metadata', async () => {
    const voice = await checkPiperVoice(good);
    expect(voice).toMatchObject({
      dir: good,
      modelPath: model(good),
      tokensPath: path.join(good, 'tokens.txt'),
      espeakDataDir: DEBIAN_ESPEAK_DATA_DIR,
      sampleRate: 22050,
      numSpeakers: 1,
      language: 'English',
      espeakVoice: 'en-us',
    });
    expect(voice.modelBytes).toBe((await stat(model(good))).size);
  });

  it('prefers the voice folder own espeak-ng-data, and an explicit folder over both', async () => {
    const own = await variant('own-espeak', async (dir) => {
      await mkdir(path.join(dir, 'espeak-ng-data'));
      for (const f of ['phontab', 'phonindex', 'phondata', 'intonations', 'en_dict']) {
        await cp(path.join(DEBIAN_ESPEAK_DATA_DIR, f), path.join(dir, 'espeak-ng-data', f));
      }
    });
    expect((await checkPiperVoice(own)).espeakDataDir).toBe(path.join(own, 'espeak-ng-data'));
    expect((await checkPiperVoice(own, { espeakDataDir: DEBIAN_ESPEAK_DATA_DIR })).espeakDataDir).toBe(DEBIAN_ESPEAK_DATA_DIR);
  });

  it('rejects a missing voice folder', async () => {
    const err = await rejection(checkPiperVoice(path.join(root, 'nope')));
    expect(err.code).toBe('MODEL_MISSING');
    expect(err.message).toContain(path.join(root, 'nope'));
    // "nope" is not a voice name fetch-models knows, so the fix stays generic; a voice-named folder is named.
    expect(err.message).toMatch(/run npm run fetch-models$/);
    const named = await rejection(checkPiperVoice(path.join(root, 'en_US-amy-medium')));
    expect(named.message).toContain('npm run fetch-models -- --voice en_US-amy-medium');
  });

  it('rejects a folder without a model, or with two', async () => {
    const none = await variant('no-onnx', (dir) => rm(model(dir)));
    expect((await rejection(checkPiperVoice(none))).code).toBe('MODEL_MISSING');
    const two = await variant('two-onnx', (dir) => cp(model(dir), path.join(dir, 'other.onnx')));
    expect((await rejection(checkPiperVoice(two))).message).toContain('2 .onnx files');
  });

  it('rejects a missing or broken tokens.txt', async () => {
    const missing = await variant('no-tokens', (dir) => rm(path.join(dir, 'tokens.txt')));
    const err = await rejection(checkPiperVoice(missing));
    expect(err.code).toBe('MODEL_MISSING');
    expect(err.message).toContain('tokens.txt');

    const noBos = await variant('no-bos', async (dir) => {
      const text = await readFile(path.join(dir, 'tokens.txt'), 'utf8');
      await writeFile(path.join(dir, 'tokens.txt'), text.replace('^ 1\n', ''));
    });
    const err2 = await rejection(checkPiperVoice(noBos));
    expect(err2.code).toBe('MODEL_CORRUPT');
    expect(err2.message).toContain('"^"');

    // sherpa-onnx exits the process on a multi-character symbol or a repeated one.
    const long = await variant('long-symbol', (dir) => writeFile(path.join(dir, 'tokens.txt'), '_ 0\n^ 1\n$ 2\nab 3\n'));
    expect((await rejection(checkPiperVoice(long))).message).toContain('line 4');
    const dup = await variant('dup-symbol', (dir) => writeFile(path.join(dir, 'tokens.txt'), '_ 0\n^ 1\n$ 2\n_ 3\n'));
    expect((await rejection(checkPiperVoice(dup))).message).toContain('repeats');
  });

  it('rejects, without loading it, an ONNX that lacks a metadata key sherpa-onnx requires', async () => {
    // Loaded as is, this voice makes sherpa-onnx exit the process with code 255; this test would never finish.
    for (const key of ['language', 'n_speakers', 'sample_rate', 'comment']) {
      const dir = path.join(root, `no-${key}`);
      await writeTestVoice({ dir, omitMetadata: [key] });
      const err = await rejection(loadPiperTts({ voiceDir: dir }));
      expect(err.code).toBe('MODEL_CORRUPT');
      expect(err.message).toContain(`metadata lacks ${key}`);
      expect(err.message).toContain(model(dir));
    }
  });

  it('rejects truncated and non-ONNX model files', async () => {
    const bytes = await readFile(model(good));
    for (const keep of [0, 5, 100, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const dir = await variant(`cut-${keep}`, (d) => writeFile(model(d), bytes.subarray(0, keep)));
      const err = await rejection(checkPiperVoice(dir));
      expect(err.code).toBe('MODEL_CORRUPT');
      expect(err.message).toContain(model(dir));
      expect(err.message).toContain('npm run fetch-models');
    }
    const lfs = await variant('lfs-pointer', (d) =>
      writeFile(model(d), 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 63201294\n'),
    );
    expect((await rejection(checkPiperVoice(lfs))).code).toBe('MODEL_CORRUPT');
    const html = await variant('html', (d) => writeFile(model(d), '<!DOCTYPE html><html><body>Not Found</body></html>'));
    expect((await rejection(checkPiperVoice(html))).code).toBe('MODEL_CORRUPT');
  });

  it('rejects missing or incomplete espeak-ng data', async () => {
    const err = await rejection(checkPiperVoice(good, { espeakDataDir: path.join(root, 'no-such-espeak') }));
    expect(err.code).toBe('MODEL_MISSING');
    expect(err.message).toContain('--espeak-data DIR');

    const partial = path.join(root, 'partial-espeak');
    await mkdir(partial, { recursive: true });
    await cp(path.join(DEBIAN_ESPEAK_DATA_DIR, 'phontab'), path.join(partial, 'phontab'));
    const err2 = await rejection(loadPiperTts({ voiceDir: good, espeakDataDir: partial }));
    expect(err2.message).toContain('lacks phonindex');
  });
});
