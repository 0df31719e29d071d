import type { ReplyCallbacks, ReplyResult } from '../reply/reply-pipeline.js';
import type { HeardUtterance } from '../turn/transcribe-utterance.js';
import type { Utterance } from '../turn/listener.js';
import type { PauseSnapshot } from '../turn/pause-checkpoints.js';
import { Turn, type PreparedReply } from './turn.js';

/** What a speculative turn needs from the agent: its ears' transcription and its reply pipeline. */
export interface SpeculationWork {
  transcribe(audio: Float32Array, signal: AbortSignal): Promise<HeardUtterance>;
  /**
   * Starts the reply to `transcript` with playback held until `playback` resolves, and text events sent to
   * `callbacks` (which hold them until the turn is promoted).
   */
  reply(transcript: string, turn: Turn, playback: Promise<void>, callbacks: ReplyCallbacks): Promise<ReplyResult>;
}

export type SpeculationState = 'running' | 'promoted' | 'dropped';

/**
 * A turn started during a pause of the user's utterance, before the turn has ended: the utterance so far is
 * transcribed and answered (LLM, first sentences through TTS) while nothing is played or emitted. When the turn
 * ends with no more speech it is promoted and plays at once; when the user speaks again it is dropped: its
 * Turn is aborted, none of it is heard or enters the history. A speculation that fails is dropped too, and the
 * turn then runs as if there had been none.
 */
export class Speculation {
  readonly turn: Turn;
  private stateNow: SpeculationState = 'running';
  private openPlayback!: () => void;
  private readonly playback = new Promise<void>((resolve) => (this.openPlayback = resolve));
  private readonly held: ((c: ReplyCallbacks) => void)[] = [];
  private target: ReplyCallbacks | undefined;
  private readonly outcome: Promise<{ heard: HeardUtterance; reply: Promise<ReplyResult> } | undefined>;

  constructor(
    readonly snapshot: PauseSnapshot & { endpointMs: number; declaredAt: number },
    work: SpeculationWork,
  ) {
    this.turn = new Turn({ kind: 'audio', ...snapshot, truncated: false }, undefined, { speculative: true });
    this.turn.begin();
    this.outcome = this.run(work).catch(() => undefined);
  }

  get state(): SpeculationState {
    return this.stateNow;
  }

  /** True when `u` is the utterance this speculation heard: same start, and no speech after the pause. */
  matches(u: Utterance): boolean {
    return this.stateNow === 'running' && u.startSample === this.snapshot.startSample && u.endSample === this.snapshot.endSample;
  }

  /**
   * The turn really ended as `u`: the turn keeps what was prepared (`turn.prepared`), with its endpoint moved
   * to the real one, and is returned to be run. `prepared` resolves undefined when the speculation failed or
   * heard no words: the turn then runs from its utterance as if there had been no speculation.
   */
  promote(u: Utterance): Turn {
    this.stateNow = 'promoted';
    this.turn.promote(u);
    this.turn.prepared = this.outcome.then((outcome): PreparedReply | undefined =>
      outcome
        ? {
            ...outcome,
            release: (callbacks) => {
              this.target = callbacks;
              for (const call of this.held.splice(0)) call(callbacks);
              this.openPlayback();
            },
          }
        : undefined,
    );
    return this.turn;
  }

  /** The user spoke again (or the turn went another way): everything the speculation started stops unheard. */
  drop(): void {
    if (this.stateNow === 'dropped') return;
    this.stateNow = 'dropped';
    this.turn.abort();
    this.turn.fail(new Error('speculation dropped'));
    this.held.length = 0;
    this.openPlayback();
  }

  private async run(work: SpeculationWork): Promise<{ heard: HeardUtterance; reply: Promise<ReplyResult> } | undefined> {
    const { turn } = this;
    const heard = await work.transcribe(this.snapshot.audio, turn.signal);
    turn.clock.compute.stt = heard.transcript.computeMs;
    turn.clock.mark('transcript');
    if (heard.words.length === 0 || turn.signal.aborted) return undefined;
    const reply = work.reply(heard.words, turn, this.playback, this.holdingCallbacks());
    // A dropped speculation's reply ends as an interruption; nobody waits for it.
    reply.catch(() => undefined);
    return { heard, reply };
  }

  /** Text events wait in order until promotion; audio events come only after playback opens. */
  private holdingCallbacks(): ReplyCallbacks {
    const forward =
      <A extends unknown[]>(pick: (c: ReplyCallbacks) => (...args: A) => void) =>
      (...args: A): void => {
        if (this.stateNow === 'dropped') return;
        if (this.target) pick(this.target)(...args);
        else this.held.push((c) => pick(c)(...args));
      };
    return {
      onDelta: forward((c) => c.onDelta),
      onSentence: forward((c) => c.onSentence),
      onAudio: forward((c) => c.onAudio),
      onSpeaking: forward((c) => c.onSpeaking),
    };
  }
}
