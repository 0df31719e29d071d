import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../src/audio/wav.js';
import { loadPiperTts } from '../../src/tts/piper-tts-engine.js';
import { runCli } from '../support/run-cli.js';
import { writeScenario, type Scenario } from '../support/speech-fixtures.js';
import { modelFlags, SCRIPTED_REPLY, SCRIPTED_TRANSCRIPT, testModels } from '../support/test-models.js';


describe('earshot run (file mode)', () => {
  let one: Scenario;
  let two: Scenario;
  let replySamples: number;
  let out: string;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'earshot-cli-'));
    one = await writeScenario('cli-one-question', [1000, 'What is the capital of France?', 1200]);
    two = await writeScenario('cli-two-questions', [700, 'What is the capital of France?', 1800, 'Is it far from here?', 1200]);
    const tts = await loadPiperTts({ voiceDir: testModels.voice, espeakDataDir: testModels.espeakData });
    replySamples = 0;
    for (const s of ['Paris is the capital of France.', 'It is known for the Eiffel Tower.']) replySamples += (await tts.synthesize(s)).length;
    await tts.dispose();
  });

  it('answers a spoken question with no network at all, and writes the reply, the transcript and the metrics', async () => {
    const wav = join(out, 'reply.wav');
    const metrics = join(out, 'metrics.jsonl');
    // Both proofs at once: the JS guard exits 99 on any socket or DNS use, and the process runs in a network
    // namespace that has no interface but a downed loopback.
    const r = await runCli(['run', '--input', one.path, '--output', wav, '--metrics-json', metrics, '--log-content', ...modelFlags()], {
      guard: true,
      netns: true,
    });
    expect(r.stderr).not.toContain('NETWORK ACCESS BLOCKED');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`[turn 1] you: ${SCRIPTED_TRANSCRIPT}`);
    expect(r.stdout).toContain(`[turn 1] earshot: ${SCRIPTED_REPLY}`);
    expect(r.stdout.match(/^\[turn \d+\] latency ms: endpoint \d+ · transcript \d+ · first token \d+ · first sentence \d+ · first audio \d+ · total \d+ · prefill \d+ tokens( \(prepared in the pause\))?$/gm)).toHaveLength(1);

    const audio = decodeWav(readFileSync(wav));
    expect(audio.sampleRate).toBe(22050);
    // 16-bit rounding aside, the file holds exactly the two sentences' audio.
    expect(audio.samples.length).toBe(replySamples);

    const lines = readFileSync(metrics, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ turn: 1, transcript: SCRIPTED_TRANSCRIPT, reply: SCRIPTED_REPLY });
    const ms = lines[0].ms;
    const order = [ms.endpoint, ms.transcript, ms.firstToken, ms.firstSentence, ms.firstAudio, ms.total];
    for (let i = 1; i < order.length; i++) expect(order[i]).toBeGreaterThanOrEqual(order[i - 1]);
    expect(Math.abs(lines[0].speech.startMs - one.speech[0].startMs)).toBeLessThanOrEqual(150);
  });

  it('gives two turns for two questions, one WAV per turn with --output-dir', async () => {
    const dir = join(out, 'turns');
    const r = await runCli(['run', '--input', two.path, '--output-dir', dir, '--log-content', ...modelFlags()]);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/latency ms:/g)).toHaveLength(2);
    expect(r.stdout).toContain('[turn 2] you: ');
    for (const f of ['turn-01.wav', 'turn-02.wav']) {
      expect(existsSync(join(dir, f))).toBe(true);
      expect(decodeWav(readFileSync(join(dir, f))).samples.length).toBe(replySamples);
    }
    expect(existsSync(join(dir, 'turn-03.wav'))).toBe(false);
  });

  it('the network guard itself catches a connection attempt (so a pass above means something)', async () => {
    const { spawnSync } = await import('node:child_process');
    const { NO_NETWORK_GUARD } = await import('../support/run-cli.js');
    const r = spawnSync(process.execPath, ['--import', NO_NETWORK_GUARD, '-e', "require('node:net').connect(80, '127.0.0.1')"], { encoding: 'utf8' });
    expect(r.status).toBe(99);
    expect(r.stderr).toContain('NETWORK ACCESS BLOCKED: connect 127.0.0.1:80');
    const d = spawnSync(process.execPath, ['--import', NO_NETWORK_GUARD, '-e', "require('node:dns').lookup('example.org', () => {})"], { encoding: 'utf8' });
    expect(d.status).toBe(99);
  });
});
