import { PIPELINE_SAMPLE_RATE } from '../audio/pcm.js';
import { createStreamResampler, type StreamResampler } from '../audio/resample.js';
import { EchoCanceller } from './echo-canceller.js';
import type { EchoCancellerOptions } from './echo-canceller-options.js';
import { EchoGate, type EchoRemoval } from './echo-gate.js';
import type { DuplexMode, EchoGateOptions } from './echo-gate-options.js';
import { Endpointer, type OpenUtterance } from './endpointer.js';
import { defaultEndpointingOptions, type EndpointingOptions } from './endpointing-options.js';
import { withDefaults } from '../util/with-defaults.js';
import type { VadEngine } from '../vad/vad-engine.js';
import { SerialRunner } from '../util/serial-runner.js';
import { PauseCheckpoints, type PauseSnapshot } from './pause-checkpoints.js';
import { defaultTurnEndOptions, type TurnEndOptions } from './turn-end-options.js';
import type { TurnEndModel } from './turn-end-model.js';
import { LagMeter } from './lag-meter.js';

/** An utterance, with where it sits in the input stream and when its end was declared. */
export interface Utterance {
  audio: Float32Array;
  startSample: number;
  endSample: number;
  /** End of speech to the endpoint decision: the silence waited plus the processing delay, ms. */
  endpointMs: number;
  /** performance.now() of the decision. */
  declaredAt: number;
  /** Cut at the maximum utterance length rather than ended by silence. */
  truncated: boolean;
}

export interface ListenerHooks {
  /** User speech began at `startSample` of the stream. */
  speechStart(startSample: number): void;
  /** A user utterance ended. */
  utterance(u: Utterance): void;
  /** A frame was heard (state may have changed). */
  frame(): void;
  /** True while a reply is being played, so the microphone may carry earshot's own voice. */
  replyAudible(): boolean;
  /** Each 16 kHz frame as it came in and as the VAD heard it (earshot's own voice taken out), e.g. to meter echo cancellation. */
  heard?(raw: Float32Array, cleaned: Float32Array): void;
  /** A pause in the open utterance reached `pauseAfterMs`; `declaredAt` is performance.now(). */
  pause?(p: PauseSnapshot & { declaredAt: number; endpointMs: number }): void;
  /** Speech came back after a reported pause. */
  resumed?(): void;
}

export interface ListenerOptions {
  endpointing?: Partial<EndpointingOptions>;
  duplex: DuplexMode;
  echoGate?: Partial<EchoGateOptions>;
  echoCanceller?: Partial<EchoCancellerOptions>;
  /** While a reply is playing, speech this long opens an utterance (a barge-in); otherwise the endpointing's. */
  bargeInMinSpeechMs?: number;
  /** Silence inside an utterance at which `hooks.pause` is called, ms. Default: never. */
  pauseAfterMs?: number;
  turnEnd?: Partial<TurnEndOptions>;
  /** The turn-end model the 'smart-turn' mode asks. Default: none (the silence rule decides). */
  turnEndModel?: TurnEndModel;
}

export const samplesToMs = (samples: number) => (samples / PIPELINE_SAMPLE_RATE) * 1000;

/**
 * The agent's ears: microphone audio of any rate and block size becomes 32 ms frames at 16 kHz; while earshot
 * speaks, the echo gate (or half duplex) takes its own voice out; Silero and the endpointer turn what is left
 * into speech onsets and utterances. Frames are processed strictly in order.
 */
export class Listener {
  private readonly endpointing: EndpointingOptions;
  private readonly endpointer: Endpointer;
  /** Takes earshot's own voice out of the microphone: the adaptive canceller ('aec') or the gate ('gate'). */
  private readonly echo: EchoRemoval;
  private readonly checkpoints: PauseCheckpoints;
  /** Each frame's delay behind the microphone: from its last sample's arrival to the end of its processing. */
  readonly lag = new LagMeter();
  /** Frames are heard strictly in order, one at a time: the VAD and the endpointer carry state. */
  private readonly frames = new SerialRunner();
  private carry = new Float32Array(0);
  private inputResamplers = new Map<number, Promise<StreamResampler>>();
  private playedResamplers = new Map<number, Promise<StreamResampler>>();
  private stopped = false;
  /** Blocks pushed and not yet heard: more than one means the ears are working through a backlog (a file). */
  private queuedBlocks = 0;

  constructor(
    private readonly vad: VadEngine,
    private readonly options: ListenerOptions,
    private readonly hooks: ListenerHooks,
    private readonly onError: (e: Error) => void,
  ) {
    this.endpointing = withDefaults(defaultEndpointingOptions, options.endpointing);
    this.endpointer = new Endpointer(this.endpointing);
    this.echo = options.duplex === 'aec' ? new EchoCanceller(options.echoCanceller) : new EchoGate(options.echoGate);
    this.checkpoints = new PauseCheckpoints(
      { pauseAfterMs: options.pauseAfterMs, turnEnd: withDefaults(defaultTurnEndOptions, options.turnEnd) },
      options.turnEndModel,
      (e) => this.onError(new Error(`the turn model failed (${e.message}); this pause ends by silence`, { cause: e })),
    );
  }

  /** True while a user utterance is open. */
  get inSpeech(): boolean {
    return this.endpointer.inSpeech;
  }

  /** The utterance being spoken, for partial transcripts; undefined between utterances. */
  get openUtterance(): OpenUtterance | undefined {
    return this.endpointer.openUtterance;
  }

  /** Stream time of the end of the open utterance's last speech, ms. */
  get lastSpeechMs(): number {
    return samplesToMs(this.endpointer.lastSpeechSample);
  }

  /** Queues microphone audio (mono float32 at `sampleRate`) that arrived at `arrivedAt` (performance.now()). */
  push(block: Float32Array, sampleRate: number, arrivedAt: number): void {
    this.stopped = false;
    this.queuedBlocks++;
    this.frames
      .run(() => this.consume(block, sampleRate, arrivedAt))
      .catch((e: unknown) => this.onError(e as Error))
      .finally(() => this.queuedBlocks--);
  }

  /** Reply audio as it reached the listener: the echo gate's reference. */
  played(samples: Float32Array, sampleRate: number, playedAt: number): void {
    let r = this.playedResamplers.get(sampleRate);
    if (!r) this.playedResamplers.set(sampleRate, (r = createStreamResampler(sampleRate, PIPELINE_SAMPLE_RATE)));
    void r.then((resampler) => this.echo.addPlayed(resampler.push(samples), playedAt));
  }

  /** Waits for every queued block, then closes an open utterance as if silence followed. */
  async flush(): Promise<void> {
    await this.frames.idle();
    if (!this.endpointer.inSpeech) return;
    const silence = new Float32Array(this.vad.frameSamples);
    const endSilence = this.endpointing.endSilenceMs;
    for (let t = 0; t <= endSilence + 64 && this.endpointer.inSpeech; t += samplesToMs(silence.length)) {
      await this.hear(silence, performance.now(), false);
    }
  }

  /** Drops queued audio and any open utterance; the VAD starts a fresh stream. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.frames.idle();
    this.endpointer.reset();
    this.carry = new Float32Array(0);
    this.vad.reset();
  }

  /**
   * Drops the utterance being heard, if any (its audio and the pre-roll), after the frames already queued;
   * listening goes on.
   */
  forget(): Promise<void> {
    return this.frames.run(async () => {
      this.endpointer.reset();
      this.vad.reset();
    });
  }

  async close(): Promise<void> {
    await this.stop();
    for (const r of [...this.inputResamplers.values(), ...this.playedResamplers.values()]) (await r).close();
  }

  private async consume(block: Float32Array, sampleRate: number, arrivedAt: number): Promise<void> {
    let pcm = block;
    if (sampleRate !== PIPELINE_SAMPLE_RATE) {
      let r = this.inputResamplers.get(sampleRate);
      if (!r) this.inputResamplers.set(sampleRate, (r = createStreamResampler(sampleRate, PIPELINE_SAMPLE_RATE)));
      pcm = (await r).push(block);
    }
    const n = this.vad.frameSamples;
    const joined = new Float32Array(this.carry.length + pcm.length);
    joined.set(this.carry);
    joined.set(pcm, this.carry.length);
    let offset = 0;
    for (; offset + n <= joined.length; offset += n) {
      if (this.stopped) return;
      // The block's last sample arrived at arrivedAt; earlier frames of it arrived correspondingly earlier.
      const endAt = arrivedAt - samplesToMs(joined.length - offset - n);
      // Live: the newest audio, nothing queued behind it, heard within two frames of its arrival.
      const newest = this.queuedBlocks <= 1 && joined.length - offset - n < 2 * n;
      const live = newest && Math.max(endAt, performance.now()) - endAt < 2 * samplesToMs(n);
      await this.hear(joined.slice(offset, offset + n), endAt, live);
    }
    this.carry = joined.slice(offset);
  }

  /** `live`: the frame is heard as it arrives, not from a backlog (see PauseCheckpoints.afterFrame). */
  private async hear(raw: Float32Array, endAt: number, live: boolean): Promise<void> {
    // In real time a frame is processed as it arrives; fed from a file, frames queue up, and that backlog
    // is not latency a live user would feel — so the lag counts from when this frame's turn came.
    const startedAt = Math.max(endAt, performance.now());
    let frame = raw;
    let userPossible = true;
    const duplex = this.options.duplex;
    const ownVoiceAudible = this.hooks.replyAudible() || this.echo.isActive(endAt, raw.length);
    if (ownVoiceAudible && duplex === 'half') {
      userPossible = false;
    } else if (duplex === 'aec' || (ownVoiceAudible && duplex === 'gate')) {
      // The canceller hears every frame: it keeps the microphone's clock and the room it has learnt.
      const { residual, userLikely } = this.echo.cancel(raw, endAt);
      frame = residual;
      userPossible = userLikely;
    }
    this.hooks.heard?.(raw, frame);
    const p = await this.vad.process(frame);
    const minSpeechMs = this.hooks.replyAudible() ? this.options.bargeInMinSpeechMs : undefined;
    const events = this.endpointer.push(frame, userPossible ? p : 0, minSpeechMs);
    for (const c of await this.checkpoints.afterFrame(this.endpointer, live)) {
      if (c.type === 'complete') events.push(...this.endpointer.endNow());
      else if (c.type === 'resumed') this.hooks.resumed?.();
      else {
        const declaredAt = performance.now();
        this.hooks.pause?.({ ...c.snapshot, declaredAt, endpointMs: c.snapshot.silentMs + (declaredAt - startedAt) });
      }
    }
    for (const e of events) {
      if (e.type === 'speech-start') {
        this.hooks.speechStart(e.startSample);
        continue;
      }
      const declaredAt = performance.now();
      this.hooks.utterance({
        audio: e.audio,
        startSample: e.startSample,
        endSample: e.endSample,
        endpointMs: samplesToMs(this.endpointer.samplePosition - e.endSample) + (declaredAt - startedAt),
        declaredAt,
        truncated: e.truncated,
      });
    }
    this.hooks.frame();
    this.lag.record(performance.now() - endAt);
  }
}
