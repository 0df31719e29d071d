import type { AudioSink } from '../../src/audio/audio-sink.js';
import type { PcmChunk } from '../../src/audio/pcm.js';
import { RealtimeSink } from '../../src/audio/realtime-sink.js';

/**
 * Reply audio for the soak: taken at once (no clock) so turns run as fast as the engines, except while `paced`,
 * when it plays in real time like a speaker, so that speech pushed over a reply finds the reply still playing.
 */
export class SoakSink implements AudioSink {
  paced = false;
  onPlayed?: (block: Float32Array, sampleRate: number, playedAt: number) => void;
  private readonly realtime = new RealtimeSink();

  play(chunk: PcmChunk, signal: AbortSignal): Promise<number> {
    if (!this.paced) return Promise.resolve(signal.aborted ? 0 : chunk.samples.length);
    this.realtime.onPlayed = this.onPlayed;
    return this.realtime.play(chunk, signal);
  }

  pause(): void {
    this.realtime.pause();
  }

  resume(): void {
    this.realtime.resume();
  }
}
