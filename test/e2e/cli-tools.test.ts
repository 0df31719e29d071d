import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeScriptedLlama } from '../fixtures/models/gguf-llama.js';
import { writeScriptedWhisperModel } from '../fixtures/models/whisper-ggml.js';
import { SOCKET_PATH } from '../../src/server/voice-server.js';
import { connectClient } from '../support/protocol-client.js';
import { runCli, startCli } from '../support/run-cli.js';
import { until } from '../support/until.js';
import { writeScenario } from '../support/speech-fixtures.js';
import { testModels } from '../support/test-models.js';

const QUESTION = 'When is the museum open on Sunday?';
const ANSWER = 'On Sunday the museum is open from 10:00 to 18:00.';
const KIOSK_TOOLS = 'examples/kiosk/tools.mjs';

describe('earshot run --tools', () => {
  let dir: string;
  let question: string;
  let models: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-cli-tools-'));
    const cache = join(process.cwd(), '.cache', 'test', 'cli-tools');
    const [stt, llm] = await Promise.all([
      writeScriptedWhisperModel({ path: join(cache, 'whisper-museum.bin'), script: QUESTION, shape: 'micro' }),
      writeScriptedLlama({
        path: join(cache, 'llama-opening-hours.gguf'),
        toolCall: { name: 'opening_hours', params: { day: 'sunday' }, answers: [{ when: '18:00', reply: ANSWER }] },
      }),
    ]);
    question = (await writeScenario('cli-museum-question', [800, QUESTION, 1500])).path;
    models = ['--stt-model', stt.path, '--llm-model', llm.path, '--voice', testModels.voice, '--espeak-data', testModels.espeakData, '--gpu', 'off'];
  });

  it('answers from the kiosk example: the call, the reply with its result, and the session table', async () => {
    const metrics = join(dir, 'metrics.jsonl');
    const r = await runCli(['run', '--input', question, '--tools', KIOSK_TOOLS, '--metrics-json', metrics, '--log-content', ...models], { guard: true });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`[turn 1] you: ${QUESTION}`);
    expect(r.stdout).toMatch(/^\[turn 1\] tool opening_hours \{"day":"sunday"\} → ok in \d+ ms$/m);
    expect(r.stdout).toContain(`[turn 1] earshot: ${ANSWER}`);
    expect(r.stdout).toMatch(/^session: 1 turn · 0 interruptions · 0 false interruptions · 0 masked · 1 tool call \(0 failed\)$/m);
    expect(r.stdout).toMatch(/^ {2}opening_hours +1 +0 +\d+ +\d+$/m);
    for (const engine of ['stt', 'llm', 'tts']) expect(r.stdout).toMatch(new RegExp(`^ {2}${engine} +[1-9]\\d* +\\d+ +\\d+$`, 'm'));
    const line = JSON.parse(readFileSync(metrics, 'utf8').trim());
    expect(line.tools).toEqual([{ name: 'opening_hours', status: 'ok', ms: expect.any(Number) }]);
  });

  it('a bad tools module is one line naming the file and the problem, before any model loads', async () => {
    const write = (name: string, source: string) => {
      const path = join(dir, name);
      writeFileSync(path, source);
      return path;
    };
    const cases: [string, string][] = [
      [join(dir, 'missing.mjs'), 'no such file'],
      [write('throws.mjs', `throw new Error('cannot reach the ticket system');`), 'failed to load (cannot reach the ticket system)'],
      [write('not-a-tool.mjs', `export default [{ name: 'x', description: 'X.' }];`), 'tool 1 ("x") is not a tool: its handler is not a function'],
      [write('twice.mjs', `const t = { name: 'a', description: 'A.', handler: () => 1 };\nexport default [t, t];`), 'two tools are named "a"'],
    ];
    // The model file does not exist: had it been loaded first, that would be the error.
    const noModel = models.map((m) => (m.endsWith('.gguf') ? join(dir, 'missing.gguf') : m));
    for (const [path, problem] of cases) {
      const r = await runCli(['run', '--input', question, '--tools', path, ...noModel]);
      const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('npm warn'));
      expect(r.code, r.stderr).toBe(2);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`earshot: tools module ${path}: ${problem}`);
    }
  });

  it('earshot serve --tools: a page asks, the model calls the kiosk tool, and the page is told of the call and hears its result', async () => {
    const cli = startCli(['serve', '--port', '0', '--tools', KIOSK_TOOLS, ...models], { guard: true });
    try {
      const url = await until(() => /serving (http:\/\/\S+)/.exec(cli.stderr())?.[1], 30_000, () => `the server (stderr: ${cli.stderr()})`);
      const page = await connectClient(new URL(SOCKET_PATH, url.replace('http', 'ws')).href);
      await page.next('hello');
      page.send({ type: 'text', text: QUESTION });
      expect(await page.next('tool-call')).toEqual({ type: 'tool-call', turn: 1, name: 'opening_hours', args: { day: 'sunday' } });
      expect(await page.next('tool-result')).toEqual({ type: 'tool-result', turn: 1, name: 'opening_hours', status: 'ok', ms: expect.any(Number) });
      const end = await page.next('turn-end', { timeoutMs: 30_000 });
      expect(end.reply).toBe(ANSWER);
      // The answer was played to the page, not only written.
      expect(page.frames.filter((f) => f.turn === 1).length).toBeGreaterThan(0);
      // The server's own log names the call and its outcome, not its arguments (no --log-content).
      expect(cli.stdout()).toMatch(/^\[1\] tool opening_hours → ok in \d+ ms$/m);
      expect(cli.stdout()).not.toContain('sunday');
      page.close();
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });

  it('has --tools and --mask in --help', async () => {
    for (const command of ['run', 'start', 'serve']) {
      const help = (await runCli([command, '--help'])).stdout.replace(/\s+/g, ' ');
      expect(help).toContain('--tools <file>');
      expect(help).toContain(`(choices: "off", "earcon", "phrase", default: "${command === 'run' ? 'off' : 'phrase'}")`);
      expect(help).toContain('--mask-phrase <text>');
    }
  });
});
