import { concatFloat32, type PcmChunk } from './pcm.js';
import type { AudioSink } from './audio-sink.js';

/** Silence between turns when they are joined into one stream, so replies do not run together. */
export const TURN_GAP_MS = 500;

/** Collects reply audio in memory, e.g. to write a WAV in file mode. Keeps one list of chunks per turn. */
export class WavCollectorSink implements AudioSink {
  private readonly turns: Float32Array[][] = [];
  private rate = 0;

  /** Starts a new turn's list; audio played before the first call goes to turn 0. */
  beginTurn(): void {
    this.turns.push([]);
  }

  async play(chunk: PcmChunk, signal: AbortSignal): Promise<number> {
    if (signal.aborted) return 0;
    if (this.rate !== 0 && chunk.sampleRate !== this.rate) {
      throw new Error(`WavCollectorSink got ${chunk.sampleRate} Hz audio after ${this.rate} Hz`);
    }
    this.rate = chunk.sampleRate;
    if (this.turns.length === 0) this.beginTurn();
    this.turns[this.turns.length - 1].push(chunk.samples);
    return chunk.samples.length;
  }

  get sampleRate(): number {
    return this.rate;
  }

  /** Each turn's audio, in order (empty turns included). */
  perTurn(): PcmChunk[] {
    return this.turns.map((t) => ({ samples: concatFloat32(t), sampleRate: this.rate }));
  }

  /** All turns in one stream, with `gapMs` of silence between turns (default TURN_GAP_MS). */
  joined(gapMs: number = TURN_GAP_MS): PcmChunk {
    const gap = new Float32Array(Math.round((gapMs / 1000) * this.rate));
    const parts: Float32Array[] = [];
    this.perTurn()
      .filter((t) => t.samples.length > 0)
      .forEach((t, i) => {
        if (i > 0) parts.push(gap);
        parts.push(t.samples);
      });
    return { samples: concatFloat32(parts), sampleRate: this.rate };
  }
}
