export interface SynthesizeOptions {
  /** Aborting stops synthesis as soon as the engine allows and rejects with an AbortError. */
  signal?: AbortSignal;
  /** Speaking rate; 1 is the voice's own. */
  speed?: number;
  /** Speaker id for multi-speaker voices. Default: 0. */
  speakerId?: number;
}

/** Text to speech. The voice is loaded once and reused. */
export interface TtsEngine {
  /** The rate of the audio `synthesize` returns (Piper voices: usually 22050 or 16000). */
  readonly sampleRate: number;
  /** Returns mono float32 audio at `sampleRate`. */
  synthesize(text: string, options?: SynthesizeOptions): Promise<Float32Array>;
  dispose(): Promise<void>;
}
