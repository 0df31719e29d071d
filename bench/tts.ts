/**
 * Text-to-speech speed: wall time to synthesize a short reply against the length of the audio it makes.
 * Run: `npx tsx bench/tts.ts [voiceDir]` (without a folder it generates the test voice under .cache/).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTestVoice } from '../test/fixtures/models/piper-voice.js';
import { loadPiperTts } from '../src/tts/piper-tts-engine.js';

export interface BenchTtsOptions {
  /** Voice folder to measure. Default: a generated test voice in `.cache/bench/piper-test-voice`. */
  voiceDir?: string;
  /** Text to speak each run. Default: three sentences of a typical assistant reply. */
  text?: string;
  /** onnxruntime threads. Default: the engine's own (`os.availableParallelism()`). */
  threads?: number;
  /** Timed runs after one warm-up; the median is reported. Default: 5. */
  runs?: number;
}

export interface BenchTtsResult {
  /** Synthesis time divided by audio duration (below 1 is faster than real time). */
  realTimeFactor: number;
  /** Median wall time of one synthesis, ms. */
  ms: number;
  /** Duration of the audio one synthesis makes, ms. */
  audioMs: number;
  /** Time to validate and load the voice, ms. */
  loadMs: number;
}

const DEFAULT_TEXT =
  'Sure, I can help with that. The train to the city leaves at a quarter past nine from platform two. ' +
  'Would you like me to remind you ten minutes before it departs?';

export async function benchTts(opts: BenchTtsOptions = {}): Promise<BenchTtsResult> {
  const voiceDir = opts.voiceDir ?? (await writeTestVoice({ dir: path.resolve('.cache/bench/piper-test-voice') })).dir;
  const text = opts.text ?? DEFAULT_TEXT;
  const runs = Math.max(1, opts.runs ?? 5);

  const loadStart = performance.now();
  const engine = await loadPiperTts({ voiceDir, threads: opts.threads });
  const loadMs = performance.now() - loadStart;
  try {
    const audio = await engine.synthesize(text);
    const audioMs = (audio.length / engine.sampleRate) * 1000;
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await engine.synthesize(text);
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(times.length / 2)];
    return { realTimeFactor: ms / audioMs, ms, audioMs, loadMs };
  } finally {
    await engine.dispose();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await benchTts({ voiceDir: process.argv[2] });
  console.log(
    `tts: load ${r.loadMs.toFixed(1)} ms, ${r.ms.toFixed(1)} ms for ${(r.audioMs / 1000).toFixed(2)} s of audio, ` +
      `real-time factor ${r.realTimeFactor.toFixed(4)}`,
  );
}
