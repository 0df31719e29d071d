import type { PcmChunk } from './pcm.js';

/**
 * Where reply audio goes: a speaker, a file, a network stream. The agent hands it one sentence at a time,
 * in order, and waits for each before the next.
 */
export interface AudioSink {
  /**
   * Plays `chunk` and resolves with the number of its samples that were heard once playback ends or
   * `signal` aborts (then promptly, with the count so far). A sink with no clock (a file) resolves at once
   * with the whole length.
   */
  play(chunk: PcmChunk, signal: AbortSignal): Promise<number>;
  /**
   * Holds playback where it is (a possible interruption is being checked); `play` stays pending meanwhile.
   * Sinks without a clock need not implement it.
   */
  pause?(): void;
  /** Continues after pause(). */
  resume?(): void;
  /**
   * Called with each block of audio at the moment it reaches the listener (device latency included), so the
   * agent can tell its own voice in the microphone from a person's. Optional.
   */
  onPlayed?: (block: Float32Array, sampleRate: number, playedAt: number) => void;
}
