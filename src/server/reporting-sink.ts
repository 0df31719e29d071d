import type { AudioSink } from '../audio/audio-sink.js';
import type { PcmChunk } from '../audio/pcm.js';
import { resample } from '../audio/resample.js';

export interface ReportingSinkHooks {
  /** A chunk is about to play, at `sampleRate` (after conversion), lasting `durationMs`. */
  started(chunk: PcmChunk, durationMs: number): void;
  /** The chunk stopped playing after `heardMs` of it. */
  ended(chunk: PcmChunk, heardMs: number, interrupted: boolean): void;
}

/**
 * Wraps the sink that paces audio to a client: converts each chunk to the rate the client plays at (a whole
 * sentence at once, so the converter never sees a block edge) and reports when each one starts and stops.
 */
export class ReportingSink implements AudioSink {
  /** Rate the client plays at; undefined keeps the voice's own rate. */
  outputRate: number | undefined;

  constructor(
    private readonly inner: AudioSink,
    private readonly hooks: ReportingSinkHooks,
  ) {}

  set onPlayed(callback: AudioSink['onPlayed']) {
    this.inner.onPlayed = callback;
  }

  get onPlayed(): AudioSink['onPlayed'] {
    return this.inner.onPlayed;
  }

  async play(chunk: PcmChunk, signal: AbortSignal): Promise<number> {
    const rate = this.outputRate ?? chunk.sampleRate;
    const converted: PcmChunk = { samples: await resample(chunk.samples, chunk.sampleRate, rate), sampleRate: rate };
    if (signal.aborted) return 0;
    this.hooks.started(chunk, (chunk.samples.length / chunk.sampleRate) * 1000);
    const heard = await this.inner.play(converted, signal);
    this.hooks.ended(chunk, (heard / rate) * 1000, heard < converted.samples.length);
    // The agent counts in the chunk it gave.
    return Math.min(chunk.samples.length, Math.round((heard * chunk.sampleRate) / rate));
  }

  pause(): void {
    this.inner.pause?.();
  }

  resume(): void {
    this.inner.resume?.();
  }
}
