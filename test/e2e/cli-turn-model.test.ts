import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeScriptedSmartTurn } from '../fixtures/models/smart-turn.js';
import { runCli } from '../support/run-cli.js';
import { writeScenario, type Scenario } from '../support/speech-fixtures.js';
import { modelFlags, SCRIPTED_REPLY } from '../support/test-models.js';

const models = modelFlags();

describe('earshot run with a turn model', () => {
  let question: Scenario;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-turn-'));
    question = await writeScenario('cli-turn-question', [800, 'What is the capital of France?', 2000]);
  });

  const endpoints = (file: string) =>
    readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { ms: { endpoint: number } }).ms.endpoint);

  it('--turn-model ends the turn at the check point when the model says complete; --turn silence waits 500 ms', async () => {
    const model = await writeScriptedSmartTurn({ path: join(dir, 'complete.onnx'), probability: 0.9 });
    const withModel = join(dir, 'with-model.jsonl');
    const bySilence = join(dir, 'by-silence.jsonl');
    const a = await runCli(['run', '--input', question.path, '--turn-model', model, '--metrics-json', withModel, '--log-content', ...models]);
    const b = await runCli(['run', '--input', question.path, '--turn', 'silence', '--metrics-json', bySilence, ...models]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.stdout).toContain(SCRIPTED_REPLY);
    expect(endpoints(bySilence)[0]).toBeGreaterThanOrEqual(500);
    expect(endpoints(withModel)[0]).toBeLessThan(endpoints(bySilence)[0]);
  });

  it('a damaged turn model is one notice line, and the turn is still answered by the silence rule', async () => {
    const damaged = join(dir, 'damaged.onnx');
    await writeFile(damaged, 'not a model');
    const r = await runCli(['run', '--input', question.path, '--turn-model', damaged, '--log-content', ...models]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(SCRIPTED_REPLY);
    const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('npm warn'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^turn model .*damaged\.onnx could not be loaded .*; turns end after 500 ms of silence instead$/);
  });
});
