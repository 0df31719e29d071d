import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveModelFlags, type ModelFlags } from '../../../src/cli/model-flags.js';
import { EarshotError } from '../../../src/errors.js';
import { formatBytes } from '../../../src/models/disk-space.js';
import { loadManifest } from '../../../src/models/manifest.js';

const flags = (over: Partial<ModelFlags> = {}): ModelFlags => ({
  gpu: 'auto',
  language: 'en',
  turn: 'smart-turn',
  sttWindow: 'full',
  speculation: true,
  ...over,
});

function failure(f: ModelFlags): EarshotError {
  try {
    resolveModelFlags(f);
  } catch (e) {
    return e as EarshotError;
  }
  throw new Error('resolveModelFlags did not fail');
}

/** The download size of these models, from the manifest the project ships. */
function size(ids: string[]): string {
  const manifest = loadManifest();
  const bytes = ids.flatMap((id) => manifest.models.find((m) => m.id === id)!.files).reduce((sum, f) => sum + f.size, 0);
  return formatBytes(bytes);
}

describe('a first run with no models installed', () => {
  beforeEach(() => {
    vi.stubEnv('EARSHOT_MODELS_DIR', mkdtempSync(join(tmpdir(), 'earshot-no-models-')));
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('names every model of the default preset, their size, and the one command that gets them', () => {
    const e = failure(flags());
    expect(e.code).toBe('MODEL_MISSING');
    const ids = ['base.en', '3b', 'en_US-amy-medium', 'smart-turn-v3'];
    expect(e.message).toBe(
      `models of the small preset are not installed (stt base.en, llm 3b, voice en_US-amy-medium, turn smart-turn-v3; ${size(ids)}): run npm run fetch-models`,
    );
    expect(size(ids)).toMatch(/GB$/);
  });

  it('another preset is named with its own fetch command', () => {
    expect(failure(flags({ preset: 'tiny', turn: 'silence' })).message).toBe(
      `models of the tiny preset are not installed (stt tiny.en, llm 1b, voice en_US-amy-low; ${size(['tiny.en', '1b', 'en_US-amy-low'])}): run npm run fetch-models -- --preset tiny`,
    );
  });

  it("models given as files are not in the list; only the preset's missing ones are", () => {
    const e = failure(flags({ sttModel: '/m/stt.bin', llmModel: '/m/llm.gguf', turnModel: '/m/turn.onnx' }));
    expect(e.message).toBe(`models of the small preset are not installed (voice en_US-amy-medium; ${size(['en_US-amy-medium'])}): run npm run fetch-models`);
  });

  it('a model named on the command line keeps its own exact fetch command', () => {
    expect(failure(flags({ stt: 'tiny.en' })).message).toMatch(/npm run fetch-models -- --stt tiny\.en$/);
  });
});
