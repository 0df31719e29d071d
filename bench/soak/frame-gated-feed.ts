import { setImmediate as nextTurnOfTheLoop } from 'node:timers/promises';
import type { Agent } from '../../src/agent/agent.js';
import { PIPELINE_SAMPLE_RATE } from '../../src/audio/pcm.js';
import type { VadEngine } from '../../src/vad/vad-engine.js';

/** The real VAD, counting the frames it has heard, so a feed can push the next one as soon as the last was heard. */
export class FrameCountingVad implements VadEngine {
  private heard = 0;
  private waiters: { at: number; wake: () => void }[] = [];

  constructor(private readonly vad: VadEngine) {}

  get frameSamples(): number {
    return this.vad.frameSamples;
  }

  get framesHeard(): number {
    return this.heard;
  }

  async process(frame: Float32Array): Promise<number> {
    try {
      return await this.vad.process(frame);
    } finally {
      this.heard++;
      this.waiters = this.waiters.filter((w) => (w.at <= this.heard ? (w.wake(), false) : true));
    }
  }

  /** Resolves once `count` frames have been heard in all, or rejects after `timeoutMs`. */
  until(count: number, timeoutMs: number): Promise<void> {
    if (this.heard >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.wake !== wake);
        reject(new Error(`the listener heard no frame for ${timeoutMs} ms`));
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ at: count, wake });
    });
  }

  reset(): void {
    this.vad.reset();
  }

  dispose(): Promise<void> {
    return this.vad.dispose();
  }
}

/**
 * A microphone faster than real time that still sounds live to the agent: one VAD frame is pushed, and the next
 * only once it has been heard, so no frame ever waits behind another. The agent's ears then treat every frame
 * as live — pauses start speculative turns, as they do on a real microphone — while a second of speech takes
 * only as long as the VAD needs for its 31 frames.
 */
export class FrameGatedFeed {
  constructor(
    private readonly agent: Agent,
    private readonly vad: FrameCountingVad,
  ) {}

  /** Pushes `samples` (16 kHz) then `silenceMs` of silence, frame by frame. */
  async say(samples: Float32Array, silenceMs = 0): Promise<void> {
    const n = this.vad.frameSamples;
    const total = samples.length + Math.round((silenceMs / 1000) * PIPELINE_SAMPLE_RATE);
    for (let at = 0; at < total; at += n) {
      const frame = new Float32Array(n);
      if (at < samples.length) frame.set(samples.subarray(at, Math.min(at + n, samples.length)));
      await this.push(frame);
    }
  }

  /** Pushes `ms` of silence. */
  silence(ms: number): Promise<void> {
    return this.say(new Float32Array(0), ms);
  }

  private async push(frame: Float32Array): Promise<void> {
    const target = this.vad.framesHeard + 1;
    this.agent.pushAudio(frame, PIPELINE_SAMPLE_RATE);
    await this.vad.until(target, 10_000);
    // The listener finishes the frame (endpointer, hooks) after the VAD answers: let it, before the next one.
    await nextTurnOfTheLoop();
  }
}
