import { concatFloat32 } from '../audio/pcm.js';
import { defaultEndpointingOptions, type EndpointingOptions } from './endpointing-options.js';
import { withDefaults } from '../util/with-defaults.js';

/** Positions are sample indices at 16 kHz in the stream the endpointer has been fed. */
export type EndpointEvent =
  | { type: 'speech-start'; startSample: number }
  | {
      type: 'speech-end';
      startSample: number;
      endSample: number;
      /** The utterance: pre-roll, speech, and the trailing silence frames up to the turn decision. */
      audio: Float32Array;
      /** True when the turn was cut at maxUtteranceMs rather than ended by silence. */
      truncated: boolean;
    };

type State = 'silence' | 'onset' | 'speech';

/** The utterance still being spoken: where it starts, how far it has been heard, and its audio so far. */
export interface OpenUtterance {
  startSample: number;
  endSample: number;
  /** Pre-roll and every frame since (copied on each call). */
  audio(): Float32Array;
}

/**
 * Turns a stream of (frame, speech probability) into utterances. Pure logic over sample counts, so it is
 * deterministic and behaves the same on a file and on a live microphone.
 */
export class Endpointer {
  private readonly options: EndpointingOptions;
  private readonly sampleRate: number;
  private state: State = 'silence';
  private position = 0;
  private preRoll: Float32Array[] = [];
  private preRollSamples = 0;
  private frames: Float32Array[] = [];
  private startSample = 0;
  private speechSamples = 0;
  private lastSpeechEnd = 0;
  /** The open utterance's own end-of-turn silence, when a turn-end model has set one. */
  private endSilenceOverride: number | undefined;

  constructor(options: Partial<EndpointingOptions> = {}, sampleRate = 16_000) {
    this.options = withDefaults(defaultEndpointingOptions, options);
    this.sampleRate = sampleRate;
  }

  /** True while a user turn is open (after speech-start, before speech-end). */
  get inSpeech(): boolean {
    return this.state === 'speech';
  }

  /** End of the last frame that held speech in the open utterance (sample index). */
  get lastSpeechSample(): number {
    return this.lastSpeechEnd;
  }

  /** Samples fed so far. */
  get samplePosition(): number {
    return this.position;
  }

  /** Silence since the open utterance's last speech, ms (0 outside an utterance). */
  get silentMs(): number {
    return this.state === 'speech' ? this.ms(this.position - this.lastSpeechEnd) : 0;
  }

  /**
   * The silence that ends the open utterance, in place of `endSilenceMs`, until it ends (a turn-end model
   * waits longer for a speaker who is not done). `undefined` returns to the rule.
   */
  setEndSilence(ms: number | undefined): void {
    this.endSilenceOverride = ms;
  }

  /** Ends the open utterance here (a turn-end model judged it complete); nothing when none is open. */
  endNow(): EndpointEvent[] {
    if (this.state !== 'speech') return [];
    return [this.close(false)];
  }

  /** The open utterance, or undefined between utterances. */
  get openUtterance(): OpenUtterance | undefined {
    if (this.state !== 'speech') return undefined;
    const frames = this.frames;
    return { startSample: this.startSample, endSample: this.position, audio: () => concatFloat32(frames) };
  }

  /** `minSpeechMs` overrides the option for this frame (a reply is playing: a shorter word is a barge-in). */
  push(frame: Float32Array, probability: number, minSpeechMs = this.options.minSpeechMs): EndpointEvent[] {
    const events: EndpointEvent[] = [];
    const frameStart = this.position;
    const frameEnd = frameStart + frame.length;
    this.position = frameEnd;
    const o = this.options;

    if (this.state === 'silence') {
      if (probability >= o.speechThreshold) {
        this.state = 'onset';
        this.startSample = frameStart;
        this.frames = [...this.preRoll, frame];
        this.speechSamples = frame.length;
        this.lastSpeechEnd = frameEnd;
      } else {
        this.keepPreRoll(frame);
      }
    } else {
      this.frames.push(frame);
      if (probability >= o.silenceThreshold) {
        this.speechSamples += frame.length;
        this.lastSpeechEnd = frameEnd;
      }
    }

    if (this.state === 'onset') {
      if (this.ms(this.speechSamples) >= minSpeechMs) {
        this.state = 'speech';
        events.push({ type: 'speech-start', startSample: this.startSample });
      } else if (this.ms(frameEnd - this.lastSpeechEnd) >= o.endSilenceMs / 2) {
        // A blip too short to be a turn: forget it, but keep its tail as pre-roll for a real onset.
        this.state = 'silence';
        this.preRoll = [];
        this.preRollSamples = 0;
        for (const f of this.frames.slice(-this.maxPreRollFrames(frame.length))) this.keepPreRoll(f);
        this.frames = [];
      }
    } else if (this.state === 'speech') {
      const silentMs = this.ms(frameEnd - this.lastSpeechEnd);
      // Only speech that goes on past the limit is cut; speech that stopped before it ends by silence as usual.
      const stillSpeaking = this.lastSpeechEnd === frameEnd;
      const tooLong = stillSpeaking && this.ms(frameEnd - this.startSample) >= o.maxUtteranceMs;
      const endSilence = this.endSilenceOverride ?? o.endSilenceMs;
      if (silentMs >= endSilence || tooLong) events.push(this.close(silentMs < endSilence));
    }
    return events;
  }

  private close(truncated: boolean): EndpointEvent {
    const event: EndpointEvent = {
      type: 'speech-end',
      startSample: this.startSample,
      endSample: this.lastSpeechEnd,
      audio: concatFloat32(this.frames),
      truncated,
    };
    this.state = 'silence';
    this.frames = [];
    this.preRoll = [];
    this.preRollSamples = 0;
    this.endSilenceOverride = undefined;
    return event;
  }

  /** The open utterance so far (pre-roll, speech and the silence after it); empty outside an utterance. */
  utteranceSoFar(): Float32Array {
    return this.state === 'speech' ? concatFloat32(this.frames) : new Float32Array(0);
  }

  /** Stream position where the open utterance started. */
  get utteranceStartSample(): number {
    return this.startSample;
  }

  /** Drops any open turn (used when the input stream restarts). */
  reset(): void {
    this.state = 'silence';
    this.endSilenceOverride = undefined;
    this.frames = [];
    this.preRoll = [];
    this.preRollSamples = 0;
  }

  private keepPreRoll(frame: Float32Array): void {
    this.preRoll.push(frame);
    this.preRollSamples += frame.length;
    const max = (this.options.preRollMs / 1000) * this.sampleRate;
    while (this.preRoll.length > 0 && this.preRollSamples - this.preRoll[0].length >= max) {
      this.preRollSamples -= this.preRoll.shift()!.length;
    }
  }

  private maxPreRollFrames(frameLength: number): number {
    return Math.ceil(((this.options.preRollMs / 1000) * this.sampleRate) / frameLength);
  }

  private ms(samples: number): number {
    return (samples / this.sampleRate) * 1000;
  }
}
