// Before the runtime loads: it must never write its telemetry (see no-telemetry.ts).
import '../util/no-telemetry.js';
import ort from 'onnxruntime-node';
import { fetchHint } from '../errors.js';
import { openOnnxSession } from '../util/onnx-session.js';
import { SerialRunner } from '../util/serial-runner.js';
import { WHISPER_N_MELS, whisperLogMel } from './log-mel.js';

/** Smart Turn v3 looks at the last 8 s of the turn at 16 kHz; shorter audio is padded with silence in front. */
export const SMART_TURN_SAMPLES = 8 * 16_000;
/** 8 s of 10 ms hops. */
export const SMART_TURN_FRAMES = SMART_TURN_SAMPLES / 160;
const INPUT = 'input_features';

/** A model that tells, from the audio of the user's turn so far, whether they have finished speaking. */
export interface TurnEndModel {
  /** Probability (0..1) that the turn is complete; `audio` is the utterance so far, mono 16 kHz. */
  predict(audio: Float32Array): Promise<number>;
  dispose(): Promise<void>;
}

export interface SmartTurnOptions {
  /** Smart Turn v3 ONNX file (pipecat-ai/smart-turn-v3, e.g. smart-turn-v3.2-cpu.onnx). Required. */
  modelPath: string;
  /** ONNX Runtime threads. Default: 1 — one 8 s window takes tens of ms, and the ears must not steal cores. */
  threads?: number;
}

/** The last 8 s of `audio`, or all of it after enough leading zeros to make 8 s (what Smart Turn was trained on). */
export function smartTurnWindow(audio: Float32Array): Float32Array {
  if (audio.length >= SMART_TURN_SAMPLES) return audio.slice(audio.length - SMART_TURN_SAMPLES);
  const out = new Float32Array(SMART_TURN_SAMPLES);
  out.set(audio, SMART_TURN_SAMPLES - audio.length);
  return out;
}

/** Smart Turn's input: whisper log-mel features of the normalised 8 s window, [1, 80, 800]. */
export function smartTurnFeatures(audio: Float32Array): Float32Array {
  return whisperLogMel(smartTurnWindow(audio), { normalize: true, nMels: WHISPER_N_MELS }).data;
}

/**
 * Loads Smart Turn v3 (pipecat-ai, BSD-2) into onnxruntime-node. The file is checked for the model's contract
 * (one float input `input_features` of 80 x 800 log-mel frames, one probability out) before it is used.
 */
export async function loadSmartTurn(options: SmartTurnOptions): Promise<TurnEndModel> {
  const { modelPath } = options;
  const fix = fetchHint('turn', 'smart-turn-v3');
  const session = await openOnnxSession(modelPath, {
    threads: options.threads ?? 1,
    inputs: [INPUT],
    optimize: true,
    messages: {
      missing: `turn model ${modelPath} not found; run: ${fix}`,
      corrupt: (problem) => `turn model ${modelPath} ${problem}; download it again: ${fix}`,
    },
  });
  const output = session.outputNames[0];
  const runner = new SerialRunner();
  let disposed = false;
  return {
    predict(audio) {
      if (disposed) return Promise.reject(new Error('the turn model was disposed'));
      return runner.run(async () => {
        const features = new ort.Tensor('float32', smartTurnFeatures(audio), [1, WHISPER_N_MELS, SMART_TURN_FRAMES]);
        const out = await session.run({ [INPUT]: features });
        const p = (out[output].data as Float32Array)[0];
        if (!Number.isFinite(p)) throw new Error(`turn model returned ${p}`);
        return Math.min(1, Math.max(0, p));
      });
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await runner.idle();
      await session.release();
    },
  };
}
