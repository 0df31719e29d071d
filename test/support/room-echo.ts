import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PIPELINE_SAMPLE_RATE } from '../../src/audio/pcm.js';
import { resample } from '../../src/audio/resample.js';
import { decodeWav, writeWav } from '../../src/audio/wav.js';

/** `samples` (16 kHz) as heard in a reverberant room: sox `reverb` (reverberance 50%, damping 50%, room 100%). */
export async function reverberant(samples: Float32Array): Promise<Float32Array> {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-room-'));
  try {
    await writeWav(join(dir, 'dry.wav'), { samples, sampleRate: PIPELINE_SAMPLE_RATE });
    execFileSync('sox', [join(dir, 'dry.wav'), join(dir, 'wet.wav'), 'reverb', '50', '50', '100']);
    const wet = decodeWav(readFileSync(join(dir, 'wet.wav')));
    return wet.sampleRate === PIPELINE_SAMPLE_RATE ? wet.samples : resample(wet.samples, wet.sampleRate, PIPELINE_SAMPLE_RATE);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Echo return loss enhancement, dB: echo power in over residual power out. */
export function erleDb(before: Float32Array, after: Float32Array): number {
  let b = 0;
  let a = 0;
  for (let i = 0; i < before.length; i++) {
    b += before[i] * before[i];
    a += after[i] * after[i];
  }
  return 10 * Math.log10(b / Math.max(a, 1e-20));
}
