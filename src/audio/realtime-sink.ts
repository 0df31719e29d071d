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
      // A write that comes late (a busy machine) finds the far end run dry: it plays from now, and what follows
      // plays after it, as a device does. Catching up in a burst would report blocks heard at the same moment,
      // and the echo canceller's reference would no longer be what the room heard.
      due = Math.max(due, performance.now());
      this.options.write(piece, chunk.sampleRate);
      this.onPlayed?.(piece, chunk.sampleRate, due + this.options.latencyMs);
      played += piece.length;
      due += (piece.length / chunk.sampleRate) * 1000;
      this.farEndUntil = due;
      await abortableSleep(due - this.options.leadMs - performance.now(), signal);
    }
    if (!signal.aborted) return played;
    // Cut short: what was handed over ahead of real time was never heard (the far end drops it).
    const ahead = this.options.leadMs > 0 ? Math.max(0, due - performance.now()) : 0;
    this.farEndUntil = 0;
    return Math.max(0, played - Math.round((ahead * chunk.sampleRate) / 1000));
  }

  pause(): void {
    this.gate.pause();
  }

  resume(): void {
    this.gate.resume();
  }
}
