/** Voice activity: one speech probability per fixed-size frame, with the model's state carried between frames. */
export interface VadEngine {
  /** Samples per frame at 16 kHz (Silero v5: 512 = 32 ms). */
  readonly frameSamples: number;
  /** Probability (0..1) that `frame` (exactly `frameSamples` long, 16 kHz float32) holds speech. */
  process(frame: Float32Array): Promise<number>;
  /** Forget the carried state (start of a new stream). */
  reset(): void;
  dispose(): Promise<void>;
}
