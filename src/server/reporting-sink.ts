import type { AudioSink } from '../audio/audio-sink.js';
import type { PcmChunk } from '../audio/pcm.js';

export interface ReportingSinkHooks {
  /** A chunk is about to play, lasting `durationMs`. */
  started(chunk: PcmChunk, durationMs: number): void;
  /** The chunk stopped playing after `heardMs` of it. */
  ended(chunk: PcmChunk, heardMs: number, interrupted: boolean): void;
}

/** Wraps the sink that paces audio to a client and reports when each chunk (a sentence) starts and stops. */
export class ReportingSink implements AudioSink {
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
    if (signal.aborted) return 0;
    this.hooks.started(chunk, (chunk.samples.length / chunk.sampleRate) * 1000);
    const heard = await this.inner.play(chunk, signal);
    this.hooks.ended(chunk, (heard / chunk.sampleRate) * 1000, heard < chunk.samples.length);
    return heard;
  }

  pause(): void {
    this.inner.pause?.();
  }

  resume(): void {
    this.inner.resume?.();
  }
}
