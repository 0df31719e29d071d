/**
 * Types for the part of sherpa-onnx-node's OfflineTts that earshot uses. The package ships JavaScript with JSDoc
 * only, so these are written from its non-streaming-tts.js and checked against version 1.13.8.
 */
import { createRequire } from 'node:module';

export interface SherpaVitsConfig {
  model: string;
  tokens: string;
  dataDir: string;
  noiseScale: number;
  noiseScaleW: number;
  lengthScale: number;
}

export interface SherpaOfflineTtsConfig {
  model: {
    vits: SherpaVitsConfig;
    numThreads: number;
    /** Truthy makes the native side print model details and every input text to stderr. */
    debug: boolean;
    provider: 'cpu';
  };
  /** Sentences per model run; 1 gives one progress callback (and one chance to stop) per sentence. */
  maxNumSentences: number;
}

export interface SherpaGeneratedAudio {
  samples: Float32Array;
  sampleRate: number;
}

export interface SherpaProgress {
  /** This batch's audio. */
  samples: Float32Array;
  /** Fraction of batches done, 0..1. */
  progress: number;
}

export interface SherpaGenerateRequest {
  text: string;
  sid: number;
  speed: number;
  /**
   * Runs on the JS thread after each batch of `maxNumSentences` sentences; returning 0 or false skips the
   * batches not yet run, and the promise still resolves, with the audio made so far. A batch in progress
   * always runs to its end.
   */
  onProgress?: (info: SherpaProgress) => number | boolean | void;
}

export interface SherpaOfflineTts {
  readonly sampleRate: number;
  readonly numSpeakers: number;
  generateAsync(request: SherpaGenerateRequest): Promise<SherpaGeneratedAudio>;
}

interface SherpaOnnxModule {
  OfflineTts: { createAsync(config: SherpaOfflineTtsConfig): Promise<SherpaOfflineTts> };
}

/** Loads a voice off the main thread. Only call this with files `checkPiperVoice` accepted. */
export function createSherpaOfflineTts(config: SherpaOfflineTtsConfig): Promise<SherpaOfflineTts> {
  const sherpa = createRequire(import.meta.url)('sherpa-onnx-node') as SherpaOnnxModule;
  return sherpa.OfflineTts.createAsync(config);
}
