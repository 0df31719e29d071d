import { execFileSync } from 'node:child_process';
import type { Agent } from '../../src/agent/agent.js';
import { MicInput } from '../../src/audio/devices/mic-input.js';
import type { SpeakerSink } from '../../src/audio/devices/speaker-sink.js';
import { float32ToInt16 } from '../../src/audio/pcm.js';
import { firstSoundIndex, joinedSamples, locate, SOUND_PEAK, silenceStartIndex } from './acoustic-timing.js';
import { playInto, recordMonitor, startPulseServer, type MonitorRecorder, type PulseServer } from './pulse-server.js';

const RATE = 16_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Open speakers in a small room: what sink "out" plays comes back into sink "mic", later and quieter. */
export interface RoomEcho {
  /** module-loopback latency, ms. */
  latencyMs: number;
  /** Linear gain of the echo (0.6 = -4.4 dB). */
  gain: number;
}

/**
 * A private PulseAudio as a user's machine: null sink "mic" (its monitor is the microphone) and null sink
 * "out" (the speaker), both monitors recorded from the same moment at 16 kHz, so a sample index on one
 * recording is the same moment on the other (within 6-9 ms, checked with a click through a loopback).
 */
export class BargeInRig {
  private constructor(
    readonly pulse: PulseServer,
    readonly sink: SpeakerSink,
    readonly mic: MicInput,
    readonly recMic: MonitorRecorder,
    readonly recOut: MonitorRecorder,
  ) {}

  static async start(echo?: RoomEcho): Promise<BargeInRig> {
    const pulse = await startPulseServer({ sinks: ['mic', 'out'] });
    // speaker loads alsa-lib's pulse plugin in this process: it must see this server before its first use.
    Object.assign(process.env, pulse.env);
    const env = { ...process.env, ...pulse.env };
    if (echo) {
      // adjust_time=0: a room does not re-time its echo; left on, the loopback nudges its rate every few seconds.
      const args = ['source=out.monitor', 'sink=mic', `latency_msec=${echo.latencyMs}`, 'adjust_time=0'];
      execFileSync('pactl', ['load-module', 'module-loopback', ...args], { env });
      const inputs = execFileSync('pactl', ['list', 'short', 'sink-inputs'], { env, encoding: 'utf8' });
      const input = inputs.split('\n').find((l) => l.split('\t')[3] === 'module-loopback.c')?.split('\t')[0];
      if (!input) throw new Error('the loopback has no sink input');
      // A linear factor: pactl reads "0.6" as amplitude, "60%" on its cubic volume scale.
      execFileSync('pactl', ['set-sink-input-volume', input, String(echo.gain)], { env });
    }
    const recMic = recordMonitor(pulse, 'mic', RATE);
    const recOut = recordMonitor(pulse, 'out', RATE);
    const { openSpeakerSink } = await import('../../src/audio/devices/speaker-sink.js');
    const sink = await openSpeakerSink({ device: 'pulse:out' });
    const mic = new MicInput({ device: 'pulse:mic.monitor' });
    await mic.start();
    return new BargeInRig(pulse, sink, mic, recMic, recOut);
  }

  /** Feeds the microphone to `agent` until the returned function is called. */
  connect(agent: Agent): () => void {
    const feed = ({ samples, sampleRate }: { samples: Int16Array; sampleRate: number }) => agent.pushAudio(samples, sampleRate);
    this.mic.on('data', feed);
    return () => this.mic.off('data', feed);
  }

  /** Waits until the speaker has been sounding for the last 100 ms. */
  async untilSpeaking(timeoutMs = 20_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const out = joinedSamples(this.recOut);
      let peak = 0;
      for (let i = Math.max(0, out.length - RATE / 10); i < out.length; i++) peak = Math.max(peak, Math.abs(out[i]));
      if (peak > SOUND_PEAK) return;
      await sleep(20);
    }
    throw new Error('the speaker never sounded');
  }

  /** RMS of what the speaker played over the last `ms`. */
  outputRms(ms: number): number {
    const out = joinedSamples(this.recOut);
    const n = Math.min(out.length, Math.round((ms / 1000) * RATE));
    let s = 0;
    for (let i = out.length - n; i < out.length; i++) s += out[i] * out[i];
    return Math.sqrt(s / Math.max(1, n));
  }

  /**
   * Plays `speech` into the microphone sink and measures, as a listener would, from its first sample with
   * sound on the microphone to the start of at least 500 ms without sound on the speaker. Infinity when the
   * speaker never went quiet within `timeoutMs` of the speech's end; undefined when the speaker was not
   * sounding just before the speech began (the run says nothing about barge-in).
   */
  async onsetToSilence(speech: Float32Array, timeoutMs = 3000): Promise<number | undefined> {
    const micFrom = joinedSamples(this.recMic).length;
    await playInto(this.pulse, 'mic', float32ToInt16(speech), RATE);
    await sleep(200);
    const deadline = performance.now() + timeoutMs;
    // The speech lies after the point the recording had reached when it started playing, give or take the
    // capture's start-up.
    const from = Math.max(0, micFrom - RATE / 10);
    const onset = locate(joinedSamples(this.recMic), speech, from, from + speech.length + RATE) + firstSoundIndex(speech, RATE);
    if (silenceStartIndex(joinedSamples(this.recOut), RATE, onset - RATE / 5, 200) < onset) return undefined;
    for (;;) {
      const silence = silenceStartIndex(joinedSamples(this.recOut), RATE, onset);
      if (silence >= 0) return ((silence - onset) / RATE) * 1000;
      if (performance.now() > deadline) return Infinity;
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    await this.mic.stop();
    await this.sink.close();
    await this.recMic.stop();
    await this.recOut.stop();
    await this.pulse.stop();
  }
}

/**
 * Runs `measure` until it has `runs` figures (undefined results are retried, at most `runs` extra times)
 * and returns them.
 */
export async function figures(runs: number, measure: () => Promise<number | undefined>): Promise<number[]> {
  const out: number[] = [];
  for (let attempt = 0; out.length < runs && attempt < 2 * runs; attempt++) {
    const f = await measure();
    if (f !== undefined) out.push(f);
  }
  return out;
}

/** `speech` scaled to the RMS `rms`. */
export function atLevel(speech: Float32Array, rms: number): Float32Array {
  let s = 0;
  for (const v of speech) s += v * v;
  const k = rms / Math.sqrt(s / speech.length);
  return speech.map((v) => v * k);
}
