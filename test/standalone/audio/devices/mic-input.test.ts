import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { MicInput } from '../../../../src/audio/devices/mic-input.js';
import { playInto, pulseUnavailable, startPulseServer, type PulseServer } from '../../../support/pulse-server.js';

const unavailable = pulseUnavailable();
if (unavailable) console.log(`microphone tests skipped: ${unavailable}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Recorder processes this test process started that are still alive. */
function recorderChildren(): string[] {
  return execFileSync('/bin/ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /^\d+ (arecord|sox|rec)$/.test(l.trim()));
}

describe.skipIf(unavailable !== undefined)('MicInput on a real PulseAudio', () => {
  let pulse: PulseServer;
  const dir = join('/tmp', `earshot-mic-${process.pid}`);

  beforeAll(async () => {
    pulse = await startPulseServer({ sinks: ['earIn'], dir });
    Object.assign(process.env, pulse.env);
  });

  afterAll(async () => {
    await pulse?.stop();
  });

  it('delivers the device rate in small blocks, hears what is played, and leaves no child after stop()', async () => {
    const mic = new MicInput({ device: 'pulse:earIn.monitor', sampleRate: 44_100 });
    const blocks: { n: number; peak: number }[] = [];
    mic.on('data', ({ samples, sampleRate }) => {
      expect(sampleRate).toBe(44_100);
      let peak = 0;
      for (const s of samples) peak = Math.max(peak, Math.abs(s));
      blocks.push({ n: samples.length, peak });
    });
    await mic.start();
    onTestFinished(() => mic.stop());
    expect(mic.toolName).toBe('arecord');
    await sleep(200);
    const before = blocks.length;
    const t0 = performance.now();
    await playInto(pulse, 'earIn', Int16Array.from({ length: 16_000 }, (_, i) => 10_000 * Math.sin(i / 5)), 16_000);
    await sleep(200);
    const elapsed = (performance.now() - t0) / 1000;
    const got = blocks.slice(before).reduce((n, b) => n + b.n, 0);
    expect(got / elapsed / 44_100).toBeGreaterThan(0.9);
    expect(got / elapsed / 44_100).toBeLessThan(1.1);
    expect(blocks.slice(before).some((b) => b.peak > 5000)).toBe(true);
    // 10 ms periods: the median block is 441 samples, not arecord's default 125 ms.
    const sizes = blocks.map((b) => b.n).sort((a, b) => a - b);
    expect(sizes[Math.floor(sizes.length / 2)]).toBeLessThanOrEqual(882);
    expect(recorderChildren()).toHaveLength(1);
    await mic.stop();
    expect(recorderChildren()).toEqual([]);
  });

  it('says so when the sound server goes away, retries with backoff, and resumes when it returns', async () => {
    const mic = new MicInput({ device: 'pulse:earIn.monitor', stallTimeoutMs: 1000, retryInitialMs: 200, retryMaxMs: 800 });
    const lost: { reason: string; retryInMs: number }[] = [];
    const restored: number[] = [];
    let samples = 0;
    mic.on('lost', (e) => lost.push(e));
    mic.on('restored', ({ downMs }) => restored.push(downMs));
    mic.on('data', (d) => (samples += d.samples.length));
    await mic.start();
    onTestFinished(() => mic.stop());
    await sleep(300);

    await pulse.stop();
    await sleep(2500);
    expect(lost.length).toBeGreaterThanOrEqual(2);
    expect(lost[0].reason.length).toBeGreaterThan(0);
    // Backoff: each wait at least as long as the one before, capped.
    for (let i = 1; i < lost.length; i++) expect(lost[i].retryInMs).toBeGreaterThanOrEqual(lost[i - 1].retryInMs);
    expect(lost.at(-1)!.retryInMs).toBeLessThanOrEqual(800);
    expect(restored).toEqual([]);

    pulse = await startPulseServer({ sinks: ['earIn'], dir });
    const deadline = performance.now() + 8000;
    while (restored.length === 0 && performance.now() < deadline) await sleep(50);
    expect(restored).toHaveLength(1);
    const after = samples;
    await sleep(500);
    expect(samples).toBeGreaterThan(after);
    await mic.stop();
    expect(recorderChildren()).toEqual([]);
  });

  it('a device that does not exist is "no microphone found", one line, no child left', async () => {
    const mic = new MicInput({ device: 'pulse:no-such-source' });
    await expect(mic.start()).rejects.toMatchObject({ code: 'NO_DEVICE', message: expect.stringMatching(/^no microphone found \(/) });
    expect(recorderChildren()).toEqual([]);
  });

  it('no recorder program at all is "no microphone found" with the package to install', async () => {
    const bin = join(dir, 'bin-without-recorders');
    mkdirSync(bin, { recursive: true });
    const path = process.env.PATH;
    process.env.PATH = bin;
    try {
      const mic = new MicInput();
      await expect(mic.start()).rejects.toMatchObject({ code: 'NO_DEVICE', message: expect.stringMatching(/^no microphone found.*alsa-utils/) });
    } finally {
      process.env.PATH = path;
    }
  });

  it('falls back to sox through node-record-lpcm16 when arecord is missing', async () => {
    const bin = join(dir, 'bin-sox-only');
    mkdirSync(bin, { recursive: true });
    try {
      symlinkSync('/usr/bin/sox', join(bin, 'sox'));
    } catch {
      // already there from an earlier run
    }
    const path = process.env.PATH;
    process.env.PATH = bin;
    try {
      const mic = new MicInput({ sampleRate: 16_000 });
      let n = 0;
      mic.on('data', (d) => (n += d.samples.length));
      await mic.start();
      expect(mic.toolName).toBe('sox');
      await sleep(500);
      await mic.stop();
      expect(n).toBeGreaterThan(0);
      expect(recorderChildren()).toEqual([]);
    } finally {
      process.env.PATH = path;
    }
  });
});
