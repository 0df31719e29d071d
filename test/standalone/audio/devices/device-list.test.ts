import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearOutputProbeCache, probeOutputDevice } from '../../../../src/audio/devices/device-probe.js';
import { listAudioDevices, parseAlsaCardList } from '../../../../src/audio/devices/device-list.js';
import { pulseUnavailable, startPulseServer, type PulseServer } from '../../../support/pulse-server.js';
import { runCli, type CliResult } from '../../../support/run-cli.js';
import { testModels } from '../../../support/test-models.js';

const dir = mkdtempSync(join(tmpdir(), 'earshot-devices-'));
/** ALSA configurations for the tests (the notes' recipe): one whose default discards audio, one with no default at all. */
const NULL_DEFAULT = join(dir, 'null-default.conf');
const NO_DEFAULT = join(dir, 'no-default.conf');
writeFileSync(NULL_DEFAULT, 'pcm.!default { type null }\nctl.!default { type hw card 0 }\n');
writeFileSync(NO_DEFAULT, 'pcm.nothing { type null }\n');

const modelFlags = ['--stt-model', testModels.stt, '--llm-model', testModels.llm, '--voice', testModels.voice, '--espeak-data', testModels.espeakData, '--gpu', 'off'];

function oneLine(r: CliResult): string {
  expect(r.signal).toBeNull();
  const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('npm warn'));
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0];
}

describe('device probing never takes the process down', () => {
  it('a machine with no default ALSA device: the probe child aborts, this process reports it', async () => {
    process.env.ALSA_CONFIG_PATH = NO_DEFAULT;
    try {
      clearOutputProbeCache();
      const probe = await probeOutputDevice();
      expect(probe).toEqual({ ok: false, reason: expect.stringMatching(/default/i) });
    } finally {
      delete process.env.ALSA_CONFIG_PATH;
      clearOutputProbeCache();
    }
  });

  it('a named device that does not exist fails the probe with ALSA\'s own words', async () => {
    process.env.ALSA_CONFIG_PATH = NULL_DEFAULT;
    try {
      expect(await probeOutputDevice()).toEqual({ ok: true });
      expect(await probeOutputDevice({ device: 'hw:9,0' })).toEqual({ ok: false, reason: expect.stringMatching(/hw:9,0/) });
    } finally {
      delete process.env.ALSA_CONFIG_PATH;
      clearOutputProbeCache();
    }
  });

  it('earshot start with no audio output says "no audio output found, use --output FILE" in one line', async () => {
    const r = await runCli(['start', ...modelFlags], { env: { ALSA_CONFIG_PATH: NO_DEFAULT } });
    expect(r.code).toBe(1);
    expect(oneLine(r)).toMatch(/^earshot: no audio output found, use --output FILE \(/);
  });

  it('earshot start with a microphone that does not exist says "no microphone found" in one line', async () => {
    const r = await runCli(['start', '--output', join(dir, 'reply.wav'), '--input-device', 'hw:9,0', ...modelFlags], {
      env: { ALSA_CONFIG_PATH: NULL_DEFAULT },
    });
    expect(r.code).toBe(1);
    expect(oneLine(r)).toMatch(/^earshot: no microphone found \(arecord hw:9,0: /);
  });
});

describe('parsing ALSA card lists', () => {
  it('names each card device as plughw:CARD,DEV', () => {
    const text = [
      '**** List of CAPTURE Hardware Devices ****',
      'card 0: PCH [HDA Intel PCH], device 0: ALC3246 Analog [ALC3246 Analog]',
      '  Subdevices: 1/1',
      'card 2: Device [USB PnP Sound Device], device 0: USB Audio [USB Audio]',
    ].join('\n');
    expect(parseAlsaCardList(text, 'input').map((d) => [d.id, d.description])).toEqual([
      ['plughw:0,0', 'HDA Intel PCH: ALC3246 Analog'],
      ['plughw:2,0', 'USB PnP Sound Device: USB Audio'],
    ]);
  });
});

const unavailable = pulseUnavailable();
if (unavailable) console.log(`sound-server device listing skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('listing devices of a running PulseAudio', () => {
  let pulse: PulseServer;
  beforeAll(async () => {
    pulse = await startPulseServer({ sinks: ['earOne', 'earTwo'], lowLatency: false });
  });
  afterAll(async () => {
    await pulse?.stop();
  });

  it('lists sinks as outputs and their monitors as inputs, with the defaults marked', async () => {
    Object.assign(process.env, pulse.env);
    const list = await listAudioDevices();
    expect(list.soundServer).toBe(true);
    expect(list.outputs.filter((d) => d.system === 'pulse').map((d) => d.id)).toEqual(['pulse:earOne', 'pulse:earTwo']);
    expect(list.inputs.filter((d) => d.system === 'pulse').map((d) => [d.id, d.isMonitor])).toEqual([
      ['pulse:earOne.monitor', true],
      ['pulse:earTwo.monitor', true],
    ]);
    expect(list.outputs.find((d) => d.isDefault)?.id).toBe('pulse:earOne');
    expect(list.outputs[0].sampleRate).toBe(48_000);
  });

  it('earshot devices prints both lists; --json is machine-readable', async () => {
    const text = await runCli(['devices'], { env: pulse.env });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/inputs \(--input-device\):\n.*pulse:earOne\.monitor/);
    expect(text.stdout).toMatch(/outputs \(--output-device\):\n\s+\* pulse:earOne /);
    const json = await runCli(['devices', '--json'], { env: pulse.env });
    const parsed = JSON.parse(json.stdout) as { outputs: { id: string }[] };
    expect(parsed.outputs.map((d) => d.id)).toContain('pulse:earTwo');
  });
});
