import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../../src/audio/wav.js';
import { DEBIAN_ESPEAK_DATA_DIR } from '../../../src/tts/piper-voice-check.js';
import { writeScriptedLlama } from '../../fixtures/models/gguf-llama.js';
import { testVoiceTokens, writeTestVoice } from '../../fixtures/models/piper-voice.js';
import { expectOneLineError } from '../../support/one-line-error.js';
import { runCli } from '../../support/run-cli.js';
import { fliteSpeech } from '../../support/speech-fixtures.js';
import { testModels } from '../../support/test-models.js';
import { HOSTILE_ROOT } from './hostile-fixtures.js';

/** `earshot run` given hostile models and files: one line and a non-zero exit, never a crash or a hang. */
const dir = join(HOSTILE_ROOT, 'run');
let question: string;

const flags = (over: Record<string, string> = {}) =>
  Object.entries({ '--stt-model': testModels.stt, '--llm-model': testModels.llm, '--voice': testModels.voice, '--espeak-data': testModels.espeakData, ...over }).flat();

/** A WAV of `samples` as 64-bit integer PCM, which earshot once read as 64-bit float (NaN). */
function int64Wav(samples: Float32Array, rate: number): Buffer {
  const data = Buffer.alloc(samples.length * 8);
  samples.forEach((s, i) => data.writeBigInt64LE(BigInt(Math.round(Math.max(-1, Math.min(1, s)) * (2 ** 62 - 1024))) * 2n, i * 8));
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 8, 28);
  header.writeUInt16LE(8, 32);
  header.writeUInt16LE(64, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

beforeAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const speech = await fliteSpeech('What is the capital of France?');
  question = join(dir, 'question-int64.wav');
  writeFileSync(question, int64Wav(Float32Array.from([...new Float32Array(8_000), ...speech, ...new Float32Array(16_000)]), 16_000));
});
afterAll(() => rmSync(HOSTILE_ROOT, { recursive: true, force: true }));

describe('WAV input', () => {
  it('reads 64-bit integer PCM as integers, and hears the question in it', async () => {
    const decoded = decodeWav(await import('node:fs').then((fs) => fs.readFileSync(question)), 'q');
    expect(decoded.samples.every(Number.isFinite)).toBe(true);
    expect(Math.max(...decoded.samples.subarray(8_000, 24_000).map(Math.abs))).toBeGreaterThan(0.05);
    const r = await runCli(['run', '--input', question, '--log-content', ...flags()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[turn 1\] you: /);
  });

  it('decodes a 100 MB WAV in a few times its size, not eleven', async () => {
    const big = join(dir, 'big.wav');
    const frames = 50 * 2 ** 20;
    const header = Buffer.from(int64Wav(new Float32Array(0), 16_000));
    header.writeUInt16LE(2, 32);
    header.writeUInt16LE(16, 34);
    header.writeUInt32LE(32_000, 28);
    header.writeUInt32LE(frames * 2, 40);
    header.writeUInt32LE(36 + frames * 2, 4);
    const fd = openSync(big, 'w');
    writeSync(fd, header);
    writeSync(fd, Buffer.from([0]), 0, 1, 44 + frames * 2 - 1);
    closeSync(fd);
    const size = statSync(big).size;
    const out = await new Promise<string>((resolve) => {
      const script = `const { register } = await import('tsx/esm/api'); register();
const { readWavForPipeline } = await import(${JSON.stringify(join(process.cwd(), 'src', 'audio', 'wav.ts'))});
const before = process.resourceUsage().maxRSS;
const pcm = await readWavForPipeline(${JSON.stringify(big)});
console.log(JSON.stringify({ frames: pcm.samples.length, baseMb: before / 1024, maxRssMb: process.resourceUsage().maxRSS / 1024 }));`;
      writeFileSync(join(dir, 'decode-big.mjs'), script);
      const child = spawn(process.execPath, [join(dir, 'decode-big.mjs')], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.on('close', () => resolve(text));
    });
    const result = JSON.parse(out.trim()) as { frames: number; baseMb: number; maxRssMb: number };
    expect(result.frames).toBe(frames);
    // 16-bit samples become 32-bit floats: the output alone is twice the file.
    expect((result.maxRssMb - result.baseMb) * 2 ** 20).toBeLessThan(3 * size);
  }, 120_000);
});

describe('models that would crash or hang the process', () => {
  it('a voice whose metadata would make sherpa-onnx exit', async () => {
    const voice = join(dir, 'voice-rate');
    await writeTestVoice({ dir: voice, metadata: { sample_rate: '4294967295' } });
    expectOneLineError(await runCli(['run', '--input', question, ...flags({ '--voice': voice })]), /sample_rate "4294967295" is not a whole number/);
  });

  it('a voice whose tokens would hang synthesis', async () => {
    const voice = join(dir, 'voice-oob');
    await writeTestVoice({ dir: voice });
    writeFileSync(join(voice, 'tokens.txt'), testVoiceTokens().replace(/^\^ 1$/m, '^ 5000'));
    expectOneLineError(await runCli(['run', '--input', question, ...flags({ '--voice': voice })]), /uses the id 5000, but .* has only \d+ symbols/);
  });

  it.skipIf(!existsSync(DEBIAN_ESPEAK_DATA_DIR))('a voice that hangs in a way no check sees: reloaded, then given up on with one line', async () => {
    const voice = join(dir, 'voice-hidden');
    await writeTestVoice({ dir: voice, idOffset: 100_000 });
    const started = performance.now();
    const r = await runCli(['run', '--input', question, ...flags({ '--voice': voice })], { env: { EARSHOT_TTS_TIMEOUT_MS: '2000' }, timeoutMs: 90_000 });
    expect(r.signal, 'killed by the test: earshot hung').toBeNull();
    expect(r.code).toBe(1);
    // The watchdog reloads the voice after each hang; it hangs again, and the third time earshot exits.
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(
      /^earshot: the voice took more than [\d.]+ s to speak a sentence of \d+ characters; 3 engine failures in a row; .*check the models: npm run fetch-models -- --check\)$/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(performance.now() - started).toBeLessThan(60_000);
  }, 120_000);

  it('a GGUF whose block count would abort llama.cpp', async () => {
    const llm = join(dir, 'blocks.gguf');
    await writeScriptedLlama({ path: llm, metadataOverrides: { 'llama.block_count': 100_000 } });
    expectOneLineError(await runCli(['run', '--input', question, ...flags({ '--llm-model': llm })]), /llama\.block_count is 100000; llama\.cpp takes 1 to 512 layers/);
  });
});

describe('outputs', () => {
  it('a full disk under --metrics-json is one line, and the reply WAV is still written', async () => {
    const out = join(dir, 'reply.wav');
    const r = await runCli(['run', '--input', question, '--output', out, '--metrics-json', '/dev/full', ...flags()]);
    expectOneLineError(r, /^earshot: cannot write --metrics-json \/dev\/full \(the disk is full\); free some space or give another file$/);
    expect(statSync(out).size).toBeGreaterThan(44);
  });
});
