import { readWavForPipeline } from '../src/audio/wav.js';
import { loadSileroVad } from '../src/vad/silero-vad.js';

export interface VadBenchResult {
  /** VAD compute per second of audio, ms (median of runs). */
  msPerSecondOfAudio: number;
  audioSeconds: number;
}

/** Silero v5 on every 32 ms frame of a WAV, state carried, model loaded once. */
export async function benchVad(wavPath: string, runs = 3): Promise<VadBenchResult> {
  const audio = await readWavForPipeline(wavPath);
  const vad = await loadSileroVad();
  const n = vad.frameSamples;
  const times: number[] = [];
  try {
    for (let r = 0; r <= runs; r++) {
      vad.reset();
      const t = performance.now();
      for (let i = 0; i + n <= audio.samples.length; i += n) await vad.process(audio.samples.slice(i, i + n));
      if (r > 0) times.push(performance.now() - t);
    }
  } finally {
    await vad.dispose();
  }
  const seconds = audio.samples.length / audio.sampleRate;
  return { msPerSecondOfAudio: median(times) / seconds, audioSeconds: seconds };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
