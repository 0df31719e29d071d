import type { AudioSink } from '../audio/audio-sink.js';
import type { PcmChunk } from '../audio/pcm.js';
import { abortableSleep } from '../util/abortable-sleep.js';
import type { Filler, FillerBank } from './filler-bank.js';
import type { LatencyMaskOptions } from './latency-mask-options.js';

/** Why the filler played: the reply was late, or a tool was running. */
export type MaskTrigger = 'late' | 'tool';

/** What a turn's filler did, for the turn's metrics. */
export interface MaskRecord {
  kind: Filler['kind'];
  /** The phrase (absent for the earcon). */
  text?: string;
  trigger: MaskTrigger;
  /** When it started, ms on the turn's clock (from the end of the user's speech). */
  startMs: number;
  /** How much of it was played, ms. */
  playedMs: number;
  /** True when the reply's audio cut it short. */
  cut: boolean;
}

export interface LatencyMaskEvents {
  /** The filler starts; `chunk` is its audio, for a host that plays audio itself. */
  start(record: MaskRecord, chunk: PcmChunk): void;
  end(record: MaskRecord): void;
}

/**
 * How far ahead of the listener a sink may have read a chunk, ms: a fade written beyond this is still heard.
 * The speaker sink reads 60 ms ahead in 10 ms blocks; the realtime sink one 20 ms block.
 */
const SINK_READ_AHEAD_MS = 80;

interface Playback {
  record: MaskRecord;
  chunk: PcmChunk;
  startedAt: number;
  stop: AbortController;
  done: Promise<void>;
}

/**
 * One turn's latency mask. It plays one filler (at most one per turn) when the reply's first audio is late or
 * a tool is running, through the same sink as the reply and never into the history. When the reply's audio is
 * ready the filler fades out; the turn's abort stops it at once.
 */
export class LatencyMask {
  private fired = false;
  private replyStarted = false;
  private lateTimer: NodeJS.Timeout | undefined;
  private toolTimer: NodeJS.Timeout | undefined;
  private playback: Playback | undefined;

  /**
   * @param clockMs the turn's clock: ms from the end of the user's speech
   */
  constructor(
    private readonly options: LatencyMaskOptions,
    private readonly fillers: FillerBank,
    private readonly sink: AudioSink | undefined,
    private readonly signal: AbortSignal,
    private readonly clockMs: () => number,
    private readonly events: LatencyMaskEvents,
  ) {}

  /** The filler plays after `delayMs` unless the reply's audio comes first. */
  arm(delayMs: number): void {
    if (this.options.mode === 'off') return;
    this.lateTimer = setTimeout(() => this.fire('late'), Math.max(0, delayMs));
  }

  /** A tool call started: the filler plays if it is still running after `toolMaskAfterMs`. */
  toolStarted(): void {
    if (this.options.mode === 'off' || this.fired || this.replyStarted || this.toolTimer) return;
    this.toolTimer = setTimeout(() => this.fire('tool'), this.options.toolMaskAfterMs);
  }

  toolEnded(): void {
    clearTimeout(this.toolTimer);
    this.toolTimer = undefined;
  }

  /** The reply's first audio is about to play: no filler starts from now on, and one that plays fades out. */
  async replyReady(): Promise<void> {
    this.replyStarted = true;
    this.clearTimers();
    const p = this.playback;
    if (!p) return;
    p.record.cut = await this.fadeOut(p);
    await p.done;
  }

  /** The turn is over: timers stop and a filler still playing stops at once. Returns what the mask did. */
  async close(): Promise<MaskRecord | undefined> {
    this.replyStarted = true;
    this.clearTimers();
    const p = this.playback;
    if (!p) return undefined;
    p.stop.abort();
    await p.done;
    return p.record;
  }

  private fire(trigger: MaskTrigger): void {
    if (this.fired || this.replyStarted || this.signal.aborted) return;
    this.fired = true;
    this.clearTimers();
    const filler = this.fillers.pick(this.options.mode === 'phrase' ? 'phrase' : 'earcon');
    // A copy: a fade-out rewrites the samples not yet played.
    const chunk: PcmChunk = { samples: filler.samples.slice(), sampleRate: filler.sampleRate };
    const record: MaskRecord = { kind: filler.kind, text: filler.text, trigger, startMs: this.clockMs(), playedMs: 0, cut: false };
    const stop = new AbortController();
    const signal = AbortSignal.any([this.signal, stop.signal]);
    this.events.start(record, chunk);
    const sink = this.sink;
    const played = sink ? sink.play(chunk, signal).catch(() => 0) : Promise.resolve(chunk.samples.length);
    const done = played.then((n) => {
      record.playedMs = Math.round((n / chunk.sampleRate) * 1000);
      this.events.end(record);
    });
    this.playback = { record, chunk, startedAt: performance.now(), stop, done };
  }

  /**
   * Fades the samples the sink has not read yet to silence, waits until the fade has been heard, then drops
   * the silent rest. Returns whether anything was cut.
   */
  private async fadeOut(p: Playback): Promise<boolean> {
    const { samples, sampleRate } = p.chunk;
    const elapsedMs = performance.now() - p.startedAt;
    const from = Math.round(((elapsedMs + SINK_READ_AHEAD_MS) * sampleRate) / 1000);
    if (from >= samples.length) return false;
    const fade = Math.max(1, Math.round((this.options.fadeMs * sampleRate) / 1000));
    for (let i = from; i < samples.length; i++) samples[i] *= i < from + fade ? 1 - (i - from) / fade : 0;
    await abortableSleep(SINK_READ_AHEAD_MS + this.options.fadeMs, p.stop.signal);
    p.stop.abort();
    return true;
  }

  private clearTimers(): void {
    clearTimeout(this.lateTimer);
    clearTimeout(this.toolTimer);
    this.lateTimer = this.toolTimer = undefined;
  }
}
