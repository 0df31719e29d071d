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

export interface EchoVadBenchResult {
  /** VAD alone on the microphone while earshot speaks, ms per second of audio: the reference. */
  vadMsPerSecond: number;
  /** Echo removal plus VAD on what is left, ms per second of audio. */
  totalMsPerSecond: number;
  /** Share of one core that takes in real time. */
  coreShare: number;
}

/**
 * The microphone's cost while earshot speaks with open speakers: every 32 ms frame goes through the echo
 * gate or the echo canceller (its own voice removed) and then Silero. The played audio is the clip itself,
 * heard back 60 ms later at -6 dB, reported to the remover in 10 ms blocks as a sink does.
 */
export async function benchEchoVad(wavPath: string, mode: 'gate' | 'aec'): Promise<EchoVadBenchResult> {
  const { EchoGate } = await import('../src/turn/echo-gate.js');
  const { EchoCanceller } = await import('../src/turn/echo-canceller.js');
  const audio = await readWavForPipeline(wavPath);
  const x = audio.samples;
  const vad = await loadSileroVad();
  const n = vad.frameSamples;
  const delay = 960;
  const frames: Float32Array[] = [];
  for (let i = n; i + n <= x.length; i += n) {
    const f = new Float32Array(n);
    for (let j = 0; j < n; j++) f[j] = 0.5 * (x[i + j - delay] ?? 0);
    frames.push(f);
  }
  try {
    let t = performance.now();
    for (const f of frames) await vad.process(f);
    const vadMs = performance.now() - t;
    vad.reset();
    const remover = mode === 'gate' ? new EchoGate() : new EchoCanceller();
    const t0 = 1000;
    let reported = 0;
    t = performance.now();
    for (let k = 0; k < frames.length; k++) {
      const end = (k + 2) * n;
      for (; reported < end; reported += 160) remover.addPlayed(x.subarray(reported, reported + 160), t0 + reported / 16);
      const { residual } = remover.cancel(frames[k], t0 + end / 16);
      await vad.process(residual);
    }
    const totalMs = performance.now() - t;
    const seconds = (frames.length * n) / 16000;
    return { vadMsPerSecond: vadMs / seconds, totalMsPerSecond: totalMs / seconds, coreShare: totalMs / seconds / 1000 };
  } finally {
    await vad.dispose();
  }
}
