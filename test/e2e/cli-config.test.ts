import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';
import { writeScenario } from '../support/speech-fixtures.js';
import { SCRIPTED_REPLY, SCRIPTED_TRANSCRIPT, testModels } from '../support/test-models.js';

describe('earshot run --config', () => {
  it('takes its input, models, outputs and agent settings from the file; a flag on the command line wins', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'earshot-config-run-'));
    copyFileSync((await writeScenario('config-one-question', [800, 'What is the capital of France?', 1000])).path, join(dir, 'question.wav'));
    const config = join(dir, 'kiosk.json');
    writeFileSync(
      config,
      JSON.stringify({
        input: 'question.wav',
        output: 'from-file.wav',
        metricsJson: 'metrics.jsonl',
        sttModel: testModels.stt,
        llmModel: testModels.llm,
        voice: testModels.voice,
        espeakData: testModels.espeakData,
        gpu: 'off',
        turn: 'silence',
        // Words are printed to a pipe only when asked: the flag's key from the file asks.
        logContent: true,
        agent: { maxReplyTokens: 3 },
      }),
    );
    const fromFlag = join(dir, 'from-flag.wav');
    // Started elsewhere than the file's folder: its relative paths still mean the files beside it.
    const r = await runCli(['run', '--config', config, '--output', fromFlag], { env: { EARSHOT_MODELS_DIR: join(dir, 'no-models') } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`[turn 1] you: ${SCRIPTED_TRANSCRIPT}`);
    // maxReplyTokens from the agent section cut the scripted reply short.
    const reply = /\[turn 1\] earshot: (.*)/.exec(r.stdout)?.[1] ?? '';
    expect(reply.length).toBeGreaterThan(0);
    expect(reply.length).toBeLessThan(SCRIPTED_REPLY.length);
    expect(SCRIPTED_REPLY.startsWith(reply.trim())).toBe(true);
    expect(existsSync(fromFlag)).toBe(true);
    expect(existsSync(join(dir, 'from-file.wav'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim()).turn).toBe(1);
  });
});
