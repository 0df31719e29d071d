import { readWavForPipeline } from '../src/audio/wav.js';
import { loadWhisperEngine } from '../src/stt/whisper-engine.js';
import { median } from './stt.js';

export interface PartialSttResult {
  audioSeconds: number;
  /** A partial transcript: the encoder window cut to the audio (whisper.cpp audio_ctx). */
  shortWindowMs: number;
  /** The reference, what a final transcript costs: the whole 30 s window. */
  wholeWindowMs: number;
}

/**
 * What a partial transcript costs against a full transcription of the same audio, same engine, same run:
 * the first `seconds` of the clip, alternated, median of `runs` each.
 */
export async function benchPartialStt(opts: { modelPath: string; wavPath: string; seconds: number[]; runs?: number }): Promise<PartialSttResult[]> {
  const clip = (await readWavForPipeline(opts.wavPath)).samples;
  const engine = await loadWhisperEngine({ modelPath: opts.modelPath });
  try {
    const results: PartialSttResult[] = [];
    for (const seconds of opts.seconds) {
      const audio = clip.subarray(0, Math.round(seconds * 16_000));
      const short: number[] = [];
      const whole: number[] = [];
      for (let i = 0; i < (opts.runs ?? 3); i++) {
        short.push((await engine.transcribe(audio, { shortWindow: true })).computeMs);
        whole.push((await engine.transcribe(audio)).computeMs);
      }
      results.push({ audioSeconds: seconds, shortWindowMs: median(short), wholeWindowMs: median(whole) });
    }
    return results;
  } finally {
    await engine.dispose();
  }
}
