import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeWav, writeWav } from '../../src/audio/wav.js';
import { resample } from '../../src/audio/resample.js';
import { PIPELINE_SAMPLE_RATE, concatFloat32 } from '../../src/audio/pcm.js';

export const FIXTURE_DIR = join(process.cwd(), '.cache', 'test-fixtures');

/** Speech from Debian's flite (16 kHz), as mono float32 at 16 kHz. */
export async function fliteSpeech(text: string, voice = 'slt'): Promise<Float32Array> {
  mkdirSync(FIXTURE_DIR, { recursive: true });
  const file = join(FIXTURE_DIR, `flite-${voice}-${text.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.wav`);
  if (!existsSync(file)) execFileSync('flite', ['-voice', voice, '-t', text, '-o', file]);
  const d = decodeWav(readFileSync(file));
  return resample(d.samples, d.sampleRate, PIPELINE_SAMPLE_RATE);
}

/** Speech from Debian's espeak-ng (22.05 kHz), as mono float32 at 16 kHz. */
export async function espeakSpeech(text: string, voice = 'en-us'): Promise<Float32Array> {
  mkdirSync(FIXTURE_DIR, { recursive: true });
  const file = join(FIXTURE_DIR, `espeak-${voice}-${text.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.wav`);
  if (!existsSync(file)) execFileSync('espeak-ng', ['-v', voice, '-w', file, text]);
  const d = decodeWav(readFileSync(file));
  return resample(d.samples, d.sampleRate, PIPELINE_SAMPLE_RATE);
}

/** Speech with the silence flite puts around it cut off. */
export async function trimmedSpeech(text: string, voice = 'slt'): Promise<Float32Array> {
  const pcm = await fliteSpeech(text, voice);
  const b = soundBounds(pcm);
  return pcm.slice(Math.floor((b.startMs / 1000) * PIPELINE_SAMPLE_RATE), Math.ceil((b.endMs / 1000) * PIPELINE_SAMPLE_RATE));
}

/** Where the sound in `samples` starts and ends, ms, by a 10 ms energy envelope above -40 dBFS. */
export function soundBounds(samples: Float32Array, rate = PIPELINE_SAMPLE_RATE): { startMs: number; endMs: number } {
  const win = Math.round(rate / 100);
  let first = -1;
  let last = -1;
  for (let i = 0; i + win <= samples.length; i += win) {
    let sum = 0;
    for (let j = i; j < i + win; j++) sum += samples[j] * samples[j];
    if (Math.sqrt(sum / win) > 0.01) {
      if (first < 0) first = i;
      last = i + win;
    }
  }
  if (first < 0) throw new Error('no sound in fixture');
  return { startMs: (first / rate) * 1000, endMs: (last / rate) * 1000 };
}

export interface Scenario {
  path: string;
  /** Where each spoken piece sits in the file, ms (from the sound itself, not the padding). */
  speech: { startMs: number; endMs: number }[];
  durationMs: number;
}

/**
 * Writes a 16 kHz WAV made of silence and speech pieces: numbers are silence in ms, strings are spoken by flite.
 */
export async function writeScenario(name: string, parts: (number | string)[]): Promise<Scenario> {
  mkdirSync(FIXTURE_DIR, { recursive: true });
  const chunks: Float32Array[] = [];
  const speech: Scenario['speech'] = [];
  let at = 0;
  for (const p of parts) {
    const pcm = typeof p === 'number' ? new Float32Array(Math.round((p / 1000) * PIPELINE_SAMPLE_RATE)) : await fliteSpeech(p);
    if (typeof p === 'string') {
      const b = soundBounds(pcm);
      const offsetMs = (at / PIPELINE_SAMPLE_RATE) * 1000;
      speech.push({ startMs: offsetMs + b.startMs, endMs: offsetMs + b.endMs });
    }
    chunks.push(pcm);
    at += pcm.length;
  }
  const samples = concatFloat32(chunks);
  const path = join(FIXTURE_DIR, `${name}.wav`);
  await writeWav(path, { samples, sampleRate: PIPELINE_SAMPLE_RATE });
  return { path, speech, durationMs: (samples.length / PIPELINE_SAMPLE_RATE) * 1000 };
}
