import { abortableSleep } from '../util/abortable-sleep.js';
import type { AudioSink } from './audio-sink.js';
import { PauseGate } from './pause-gate.js';
import type { PcmChunk } from './pcm.js';

export interface RealtimeSinkOptions {
  /** Receives each block as it is due to play, e.g. to forward it to a browser or a socket. Default: none. */
  write?: (block: Float32Array, sampleRate: number) => void;
  /** Block length, ms: the granularity of pause and abort. Default: 20. */
  blockMs?: number;
  /** Delay from handing a block over to it being heard (the far end's buffer), reported to onPlayed. Default: 0. */
  latencyMs?: number;
  /**
   * How far ahead of real time blocks are handed over, ms: a far end behind a network keeps this much queued
   * against jitter. It must drop its queue itself on an interruption. Default: 0.
   */
  leadMs?: number;
}

/**
 * A sink that plays at the speed of real time without a sound card: each block is released when its time comes,
 * so replies take as long as they sound, and pause, resume and abort act within one block. It is what a host
 * that streams audio elsewhere (a browser, a phone line) uses, and what lets turn-taking run on pushed audio.
 */
export class RealtimeSink implements AudioSink {
  onPlayed?: (block: Float32Array, sampleRate: number, playedAt: number) => void;
  private readonly options: Required<RealtimeSinkOptions>;
  private readonly gate = new PauseGate();
  /** performance.now() at which the far end will have played everything handed over. */
  private farEndUntil = 0;
  /** performance.now() at which the far end will have sounded every block reported to onPlayed. */
  private heardUntil = 0;

  constructor(options: RealtimeSinkOptions = {}) {
    this.options = { write: () => {}, blockMs: 20, latencyMs: 0, leadMs: 0, ...options };
  }

  async play(chunk: PcmChunk, signal: AbortSignal): Promise<number> {
    const block = Math.max(1, Math.round((chunk.sampleRate * this.options.blockMs) / 1000));
    let played = 0;
    // `due` is when the next block starts to play at the far end: after whatever it still holds.
    let due = Math.max(performance.now(), this.farEndUntil);
    while (played < chunk.samples.length && !signal.aborted) {
      if (this.gate.paused) {
        const held = Math.max(0, due - performance.now());
        await this.gate.wait(signal);
        due = performance.now() + held;
        continue;
      }
      const piece = chunk.samples.subarray(played, Math.min(played + block, chunk.samples.length));
      this.options.write(piece, chunk.sampleRate);
      // Heard when its time comes, or now if this write is late (a busy machine), but never before the block
      // handed over before it: blocks written in a burst to catch up are heard one after another, as the far end
      // plays them. Reported at one moment, the echo gate's reference would pile them on the same instant.
      const heardAt = Math.max(due, performance.now(), this.heardUntil);
      this.heardUntil = heardAt + (piece.length / chunk.sampleRate) * 1000;
      this.onPlayed?.(piece, chunk.sampleRate, heardAt + this.options.latencyMs);
      played += piece.length;
      due += (piece.length / chunk.sampleRate) * 1000;
      this.farEndUntil = due;
      await abortableSleep(due - this.options.leadMs - performance.now(), signal);
    }
    if (!signal.aborted) return played;
    // Cut short: what was handed over ahead of real time was never heard (the far end drops it).
    const ahead = this.options.leadMs > 0 ? Math.max(0, due - performance.now()) : 0;
    this.farEndUntil = 0;
    this.heardUntil = 0;
    return Math.max(0, played - Math.round((ahead * chunk.sampleRate) / 1000));
  }

  pause(): void {
    this.gate.pause();
  }

  resume(): void {
    this.gate.resume();
  }
}
