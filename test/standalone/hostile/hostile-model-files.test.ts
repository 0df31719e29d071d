import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EarshotError } from '../../../src/errors.js';
import { checkGgufModel } from '../../../src/llm/gguf-check.js';
import { loadWhisperEngine } from '../../../src/stt/whisper-engine.js';
import { checkWhisperModel } from '../../../src/stt/whisper-model-check.js';
import { DEBIAN_ESPEAK_DATA_DIR, checkPiperVoice } from '../../../src/tts/piper-voice-check.js';
import { writeScriptedLlama } from '../../fixtures/models/gguf-llama.js';
import { testVoiceTokens, writeTestVoice } from '../../fixtures/models/piper-voice.js';
import { testModels } from '../../support/test-models.js';
import { HOSTILE_ROOT } from './hostile-fixtures.js';

/**
 * Model files someone else made. Each would kill or hang the process inside a native library; the checks must
 * refuse them first. Where it is safe, a child process shows the native library really does die on the file,
 * so these tests fail if a check lets it through.
 */
const dir = join(HOSTILE_ROOT, 'model-files');
const hasEspeak = existsSync(DEBIAN_ESPEAK_DATA_DIR);

beforeAll(() => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
});
afterAll(() => rmSync(HOSTILE_ROOT, { recursive: true, force: true }));

/** Runs an ESM script in a fresh node process from the project root; kills it after `timeoutMs`. */
function runScript(name: string, source: string, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string; killed: boolean }> {
  const script = join(dir, `${name}.mjs`);
  writeFileSync(script, source);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, killed });
    });
  });
}

/** Loads a voice straight into sherpa-onnx, with no check, and speaks one sentence. */
function unguardedSpeak(name: string, voiceDir: string, timeoutMs: number) {
  return runScript(
    name,
    `import { createRequire } from 'node:module';
const sherpa = createRequire(${JSON.stringify(join(process.cwd(), 'package.json'))})('sherpa-onnx-node');
const tts = await sherpa.OfflineTts.createAsync({ model: { vits: { model: ${JSON.stringify(join(voiceDir, 'en_US-earshot_test-low.onnx'))}, tokens: ${JSON.stringify(join(voiceDir, 'tokens.txt'))}, dataDir: ${JSON.stringify(DEBIAN_ESPEAK_DATA_DIR)}, noiseScale: 0.667, noiseScaleW: 0.8, lengthScale: 1 }, numThreads: 1, debug: false, provider: 'cpu' }, maxNumSentences: 1 });
const audio = await tts.generateAsync({ text: 'A cat sat on the mat.', sid: 0, speed: 1 });
console.log('SPOKE', audio.samples.length);`,
    timeoutMs,
  );
}

/** Loads a GGUF straight into node-llama-cpp, with no check. */
function unguardedLoad(name: string, modelPath: string) {
  return runScript(
    name,
    `import { getLlama } from 'node-llama-cpp';
const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' });
try { await llama.loadModel({ modelPath: ${JSON.stringify(modelPath)} }); console.log('LOADED'); } catch (e) { console.log('THREW'); }`,
    60_000,
  );
}

async function refusal(check: Promise<unknown>): Promise<EarshotError> {
  const e = await check.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(EarshotError);
  expect((e as EarshotError).message).not.toContain('\n');
  return e as EarshotError;
}

describe.skipIf(!hasEspeak)('voices whose metadata makes sherpa-onnx exit the process', () => {
  for (const [key, value] of [['sample_rate', '4294967295'], ['n_speakers', '2147483648'], ['add_blank', '-1']] as const) {
    it(`${key} "${value}"`, async () => {
      const voiceDir = join(dir, `meta-${key}`);
      await writeTestVoice({ dir: voiceDir, metadata: { [key]: value } });
      const native = await unguardedSpeak(`meta-${key}`, voiceDir, 30_000);
      expect(native.code, native.output).toBe(255);
      const e = await refusal(checkPiperVoice(voiceDir));
      expect(e.code).toBe('MODEL_CORRUPT');
      expect(e.message).toContain(`${key} "${value}" is not a whole number`);
    });
  }
});

describe.skipIf(!hasEspeak)('voices that hang synthesis forever', () => {
  it('a tokens.txt id beyond the model vocabulary', async () => {
    const voiceDir = join(dir, 'oob-token');
    await writeTestVoice({ dir: voiceDir });
    writeFileSync(join(voiceDir, 'tokens.txt'), testVoiceTokens().replace(/^\^ 1$/m, '^ 5000'));
    const native = await unguardedSpeak('oob-token', voiceDir, 8_000);
    expect(native.killed, `sherpa-onnx returned: ${native.output}`).toBe(true);
    expect(native.output).toMatch(/out of data bounds|out of bounds/);
    const e = await refusal(checkPiperVoice(voiceDir));
    expect(e.message).toMatch(/tokens\.txt uses the id 5000, but .* has only \d+ symbols/);
  }, 60_000);
});

describe('GGUF headers that abort llama.cpp (GGML_ASSERT, exit 134)', () => {
  for (const [key, value] of [['llama.block_count', 100_000], ['llama.attention.head_count', 0], ['llama.attention.head_count_kv', 0]] as const) {
    it(`${key} = ${value}`, async () => {
      const path = join(dir, `${key}-${value}.gguf`);
      await writeScriptedLlama({ path, metadataOverrides: { [key]: value } });
      const native = await unguardedLoad(`gguf-${key}`, path);
      expect(native.signal === 'SIGABRT' || native.code === 134, native.output).toBe(true);
      const e = await refusal(checkGgufModel(path));
      expect(e.message).toContain(`${key} is ${value}`);
    });
  }

  it('a 600 MB file whose first key claims 600 million bytes is refused without reading them', async () => {
    const path = join(dir, 'sparse.gguf');
    const header = Buffer.alloc(32);
    header.write('GGUF', 0, 'latin1');
    header.writeUInt32LE(3, 4);
    header.writeBigUInt64LE(0n, 8);
    header.writeBigUInt64LE(1n, 16);
    header.writeBigUInt64LE(600_000_000n, 24);
    const fd = openSync(path, 'w');
    writeSync(fd, header);
    writeSync(fd, Buffer.from([0]), 0, 1, 600 * 2 ** 20 - 1);
    closeSync(fd);
    const measured = await runScript(
      'sparse-gguf',
      `const { register } = await import('tsx/esm/api');
register();
const { checkGgufModel } = await import(${JSON.stringify(join(process.cwd(), 'src', 'llm', 'gguf-check.ts'))});
const e = await checkGgufModel(${JSON.stringify(path)}).then(() => 'accepted', (err) => err.message);
console.log(JSON.stringify({ e, maxRssMb: process.resourceUsage().maxRSS / 1024 }));`,
      60_000,
    );
    const result = JSON.parse(measured.output.trim().split('\n').at(-1)!) as { e: string; maxRssMb: number };
    expect(result.e).toMatch(/is damaged: header is larger than 32 MiB, far more than a real model's/);
    expect(result.maxRssMb).toBeLessThan(300);
  });
});

describe('whisper models past the published shapes', () => {
  it('refuses n_audio_ctx 65536 (a second of audio took 42 s)', () => {
    const path = join(dir, 'ggml-wide.bin');
    const bytes = readFileSync(testModels.stt);
    bytes.writeInt32LE(65_536, 8);
    writeFileSync(path, bytes);
    expect(() => checkWhisperModel(path)).toThrow(/n_audio_ctx = 65536 is out of range/);
  });

  it('gives up on a transcription that runs past its deadline, with one line', async () => {
    const stt = await loadWhisperEngine({ modelPath: testModels.stt, threads: 1, warmUp: false, transcribeTimeoutMs: 1, transcribeTimeoutMsPerAudioSecond: 0 });
    try {
      const e = await refusal(stt.transcribe(new Float32Array(16_000)));
      expect(e.message).toMatch(/^whisper\.cpp took more than 0\.0 s for 1\.0 s of audio with whisper-scripted-micro\.bin; /);
    } finally {
      await stt.dispose();
    }
  });
});
