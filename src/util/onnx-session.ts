import { stat } from 'node:fs/promises';
// Before the runtime loads: it must never write its telemetry (see no-telemetry.ts).
import './no-telemetry.js';
import ort from 'onnxruntime-node';
import { EarshotError, firstLine } from '../errors.js';

/** What the user is told, per failure, about one kind of ONNX model (each line says how to fix it). */
export interface OnnxModelMessages {
  missing: string;
  /** `problem` says what is wrong: "could not be loaded (ONNX Runtime's first line)" or "has no input ...". */
  corrupt(problem: string): string;
}

/**
 * Opens a small ONNX model for sequential single-stream inference: checks the file exists, loads it, and checks
 * the inputs the caller feeds are there, so a wrong file is one EarshotError line rather than a failure later.
 */
export async function openOnnxSession(
  modelPath: string,
  options: { threads: number; inputs: readonly string[]; optimize?: boolean; messages: OnnxModelMessages },
): Promise<ort.InferenceSession> {
  const info = await stat(modelPath).catch(() => undefined);
  if (!info?.isFile()) throw new EarshotError('MODEL_MISSING', options.messages.missing);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelPath, {
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      ...(options.optimize ? { graphOptimizationLevel: 'all' as const } : {}),
      logSeverityLevel: 3,
    });
  } catch (e) {
    throw new EarshotError('MODEL_CORRUPT', options.messages.corrupt(`could not be loaded (${firstLine(e)})`));
  }
  const absent = options.inputs.find((name) => !session.inputNames.includes(name));
  if (absent !== undefined || session.outputNames.length === 0) {
    await session.release();
    throw new EarshotError('MODEL_CORRUPT', options.messages.corrupt(absent !== undefined ? `has no input "${absent}"` : 'has no output'));
  }
  return session;
}
