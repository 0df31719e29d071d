import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { melFilterbank } from '../../../scripts/generate/mel-filterbank.js';
import { writeScriptedWhisperModel } from '../../../scripts/generate/whisper-ggml.js';
import { readWavForPipeline, writeWav } from '../../../src/audio/wav.js';
import { EarshotError } from '../../../src/errors.js';
import { checkWhisperModel } from '../../../src/stt/whisper-model-check.js';
import { whisperAddonPath } from '../../../src/stt/whisper-addon-path.js';
import { loadWhisperEngine } from '../../../src/stt/whisper-engine.js';

const root = resolve(import.meta.dirname, '../../..');
const dir = join(root, '.cache', 'test', 'whisper-ggml');
const whisperCli = join(root, '.cache', 'whisper-cli', 'bin', 'whisper-cli');
const SCRIPT = 'What is the capital of France? I think the capital is Paris, the city of light.';

interface ParsedTensor {
  name: string;
  type: number;
  ne: number[];
}

/** Walks a ggml whisper file the way whisper_model_load reads it. */
function parseModel(file: Buffer) {
  let pos = 0;
  const i32 = () => {
    const v = file.readInt32LE(pos);
    pos += 4;
    return v;
  };
  const magic = file.readUInt32LE(0);
  pos = 4;
  const hparams = Array.from({ length: 11 }, i32);
  const [nMel, nFft] = [i32(), i32()];
  const filters = new Float32Array(file.buffer.slice(file.byteOffset + pos, file.byteOffset + pos + 4 * nMel * nFft));
  pos += 4 * nMel * nFft;
  const vocab = Array.from({ length: i32() }, () => {
    const len = i32();
    const token = file.toString('utf8', pos, pos + len);
    pos += len;
    return token;
  });
  const tensors: ParsedTensor[] = [];
  while (pos < file.length) {
    const [nDims, nameLen, type] = [i32(), i32(), i32()];
    const ne = Array.from({ length: nDims }, i32);
    const name = file.toString('utf8', pos, pos + nameLen);
    pos += nameLen + ne.reduce((a, b) => a * b, 1) * (type === 1 ? 2 : 4);
    tensors.push({ name, type, ne });
  }
  return { magic, hparams, nMel, nFft, filters, vocab, tensors, end: pos };
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('writeScriptedWhisperModel', () => {
  const modelPath = join(dir, 'micro.bin');
  let model: Awaited<ReturnType<typeof writeScriptedWhisperModel>>;

  beforeAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    model = await writeScriptedWhisperModel({ path: modelPath, script: `  ${SCRIPT}\n`, shape: 'micro', seed: 7 });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a complete whisper.cpp ggml file of the micro shape', () => {
    expect(model.text).toBe(SCRIPT);
    expect(model.bytes).toBe(statSync(modelPath).size);
    expect(model.bytes).toBeGreaterThan(7_000_000);
    expect(model.bytes).toBeLessThan(8_500_000);

    const file = parseModel(readFileSync(modelPath));
    expect(file.magic).toBe(0x67676d6c);
    // n_vocab, audio ctx, state, heads, layers, text ctx, state, heads, layers, mels, ftype (F16)
    expect(file.hparams).toEqual([51864, 1500, 64, 1, 1, 448, 64, 1, 1, 80, 1]);
    expect([file.nMel, file.nFft]).toEqual([80, 201]);
    expect(file.vocab).toEqual([' ', ...SCRIPT.split(' ').map((w) => ` ${w}`)]);
    expect(file.end).toBe(model.bytes);

    // whisper.cpp refuses a file without exactly its tensor set: 7 + 15 per encoder layer, 4 + 24 per decoder layer.
    expect(file.tensors).toHaveLength(7 + 15 + 4 + 24);
    expect(new Set(file.tensors.map((t) => t.name)).size).toBe(file.tensors.length);
    for (const t of file.tensors) {
      const isMatrix = t.name.endsWith('.weight') && t.ne.length >= 2;
      expect(`${t.name}: ${t.type}`).toBe(`${t.name}: ${isMatrix ? 1 : 0}`);
    }
    const shape = (name: string) => file.tensors.find((t) => t.name === name)?.ne;
    expect(shape('encoder.conv1.weight')).toEqual([3, 80, 64]);
    expect(shape('encoder.conv1.bias')).toEqual([1, 64]);
    expect(shape('encoder.blocks.0.attn.query.weight')).toEqual([64, 64]);
    expect(shape('decoder.token_embedding.weight')).toEqual([64, 51864]);
    expect(shape('decoder.blocks.0.mlp.2.weight')).toEqual([256, 64]);
    expect(shape('decoder.blocks.0.cross_attn.out.bias')).toEqual([64]);

    const info = checkWhisperModel(modelPath);
    expect(info.tensorCount).toBe(file.tensors.length);
    expect(info.multilingual).toBe(false);
  });

  it('writes a real Slaney mel filterbank (librosa / Hugging Face reference points)', () => {
    const { filters } = parseModel(readFileSync(modelPath));
    expect(filters).toEqual(melFilterbank());
    const at = (mel: number, bin: number) => filters[mel * 201 + bin];
    expect(at(0, 1)).toBeCloseTo(0.02486259490251541, 7);
    expect(at(1, 2)).toBeCloseTo(0.022871771827340126, 7);
    expect(at(9, 10)).toBeCloseTo(0.006945197004824877, 7);
    expect(at(39, 41)).toBeCloseTo(0.011486922390758991, 7);
    expect(at(69, 131)).toBeCloseTo(0.00487553421407938, 7);
    expect(at(79, 192)).toBeCloseTo(0.0031647116411477327, 7);
    expect(filters.reduce((a, b) => a + b, 0)).toBeCloseTo(1.999024, 5);
  });

  it('is deterministic for a seed and varies with it', async () => {
    const again = await writeScriptedWhisperModel({ path: join(dir, 'again.bin'), script: SCRIPT, seed: 7 });
    const other = await writeScriptedWhisperModel({ path: join(dir, 'other.bin'), script: SCRIPT, seed: 8 });
    expect(sha256(again.path)).toBe(sha256(modelPath));
    expect(sha256(other.path)).not.toBe(sha256(modelPath));
  });

  it('rejects scripts it cannot encode with a one-line EarshotError and leaves no file', async () => {
    const path = join(dir, 'bad.bin');
    await expect(writeScriptedWhisperModel({ path, script: '  ' })).rejects.toThrow(EarshotError);
    const long = Array.from({ length: 62 }, (_, i) => `w${i}`).join(' ');
    await expect(writeScriptedWhisperModel({ path, script: long })).rejects.toThrow(/holds at most 61.*tiny\.en/);
    await expect(writeScriptedWhisperModel({ path, script: 'hi', seed: -1 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    expect(existsSync(path)).toBe(false);
  });

  describe('transcribed by the real whisper.cpp', () => {
    const wavPath = join(dir, 'flite.wav');
    const longWavPath = join(dir, 'flite-40s.wav');
    const flite = hasCommand('flite');

    beforeAll(async () => {
      if (!flite) return;
      execFileSync('flite', ['-voice', 'slt', '-t', 'Good morning, please turn on the kitchen lights.', '-o', wavPath]);
      // Two 30 s windows: whisper.cpp must move on after the first without counting it as a failed decode.
      const speech = (await readWavForPipeline(wavPath)).samples;
      const long = new Float32Array(16_000 * 40).map((_, i) => speech[i % speech.length]);
      await writeWav(longWavPath, { samples: long, sampleRate: 16_000 });
    });

    /** whisper-cli's transcript (stdout, trimmed) and its temperature-fallback count (from the timings on stderr). */
    const cli = (model: string, wav: string, ...extra: string[]) => {
      const r = spawnSync(whisperCli, ['-m', model, '-f', wav, '-t', '1', ...extra], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const fallbacks = /fallbacks =\s*(\d+) p \/\s*(\d+) h/.exec(r.stderr);
      return { text: r.stdout.trim(), fallbacks: fallbacks ? Number(fallbacks[1]) + Number(fallbacks[2]) : undefined };
    };

    const cliReason = !flite ? 'flite is not installed' : !existsSync(whisperCli) ? `no whisper-cli at ${whisperCli}` : '';
    it.skipIf(cliReason !== '')(`whisper-cli hears the script in flite speech${cliReason && ` (skipped: ${cliReason})`}`, () => {
      expect(cli(modelPath, wavPath, '-nt')).toEqual({ text: SCRIPT, fallbacks: 0 });
      expect(cli(modelPath, wavPath, '-bs', '1', '-bo', '1')).toEqual({ text: `[00:00:00.000 --> 00:00:30.000]   ${SCRIPT}`, fallbacks: 0 });
    });

    it.skipIf(cliReason !== '')(`whisper-cli hears the script once per 30 s window${cliReason && ` (skipped: ${cliReason})`}`, () => {
      expect(cli(modelPath, longWavPath, '-bs', '1', '-bo', '1')).toEqual({
        text: `[00:00:00.000 --> 00:00:30.000]   ${SCRIPT}\n[00:00:30.000 --> 00:01:00.000]   ${SCRIPT}`,
        fallbacks: 0,
      });
    });

    it.skipIf(cliReason !== '')(`whisper-cli hears the longest script micro holds, repeated words included${cliReason && ` (skipped: ${cliReason})`}`, async () => {
      const longest = Array.from({ length: 61 }, (_, i) => ['the', 'cat', 'and', 'the', 'dog'][i % 5]).join(' ');
      const { path } = await writeScriptedWhisperModel({ path: join(dir, 'longest.bin'), script: longest });
      expect(cli(path, wavPath, '-nt', '-bs', '1', '-bo', '1')).toEqual({ text: longest, fallbacks: 0 });
    });

    const addonReason = !flite
      ? 'flite is not installed'
      : !existsSync(whisperAddonPath())
        ? 'the whisper addon is not built (npx tsx scripts/build-whisper-addon.ts)'
        : '';
    it.skipIf(addonReason !== '')(`the earshot whisper engine hears the script${addonReason && ` (skipped: ${addonReason})`}`, async () => {
      const { samples } = await readWavForPipeline(wavPath);
      const engine = await loadWhisperEngine({ modelPath });
      try {
        const transcript = await engine.transcribe(samples);
        expect(transcript.text).toBe(SCRIPT);
        for (const segment of transcript.segments) expect(segment.noSpeechProb ?? 0).toBeLessThan(0.01);
      } finally {
        await engine.dispose();
      }
    });
  });
});
