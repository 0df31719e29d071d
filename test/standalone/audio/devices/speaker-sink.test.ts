import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpeakerSink } from '../../../../src/audio/devices/speaker-sink.js';
import { pulseUnavailable, recordMonitor, soundTimes, startPulseServer, type MonitorRecorder, type PulseServer } from '../../../support/pulse-server.js';

const unavailable = pulseUnavailable();
if (unavailable) console.log(`speaker sink tests skipped: ${unavailable}`);

const TTS_RATE = 22_050;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A steady tone at the TTS rate, like a voice's sustained vowel. */
function tone(hz: number, seconds: number, rate = TTS_RATE): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => 0.3 * Math.sin((2 * Math.PI * hz * i) / rate));
}

/** Every recorded sample since `from`, as one array. */
function recorded(rec: MonitorRecorder, from = 0): Float32Array {
  const blocks = rec.blocks.filter((b) => b.at >= from);
  const out = new Float32Array(blocks.reduce((n, b) => n + b.samples.length, 0));
  let o = 0;
  for (const b of blocks) {
    out.set(b.samples, o);
    o += b.samples.length;
  }
  return out;
}

/** Samples above the noise floor: how much of the tone reached the listener. */
function soundSamples(samples: Float32Array): Float32Array {
  let first = samples.findIndex((s) => Math.abs(s) > 0.01);
  let last = samples.length - 1;
  while (last > first && Math.abs(samples[last]) <= 0.01) last--;
  if (first < 0) first = last = 0;
  return samples.subarray(first, last + 1);
}

/**
 * Frequency from the median period between rising zero crossings: pitch is what resampling must keep, and the
 * median ignores the odd period stretched by a scheduling hiccup on a busy machine.
 */
function frequency(samples: Float32Array, rate: number): number {
  const rising: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    // Interpolated crossing: whole-sample periods would quantize 44.1 kHz periods to 44 or 45 samples.
    if (samples[i - 1] < 0 && samples[i] >= 0) rising.push(i - 1 + samples[i - 1] / (samples[i - 1] - samples[i]));
  }
  const periods = rising.slice(1).map((r, i) => r - rising[i]).sort((a, b) => a - b);
  // The median of runs of 10 periods: finer than one period, still blind to an odd stretched one.
  const tens = rising.slice(10).map((r, i) => (r - rising[i]) / 10).sort((a, b) => a - b);
  return rate / (tens.length > 0 ? tens[Math.floor(tens.length / 2)] : periods[Math.floor(periods.length / 2)]);
}

async function settle(rec: MonitorRecorder): Promise<number> {
  await sleep(150);
  rec.blocks.length = 0;
  return performance.now();
}

describe.skipIf(unavailable !== undefined)('SpeakerSink on a real PulseAudio null sink', () => {
  let pulse: PulseServer;
  let sink: SpeakerSink;
  let rec: MonitorRecorder;
  const errors: Error[] = [];

  beforeAll(async () => {
    pulse = await startPulseServer({ sinks: ['earOut'] });
    Object.assign(process.env, pulse.env);
    rec = recordMonitor(pulse, 'earOut');
    const { openSpeakerSink } = await import('../../../../src/audio/devices/speaker-sink.js');
    sink = await openSpeakerSink({ device: 'pulse:earOut' });
    sink.on('error', ({ error }) => errors.push(error));
    while (rec.blocks.length === 0) await sleep(20);
  });

  afterAll(async () => {
    await sink?.close();
    await rec?.stop();
    await pulse?.stop();
  });

  it('resamples 22.05 kHz speech to the device rate with libsamplerate: same length, same pitch', async () => {
    await settle(rec);
    const chunk = { samples: tone(1000, 1), sampleRate: TTS_RATE };
    const heard = await sink.play(chunk, new AbortController().signal);
    await sleep(100);
    expect(heard).toBe(chunk.samples.length);
    const sound = soundSamples(recorded(rec));
    expect(Math.abs(sound.length / rec.rate - 1)).toBeLessThan(0.02);
    expect(frequency(sound, rec.rate)).toBeGreaterThan(995);
    expect(frequency(sound, rec.rate)).toBeLessThan(1005);
    expect(errors).toEqual([]);
  });

  it('goes silent within 100 ms of an abort and reports only what was heard', async () => {
    await settle(rec);
    const chunk = { samples: tone(440, 3), sampleRate: TTS_RATE };
    const ac = new AbortController();
    const playing = sink.play(chunk, ac.signal);
    await sleep(800);
    const abortAt = performance.now();
    ac.abort();
    const heard = await playing;
    const settledMs = performance.now() - abortAt;
    await sleep(300);
    const { firstAt, lastAt } = soundTimes(rec);
    const onB = soundSamples(recorded(rec)).length / rec.rate;
    console.log(
      `[speaker] abort: silent ${(lastAt! - abortAt).toFixed(1)} ms after abort, play() settled in ${settledMs.toFixed(1)} ms, ` +
        `reported heard ${((heard / TTS_RATE) * 1000).toFixed(0)} ms, sound on the sink ${(onB * 1000).toFixed(0)} ms ` +
        `(first sound ${(firstAt! - (abortAt - 800)).toFixed(0)} ms after play())`,
    );
    expect(lastAt! - abortAt).toBeLessThanOrEqual(100);
    expect(settledMs).toBeLessThan(50);
    // Played-sample accounting within 40 ms of what actually arrived.
    expect(Math.abs(heard / TTS_RATE - onB)).toBeLessThan(0.04);
    expect(errors).toEqual([]);
  });

  it('pause() silences within 100 ms, resume() continues where the listener stopped hearing', async () => {
    const start = await settle(rec);
    const chunk = { samples: tone(440, 1.5), sampleRate: TTS_RATE };
    const playing = sink.play(chunk, new AbortController().signal);
    await sleep(500);
    const pausedAt = performance.now();
    sink.pause();
    await sleep(400);
    const duringPause = soundTimes(rec);
    sink.resume();
    const heard = await playing;
    await sleep(150);
    expect(heard).toBe(chunk.samples.length);
    expect(duringPause.lastAt! - pausedAt).toBeLessThanOrEqual(100);
    const sound = recorded(rec, start);
    const total = sound.filter((s) => Math.abs(s) > 0.01).length / rec.rate;
    // Nothing lost and nothing played twice beyond a few blocks.
    expect(Math.abs(total - 1.5)).toBeLessThan(0.06);
    expect(errors).toEqual([]);
  });

  it('reports each block to onPlayed as it reaches the listener, in order, covering the whole chunk', async () => {
    await settle(rec);
    const played: { frames: number; at: number; firedAt: number; silent: boolean }[] = [];
    sink.onPlayed = (block, rate, at) => {
      expect(rate).toBe(sink.sampleRate);
      played.push({ frames: block.length, at, firedAt: performance.now(), silent: block.every((v) => v === 0) });
    };
    const chunk = { samples: tone(300, 0.5), sampleRate: TTS_RATE };
    await sink.play(chunk, new AbortController().signal);
    await sleep(300);
    sink.onPlayed = undefined;
    const sounding = played.filter((p) => !p.silent);
    const frames = sounding.reduce((n, p) => n + p.frames, 0);
    expect(frames).toBe(Math.round((chunk.samples.length * sink.sampleRate) / TTS_RATE));
    for (let i = 1; i < played.length; i++) expect(played[i].at).toBeGreaterThan(played[i - 1].at);
    for (const p of played) expect(Math.abs(p.firedAt - p.at)).toBeLessThan(30);
    // After the chunk the device is fed silence, back to back, so it never runs dry between sentences.
    const after = played.slice(sounding.length);
    expect(after.length).toBeGreaterThan(10);
    expect(after.every((p) => p.silent)).toBe(true);
    for (let i = 1; i < after.length; i++) expect(after[i].at - after[i - 1].at).toBeCloseTo(10, 1);
  });

  it('closes mid-play without an uncaught error, and the pending play settles', async () => {
    const { openSpeakerSink } = await import('../../../../src/audio/devices/speaker-sink.js');
    const other = await openSpeakerSink({ device: 'pulse:earOut' });
    const otherErrors: Error[] = [];
    other.on('error', ({ error }) => otherErrors.push(error));
    const ac = new AbortController();
    const playing = other.play({ samples: tone(500, 2), sampleRate: TTS_RATE }, ac.signal);
    await sleep(300);
    await other.close();
    ac.abort();
    const heard = await playing;
    expect(heard).toBeGreaterThan(0);
    expect(heard).toBeLessThan(TTS_RATE * 2);
    await sleep(100);
    expect(otherErrors).toEqual([]);
  });
});
