import { createStreamResampler, type StreamResampler } from '../../src/audio/resample.js';
import type { Agent } from '../../src/agent/agent.js';

const RATE = 16_000;
const BLOCK = 512;
const BLOCK_MS = (BLOCK / RATE) * 1000;

export interface EchoPath {
  /** Delay from the sink playing a sample to it reaching the microphone, ms. */
  delayMs: number;
  /** Linear gain of the echo (0.5 = -6 dB). */
  gain: number;
}

/**
 * A microphone in real time for an agent: 32 ms blocks pushed every 32 ms, carrying whatever speech the test
 * schedules, plus — optionally — the agent's own played audio coming back after a delay, as open speakers do.
 */
export class LiveFeed {
  private readonly agent: Agent;
  private readonly echo: EchoPath | undefined;
  private readonly t0 = performance.now();
  private played = new Float32Array(RATE * 120);
  private speech: { at: number; samples: Float32Array }[] = [];
  private resampler: Promise<StreamResampler> | undefined;
  private resamplerRate = 0;
  private pushedSamples = 0;
  /** Where the speaker's next sample plays (16 kHz slots of feed time): it plays what it gets in order, never two at once. */
  private playHead = 0;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(agent: Agent, echo?: EchoPath) {
    this.agent = agent;
    this.echo = echo;
  }

  /** What the sink plays (its `write` option): kept on the timeline for the echo path. */
  readonly onSinkWrite = (block: Float32Array, rate: number): void => {
    const at = performance.now() - this.t0;
    if (!this.resampler || rate !== this.resamplerRate) {
      this.resamplerRate = rate;
      this.resampler = createStreamResampler(rate, RATE);
    }
    void this.resampler.then((r) => {
      const pcm = r.push(block);
      const start = Math.max(Math.round((at / 1000) * RATE), this.playHead);
      this.playHead = start + pcm.length;
      for (let i = 0; i < pcm.length && start + i < this.played.length; i++) this.played[start + i] += pcm[i];
    });
  };

  /** Speech to put on the microphone, starting `inMs` from now. */
  say(samples: Float32Array, inMs = 0): void {
    this.speech.push({ at: Math.round(((performance.now() - this.t0 + inMs) / 1000) * RATE), samples });
  }

  /** Ms of feed time now. */
  now(): number {
    return performance.now() - this.t0;
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Waits until every scheduled piece of speech has been pushed, then `tailMs` more. */
  async drain(tailMs: number): Promise<void> {
    const end = Math.max(0, ...this.speech.map((s) => s.at + s.samples.length)) + (tailMs / 1000) * RATE;
    while (this.running && this.pushedSamples < end) await sleep(BLOCK_MS);
  }

  private async run(): Promise<void> {
    let due = performance.now();
    while (this.running) {
      const block = new Float32Array(BLOCK);
      const start = this.pushedSamples;
      for (const s of this.speech) {
        for (let i = 0; i < BLOCK; i++) {
          const k = start + i - s.at;
          if (k >= 0 && k < s.samples.length) block[i] += s.samples[k];
        }
      }
      if (this.echo) {
        const lag = Math.round((this.echo.delayMs / 1000) * RATE);
        for (let i = 0; i < BLOCK; i++) {
          const k = start + i - lag;
          if (k >= 0 && k < this.played.length) block[i] += this.echo.gain * this.played[k];
        }
      }
      this.pushedSamples += BLOCK;
      due += BLOCK_MS;
      await sleep(due - performance.now());
      this.agent.pushAudio(block, RATE);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
