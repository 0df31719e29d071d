import type { AudioSink } from '../audio/audio-sink.js';
import { int16ToFloat32, PIPELINE_SAMPLE_RATE, rms } from '../audio/pcm.js';
import { abortError, EarshotError } from '../errors.js';
import type { ChatTurn, LlmEngine } from '../llm/llm-engine.js';
import type { SttEngine } from '../stt/stt-engine.js';
import type { TtsEngine } from '../tts/tts-engine.js';
import type { VadEngine } from '../vad/vad-engine.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { DEFAULT_SYSTEM_PROMPT, type AgentEngines, type AgentOptions } from './agent-options.js';
import { BargeIn } from '../turn/barge-in.js';
import { ConversationHistory } from './conversation-history.js';
import type { AgentEvents, AgentState, TurnResult } from './events.js';
import { defaultInterruptionOptions, type InterruptionOptions } from '../turn/interruption-options.js';
import { Listener, samplesToMs as ms, type Utterance } from '../turn/listener.js';
import { streamReply } from '../reply/reply-pipeline.js';
import { meaningfulText } from '../turn/transcript-filter.js';
import { TurnClock } from './turn-metrics.js';

type PendingTurn =
  | ({ kind: 'audio' } & Utterance)
  | ({ kind: 'heard'; text: string; sttMs: number; transcribedAt: number } & Utterance)
  | { kind: 'text'; text: string; settle?: Settle }
  | { kind: 'say'; text: string; settle: Settle };

interface Settle {
  resolve(result: TurnResult): void;
  reject(error: unknown): void;
}

/**
 * One conversation: owns the turn state, the history, and the AbortController of the turn in progress.
 * Audio comes in through pushAudio() (any rate, any block size), text through sendText(); replies go out as
 * 'audio' events and, when a sink is set, to the sink. Speech over a reply is handled by BargeIn; with open
 * speakers, EchoGate keeps earshot's own voice from counting as the user's.
 */
export class Agent extends TypedEmitter<AgentEvents> {
  private readonly vad: VadEngine;
  private readonly stt: SttEngine;
  private readonly llm: LlmEngine;
  private readonly tts: TtsEngine;
  private readonly sink: AudioSink | undefined;
  private readonly options: AgentOptions;
  private readonly interruption: InterruptionOptions;
  private readonly ownedEngines: readonly (keyof AgentEngines)[];
  private readonly listener: Listener;
  private readonly conversation: ConversationHistory;
  private readonly bargeIn: BargeIn;

  private currentState: AgentState = 'idle';
  private started = false;
  private closed = false;
  private turnCounter = 0;
  private queue: PendingTurn[] = [];
  private turnRunning = false;
  private replyAudible = false;
  private currentTurn: AbortController | undefined;
  /** The question of a reply cut before any of it was heard: the user's next words continue it. */
  private unansweredQuestion: string | undefined;
  private loopWake: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private decisions = new Set<Promise<void>>();

  /** @param ownedEngines the engines this agent loaded and so frees on close() */
  constructor(engines: Required<AgentEngines>, options: AgentOptions, ownedEngines: readonly (keyof AgentEngines)[] = []) {
    super();
    this.vad = engines.vad;
    this.stt = engines.stt;
    this.llm = engines.llm;
    this.tts = engines.tts;
    this.sink = options.sink;
    this.options = options;
    this.ownedEngines = ownedEngines;
    this.interruption = { ...defaultInterruptionOptions, ...options.interruption };
    this.listener = new Listener(
      this.vad,
      { endpointing: options.endpointing, duplex: this.interruption.duplex, echoGate: options.echoGate },
      {
        speechStart: (startSample) => this.onSpeechStart(startSample),
        utterance: (u) => this.onUtterance(u),
        frame: () => this.onFrame(),
        replyAudible: () => this.replyAudible,
      },
      (error) => this.emit('error', { error }),
    );
    this.conversation = new ConversationHistory(options.maxHistoryMessages ?? 40);
    this.bargeIn = new BargeIn(
      this.interruption,
      {
        pause: () => this.sink?.pause?.(),
        resume: () => this.sink?.resume?.(),
        cut: () => this.currentTurn?.abort(),
        userSpeaking: () => this.listener.inSpeech,
      },
      (e) => this.emit('barge-in', { turn: this.turnCounter, ...e }),
    );
    if (this.sink) this.sink.onPlayed = (block, rate, at) => this.pushPlayedAudio(block, rate, at);
    void this.runTurns();
  }

  get state(): AgentState {
    return this.currentState;
  }

  /** The conversation so far, as the model sees it (interrupted replies cut to what was heard). */
  get history(): readonly ChatTurn[] {
    return this.conversation.messages;
  }

  /** Starts listening: pushed audio is heard from now on. */
  start(): void {
    if (this.closed) throw new EarshotError('BAD_OPTION', 'this agent was closed; create a new one');
    // A new stream: the VAD's carried state belongs to whatever it heard before (it may be shared).
    if (!this.started) this.vad.reset();
    this.started = true;
    this.refreshState();
  }

  /** Stops listening, cuts the reply in progress and drops turns not yet started. */
  async stop(): Promise<void> {
    this.started = false;
    const dropped = this.queue;
    this.queue = [];
    for (const t of dropped) if ('settle' in t) t.settle?.reject(abortError());
    this.currentTurn?.abort();
    await this.listener.stop();
    await Promise.allSettled([...this.decisions]);
    await this.idle();
    this.refreshState();
  }

  /** Cuts the reply in progress now: generation, synthesis and playback all stop. */
  interrupt(): void {
    this.currentTurn?.abort();
  }

  /** A user turn given as text: the reply is generated and spoken as for speech. */
  sendText(text: string): Promise<TurnResult> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'text', text, settle: { resolve, reject } }));
  }

  /** Speaks `text` as the assistant (no LLM); it joins the history as an assistant message. */
  say(text: string): Promise<TurnResult> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'say', text, settle: { resolve, reject } }));
  }

  /**
   * Feeds microphone or file audio: mono samples at `sampleRate` (float32 in [-1, 1] or int16), any block size,
   * as it arrives. Ignored until start().
   */
  pushAudio(samples: Float32Array | Int16Array, sampleRate: number = PIPELINE_SAMPLE_RATE): void {
    if (!this.started) return;
    this.listener.push(samples instanceof Int16Array ? int16ToFloat32(samples) : samples, sampleRate, performance.now());
  }

  /**
   * Reply audio as it reaches the listener, for a host that plays the 'audio' events itself: with it, the
   * 'gate' duplex mode can tell earshot's own voice in the microphone from the user's. A sink given in the
   * options reports this by itself.
   */
  pushPlayedAudio(samples: Float32Array, sampleRate: number, playedAt: number = performance.now()): void {
    this.listener.played(samples, sampleRate, playedAt);
  }

  /**
   * End of input: an utterance still open is closed as if silence followed, then this waits until every
   * turn has been answered.
   */
  async flush(): Promise<void> {
    await this.listener.flush();
    await Promise.allSettled([...this.decisions]);
    await this.idle();
  }

  /** Stops, then frees the engines this agent loaded. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.stop();
    this.closed = true;
    this.loopWake?.();
    await this.listener.close();
    const engines: Required<AgentEngines> = { vad: this.vad, stt: this.stt, llm: this.llm, tts: this.tts };
    await Promise.allSettled(this.ownedEngines.map((k) => engines[k].dispose()));
  }

  private onSpeechStart(startSample: number): void {
    this.emit('speech-start', { atMs: ms(startSample) });
    if (this.interruption.enabled && this.turnRunning) this.bargeIn.onSpeechStart(ms(startSample));
  }

  private onUtterance(u: Utterance): void {
    this.emit('speech-end', { startMs: ms(u.startSample), endMs: ms(u.endSample), truncated: u.truncated });
    if (this.bargeIn.pending) this.track(this.decideInterruption(u));
    else this.enqueue({ kind: 'audio', ...u });
  }

  private onFrame(): void {
    if (this.listener.inSpeech && this.bargeIn.pending) this.bargeIn.onSpeech(this.listener.lastSpeechMs);
    this.refreshState();
  }

  /**
   * Speech that came over a reply is transcribed at once, beside the reply: words make it the next turn (and
   * cut the reply); no words make it a noise, and the reply goes on.
   */
  private async decideInterruption(u: Utterance): Promise<void> {
    let text = '';
    let sttMs = 0;
    try {
      const t = await this.stt.transcribe(u.audio, { language: this.options.language ?? 'en' });
      sttMs = t.computeMs;
      text = meaningfulText(t, rms(u.audio), this.options.transcriptFilter);
    } catch (e) {
      this.emit('error', { error: e as Error });
    }
    const transcribedAt = performance.now();
    const interrupts = this.bargeIn.onTranscript(text.length > 0);
    if (!interrupts) {
      this.emit('no-speech', { startMs: ms(u.startSample), endMs: ms(u.endSample), text });
      return;
    }
    this.enqueueFront({ kind: 'heard', text, sttMs, transcribedAt, ...u });
  }

  private track(decision: Promise<void>): void {
    this.decisions.add(decision);
    void decision.finally(() => {
      this.decisions.delete(decision);
      this.loopWake?.();
    });
  }

  /**
   * A reply cut before a word of it was heard still owes the user an answer: once nothing else is coming
   * (no turn queued or being decided, nobody speaking), the question is asked again.
   */
  private reaskUnanswered(): void {
    if (this.unansweredQuestion === undefined || this.turnRunning || this.queue.length > 0) return;
    if (this.decisions.size > 0 || this.listener.inSpeech) return;
    this.queue.push({ kind: 'text', text: this.takeUnanswered() });
  }

  private enqueue(turn: PendingTurn): void {
    if (this.closed) {
      if ('settle' in turn) turn.settle?.reject(new EarshotError('BAD_OPTION', 'this agent was closed; create a new one'));
      return;
    }
    this.queue.push(turn);
    this.loopWake?.();
  }

  /** An interruption is answered before anything queued earlier. */
  private enqueueFront(turn: PendingTurn): void {
    this.queue.unshift(turn);
    this.loopWake?.();
  }

  private takeUnanswered(): string {
    const q = this.unansweredQuestion ?? '';
    this.unansweredQuestion = undefined;
    return q;
  }

  private async runTurns(): Promise<void> {
    while (!this.closed) {
      this.reaskUnanswered();
      const next = this.queue.shift();
      if (!next) {
        if (this.decisions.size === 0) for (const w of this.idleWaiters.splice(0)) w();
        await new Promise<void>((resolve) => (this.loopWake = resolve));
        continue;
      }
      this.turnRunning = true;
      const controller = new AbortController();
      this.currentTurn = controller;
      try {
        const result = await this.runTurn(next, controller.signal);
        if ('settle' in next && next.settle) result ? next.settle.resolve(result) : next.settle.reject(abortError());
      } catch (e) {
        if ('settle' in next) next.settle?.reject(e);
        this.emit('error', { error: e as Error, turn: this.turnCounter });
      } finally {
        this.currentTurn = undefined;
        this.turnRunning = false;
        this.replyAudible = false;
        this.bargeIn.reset();
        this.sink?.resume?.();
        this.refreshState();
      }
    }
  }

  private async runTurn(pending: PendingTurn, signal: AbortSignal): Promise<TurnResult | undefined> {
    const fromSpeech = pending.kind === 'audio' || pending.kind === 'heard';
    const clock = fromSpeech ? new TurnClock(pending.endpointMs, pending.declaredAt) : new TurnClock(0, performance.now());
    this.setState('thinking');
    let transcript = '';
    if (pending.kind === 'audio') {
      const t = await this.stt.transcribe(pending.audio, { signal, language: this.options.language ?? 'en' });
      clock.compute.stt = t.computeMs;
      clock.mark('transcript');
      transcript = meaningfulText(t, rms(pending.audio), this.options.transcriptFilter);
      if (transcript.length === 0) {
        this.emit('no-speech', { startMs: ms(pending.startSample), endMs: ms(pending.endSample), text: t.text });
        return undefined;
      }
    } else if (pending.kind === 'heard') {
      clock.compute.stt = pending.sttMs;
      clock.mark('transcript', pending.transcribedAt);
      transcript = pending.text;
    } else if (pending.kind === 'text') {
      transcript = pending.text.trim();
      clock.mark('transcript');
    }
    if (pending.kind !== 'say' && this.unansweredQuestion !== undefined) {
      transcript = `${this.takeUnanswered()} ${transcript}`.trim();
    }

    const turn = ++this.turnCounter;
    if (pending.kind !== 'say') {
      this.emit('transcript', { turn, text: transcript });
      this.conversation.addUser(transcript);
    }
    const result = await streamReply({
      llm: pending.kind === 'say' ? undefined : this.llm,
      tts: this.tts,
      sink: this.sink,
      systemPrompt: this.options.systemPrompt ?? DEFAULT_SYSTEM_PROMPT,
      history: this.conversation.messages,
      fixedText: pending.kind === 'say' ? pending.text : undefined,
      chunking: this.options.chunking ?? {},
      maxTokens: this.options.maxReplyTokens ?? 400,
      signal,
      clock,
      callbacks: {
        onDelta: (delta) => this.emit('reply-delta', { turn, delta }),
        onSentence: (text) => this.emit('reply-sentence', { turn, text }),
        onAudio: (chunk, text) => this.emit('audio', { turn, chunk, text }),
        onSpeaking: () => {
          this.replyAudible = true;
          this.setState('speaking');
        },
      },
    });
    if (result.interrupted && result.spoken.length === 0 && this.bargeIn.wasCut && pending.kind !== 'say') {
      // Cut before a word was heard: the user was not done. Their question waits for what they say next.
      this.unansweredQuestion = this.conversation.takeLastUser();
    } else {
      this.conversation.addAssistant(result.spoken, result.interrupted);
    }
    const turnResult: TurnResult = { turn, transcript, ...result };
    this.emit('turn-end', turnResult);
    const { ms: stageMs, compute } = clock.finish();
    this.emit('metrics', {
      turn,
      transcript,
      reply: result.reply,
      interrupted: result.interrupted,
      ms: stageMs,
      compute,
      ...(fromSpeech ? { speech: { startMs: ms(pending.startSample), endMs: ms(pending.endSample) } } : {}),
    });
    return turnResult;
  }

  private idle(): Promise<void> {
    if (!this.turnRunning && this.queue.length === 0 && this.decisions.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private refreshState(): void {
    if (this.turnRunning) return;
    if (!this.started) this.setState('idle');
    else this.setState(this.listener.inSpeech ? 'user-speaking' : 'listening');
  }

  private setState(state: AgentState): void {
    if (state === this.currentState) return;
    const previous = this.currentState;
    this.currentState = state;
    this.emit('state', { state, previous });
  }
}
