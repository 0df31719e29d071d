import { copyFileSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError } from '../support/one-line-error.js';
import { runCli } from '../support/run-cli.js';
import { writeScenario } from '../support/speech-fixtures.js';
import { modelFlags, testModels } from '../support/test-models.js';


describe('earshot run with bad input', () => {
  let dir: string;
  let question: string;
  const flags = (over: Record<string, string> = {}) => {
    const f: Record<string, string> = {
      '--stt-model': testModels.stt,
      '--llm-model': testModels.llm,
      '--voice': testModels.voice,
      '--espeak-data': testModels.espeakData,
      ...over,
    };
    return Object.entries(f).flat();
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-bad-'));
    question = (await writeScenario('bad-input-question', [500, 'What is the capital of France?', 800])).path;
  });

  it('names a missing model file and how to get one', async () => {
    const r = await runCli(['run', '--input', question, ...flags({ '--stt-model': join(dir, 'nope.bin') })]);
    expectOneLineError(r, /nope\.bin.*npm run fetch-models/);
  });

  it('names a model missing from models/ and the exact fetch-models line', async () => {
    const r = await runCli(['run', '--input', question, '--stt', 'base.en', '--llm-model', testModels.llm, '--voice', testModels.voice], {
      env: { EARSHOT_MODELS_DIR: join(dir, 'empty-models') },
    });
    expectOneLineError(r, /npm run fetch-models -- --stt base\.en/);
  });

  it('rejects a truncated GGUF before llama.cpp can crash on it', async () => {
    const bad = join(dir, 'truncated.gguf');
    copyFileSync(testModels.llm, bad);
    truncateSync(bad, Math.floor(statSync(bad).size / 2));
    const r = await runCli(['run', '--input', question, ...flags({ '--llm-model': bad })]);
    expectOneLineError(r, /truncated\.gguf/);
  });

  it('rejects a truncated whisper model before whisper.cpp can crash on it', async () => {
    const bad = join(dir, 'truncated.bin');
    copyFileSync(testModels.stt, bad);
    truncateSync(bad, Math.floor(statSync(bad).size * 0.7));
    const r = await runCli(['run', '--input', question, ...flags({ '--stt-model': bad })]);
    expectOneLineError(r, /truncated\.bin/);
  });

  it('rejects a voice whose ONNX lacks required metadata before sherpa-onnx can exit the process', async () => {
    const voice = join(dir, 'broken-voice');
    mkdirSync(voice, { recursive: true });
    copyFileSync(join(testModels.voice, 'tokens.txt'), join(voice, 'tokens.txt'));
    writeFileSync(join(voice, 'voice.onnx'), readFileSync(testModels.stt).subarray(0, 4096));
    const r = await runCli(['run', '--input', question, ...flags({ '--voice': voice })]);
    expectOneLineError(r, /broken-voice/);
  });

  it('rejects a file that is not a WAV', async () => {
    const notWav = join(dir, 'notes.txt');
    writeFileSync(notWav, 'just some text, not audio at all');
    const r = await runCli(['run', '--input', notWav, ...flags()]);
    expectOneLineError(r, /notes\.txt is not a readable WAV/);
  });

  it('rejects a truncated WAV', async () => {
    const cut = join(dir, 'cut.wav');
    writeFileSync(cut, readFileSync(question).subarray(0, 30));
    const r = await runCli(['run', '--input', cut, ...flags()]);
    expectOneLineError(r, /cut\.wav/);
  });

  it('says when the input does not exist', async () => {
    const r = await runCli(['run', '--input', join(dir, 'missing.wav'), ...flags()]);
    expectOneLineError(r, /missing\.wav does not exist/);
  });

  it('rejects an unknown flag with one line and exit code 2', async () => {
    const r = await runCli(['run', '--input', question, '--shout', ...flags()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--shout'/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('prints "no speech found" and exits 0 for a silent input', async () => {
    const silent = await writeScenario('bad-input-silence', [2500]);
    const r = await runCli(['run', '--input', silent.path, ...flags()]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('no speech found');
  });

  it('has --help on the program and on run', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('run');
    const run = await runCli(['run', '--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--input', '--output', '--output-dir', '--stt-model', '--llm-model', '--voice', '--espeak-data', '--vad-model', '--system-prompt', '--metrics-json']) {
      expect(run.stdout).toContain(flag);
    }
  });
});

describe('earshot serve with bad flags', () => {
  const models = modelFlags();

  it('says what --help says about binding, tokens and the protocol', async () => {
    const r = await runCli(['serve', '--help']);
    expect(r.code).toBe(0);
    for (const text of ['--host', '--port', '--token', '--max-sessions', '--idle-timeout', 'earshot.v1', 'autostart=1', 'loopback']) {
      expect(r.stdout).toContain(text);
    }
  });

  it('names a port that is taken, before loading any model', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((taken.address() as AddressInfo).port);
      const r = await runCli(['serve', '--port', port, ...models]);
      expectOneLineError(r, new RegExp(`127\\.0\\.0\\.1:${port} is in use; pick another with --port`));
    } finally {
      taken.close();
    }
  });

  it('rejects a port out of range, an empty token, and --json with --quiet', async () => {
    expectOneLineError(await runCli(['serve', '--port', '70000', ...models]), /--port takes 0-65535/);
    expectOneLineError(await runCli(['serve', '--token', '', ...models]), /--token must not be empty/);
    expectOneLineError(await runCli(['serve', '--json', '--quiet', ...models]), /--json and --quiet do not go together/);
  });
});
