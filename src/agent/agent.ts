import { int16ToFloat32, PIPELINE_SAMPLE_RATE } from '../audio/pcm.js';
import { abortError, EarshotError, isAbortError, isEngineHang, type WatchedEngine } from '../errors.js';
import { FillerBank } from '../reply/filler-bank.js';
import { LatencyMask } from '../reply/latency-mask.js';
import { streamReply, type ReplyCallbacks } from '../reply/reply-pipeline.js';
import { TurnToolCalls } from '../tools/turn-tool-calls.js';
import { BargeIn } from '../turn/barge-in.js';
import { classifyInterjection } from '../turn/interjection.js';
import { Listener, samplesToMs as ms, type Utterance } from '../turn/listener.js';
import { PartialTranscriber } from '../turn/partial-transcriber.js';
import type { PauseSnapshot } from '../turn/pause-checkpoints.js';
import type { LagMeter } from '../turn/lag-meter.js';
import { transcribeUtterance } from '../turn/transcribe-utterance.js';
import type { ChatTurn } from '../llm/llm-engine.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { resolveAgentOptions, type AgentEngines, type AgentOptions, type ResolvedAgentOptions } from './agent-options.js';
import { ConversationHistory } from './conversation-history.js';
import { cpuMsBetween, EngineCpuMeter, meterEngines } from './engine-cpu-meter.js';
import { withEngineDeadlines } from './engine-deadlines.js';
import { EngineWatchdog } from './engine-watchdog.js';
import type { EngineReloader } from './reloadable-engines.js';
import { SessionMetricsRecorder, type SessionMetrics } from './session-metrics.js';
import type { AgentEvents, AgentState, ForgetReason, TurnResult } from './events.js';
import { Speculation } from './speculation.js';
import { Turn } from './turn.js';
import { IdleResetClock } from './idle-reset-clock.js';
import { TurnClock } from './turn-metrics.js';

/** The engines an agent runs on; the turn-end model is optional (without it the silence rule decides). */
export type AgentEngineSet = Required<Omit<AgentEngines, 'turn'>> & Pick<AgentEngines, 'turn'>;

/**
 * One conversation: the queue of turns, the history, and the turn in progress. Audio comes in through
 * pushAudio() (any rate, any block size) and is heard by the Listener; text comes in through sendText(); replies
 * go out as 'audio' events and, when a sink is set, to the sink. Speech over a reply is handled by BargeIn.
 */
export class Agent extends TypedEmitter<AgentEvents> {
  private readonly engines: AgentEngineSet;
  private readonly options: ResolvedAgentOptions;
  private readonly ownedEngines: readonly (keyof AgentEngines)[] | (() => readonly (keyof AgentEngines)[]);
  private readonly listener: Listener;
  private readonly conversation: ConversationHistory;
  private readonly bargeIn: BargeIn;
  private readonly cpu: EngineCpuMeter;
  private readonly session = new SessionMetricsRecorder();
  private readonly fillers: FillerBank;
  /** The latency mask of the turn in progress. */
  private mask: LatencyMask | undefined;
  private readonly partials: PartialTranscriber;
  private readonly watchdog: EngineWatchdog;

  private currentState: AgentState = 'idle';
  private started = false;
  private closed = false;
  private turnCounter = 0;
  private queue: Turn[] = [];
  private current: Turn | undefined;
  /** Aborted by stop(): transcriptions of speech heard over a reply stop with it. */
  private listening = new AbortController();
  /** The question of a reply cut before any of it was heard: the user's next words continue it. */
  private unansweredQuestion: string | undefined;
  private loopWake: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private decisions = new Set<Promise<void>>();
  /** The reply being prepared during the user's pause, if any (see Speculation). */
  private speculation: Speculation | undefined;
  /** Counts forget() calls: a turn begun in an earlier conversation writes nothing into this one. */
  private conversationNumber = 0;
  /** The last turn number of a forgotten conversation. */
  private forgottenThroughTurn = 0;
  private readonly idleReset: IdleResetClock;
  /** The next visitor's first spoken turn is greeted first (idleReset.greeting). */
  private greetingDue: boolean;

  /**
   * @param ownedEngines the engines this agent loaded and so frees on close() (or how to tell, at close)
   * @param reloader replaces an engine that hung (createAgent() gives one); without it a hung engine is kept
   */
  constructor(
    engines: AgentEngineSet,
    options: AgentOptions,
    ownedEngines: readonly (keyof AgentEngines)[] | (() => readonly (keyof AgentEngines)[]) = [],
    reloader?: EngineReloader,
  ) {
    super();
    this.options = resolveAgentOptions(options);
    const o = this.options;
    const t = o.threads;
    this.cpu = new EngineCpuMeter({ vad: t.vad, stt: t.stt, llm: t.llm, tts: t.tts, tools: 1 });
    this.watchdog = new EngineWatchdog(o.watchdog, reloader, {
      failure: (e) => this.emit('engine-failure', e),
      reloaded: (e) => this.emit('engine-reloaded', e),
      fatal: (e) => this.onFatal(e),
    });
    const watched = o.watchdog.enabled ? withEngineDeadlines(engines, o.watchdog, this.watchdog) : engines;
    this.engines = meterEngines(watched, this.cpu);
    this.ownedEngines = ownedEngines;
    this.fillers = new FillerBank(o.latencyMask.phrases, this.engines.tts);
    // A turn cut by forget() still reports its numbers; its words are not kept.
    this.on('metrics', (m) => this.session.addTurn(m.turn <= this.forgottenThroughTurn ? { ...m, transcript: '', reply: '' } : m));
    this.on('barge-in', (e) => this.session.addBargeIn(e.action));
    this.listener = new Listener(
      this.engines.vad,
      {
        endpointing: o.endpointing,
        duplex: o.interruption.duplex,
        bargeInMinSpeechMs: o.interruption.minSpeechMs,
        echoGate: o.echoGate,
        echoCanceller: o.echoCanceller,
        pauseAfterMs: o.speculation.enabled ? o.speculation.afterMs : undefined,
        turnEnd: o.turnEnd,
        turnEndModel: engines.turn,
      },
      {
        speechStart: (startSample) => this.onSpeechStart(startSample),
        utterance: (u) => this.onUtterance(u),
        frame: () => this.onFrame(),
        replyAudible: () => this.current?.audible ?? false,
        pause: (p) => this.speculate(p),
        resumed: () => this.dropSpeculation(),
      },
      (error) => this.emit('error', { error }),
    );
    this.conversation = new ConversationHistory(o.maxHistoryMessages);
    this.greetingDue = o.idleReset.greeting !== '';
    this.idleReset = new IdleResetClock(o.idleReset.afterMs, () =>
      this.forgetConversation('idle').catch((error: Error) => this.emit('error', { error })),
    );
    this.bargeIn = new BargeIn(
      o.interruption,
      {
        pause: () => o.sink?.pause?.(),
        resume: () => o.sink?.resume?.(),
        cut: () => this.current?.abort(),
        userSpeaking: () => this.listener.inSpeech,
      },
      (e) => this.emit('barge-in', { turn: this.turnCounter, ...e }),
    );
    this.partials = new PartialTranscriber(watched.stt, o.partialTranscripts, { language: o.language, filter: o.transcriptFilter }, {
      partial: (text) => this.emit('partial-transcript', { text }),
      // A hang was reported as 'engine-failure' already.
      error: (error) => isEngineHang(error) || this.emit('error', { error }),
    });
    if (o.sink) o.sink.onPlayed = (block, rate, at) => this.pushPlayedAudio(block, rate, at);
    void this.runTurns();
  }

  get state(): AgentState {
    return this.currentState;
  }

  /** Where each engine computes ('cpu' or a GPU backend), and what ends a turn, for a startup line. */
  get backends(): { stt: string; llm: string; turnEnd: 'smart-turn' | 'silence' } {
    const smart = this.engines.turn !== undefined && this.options.turnEnd.mode === 'smart-turn';
    return { stt: this.engines.stt.backend ?? 'unknown', llm: this.engines.llm.backend ?? 'unknown', turnEnd: smart ? 'smart-turn' : 'silence' };
  }

  /** How far behind the microphone the ears have run (per 32 ms frame) since start or the meter's reset. */
  get listenerLag(): LagMeter {
    return this.listener.lag;
  }

  /** Engine calls that ran past their deadline: in a row (reset by an answered turn) and in all. */
  get engineFailures(): { consecutive: number; total: number } {
    return this.watchdog.failures;
  }

  /** The conversation so far, as the model sees it (interrupted replies cut to what was heard). */
  get history(): readonly ChatTurn[] {
    return this.conversation.messages;
  }

  /** Starts listening: pushed audio is heard from now on. */
  start(): void {
    if (this.closed) throw new EarshotError('BAD_OPTION', 'this agent was closed; create a new one');
    if (this.watchdog.fatal) throw new EarshotError('ENGINE_HUNG', 'this agent stopped after its engines failed; create a new one');
    // A new stream: the VAD's carried state belongs to whatever it heard before (it may be shared).
    if (!this.started) {
      this.engines.vad.reset();
      this.listening = new AbortController();
      // Phrases are voiced once, ahead of the first late reply; until then the earcon stands in.
      if (this.options.latencyMask.mode === 'phrase') void this.fillers.prepare().catch((error: Error) => this.emit('error', { error }));
    }
    this.started = true;
    this.refreshState();
  }

  /** Stops listening, cuts the reply in progress and drops turns not yet started. */
  async stop(): Promise<void> {
    this.started = false;
    this.listening.abort();
    this.dropSpeculation();
    this.partials.end();
    for (const t of this.queue.splice(0)) t.fail(abortError());
    this.current?.abort();
    await this.listener.stop();
    await Promise.allSettled([...this.decisions]);
    await this.idle();
    this.refreshState();
  }

  /**
   * The session so far in numbers: turns, interruptions, false interruptions, masked turns and the CPU time each
   * engine spent since the start; the latest turns' records (the last 1000) with p50/p95 of each stage, tool
   * calls and their times over them.
   */
  metrics(): SessionMetrics {
    return this.session.snapshot(this.cpu.totalsMs());
  }

  /**
   * Forgets the conversation, for the next person: the history, a question still waiting for its answer, the
   * speculation, queued turns (their callers get an abort error), the reply in progress (cut), the utterance
   * being heard and the turn records' text; then the LLM's own context (LlmEngine.forget). Listening goes on.
   * Resolves once the model holds none of it; emits 'forgotten'.
   */
  forget(): Promise<void> {
    return this.forgetConversation('call');
  }

  /** Cuts the reply in progress now: generation, synthesis and playback all stop. */
  interrupt(): void {
    this.current?.abort();
  }

  /** A user turn given as text: the reply is generated and spoken as for speech. */
  sendText(text: string): Promise<TurnResult> {
    return new Promise((resolve, reject) => this.enqueue(new Turn({ kind: 'text', text }, { resolve, reject })));
  }

  /** Speaks `text` as the assistant (no LLM); it joins the history as an assistant message. */
  say(text: string): Promise<TurnResult> {
    return new Promise((resolve, reject) => this.enqueue(new Turn({ kind: 'say', text }, { resolve, reject })));
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
   * The microphone stream broke (the device was lost): what the user was saying when it broke is dropped, since
   * its end was never heard and half a question must not be answered, and listening starts afresh with the next
   * audio. A reply in progress goes on. Resolves with whether an utterance was dropped.
   */
  async inputLost(): Promise<boolean> {
    const dropped = await this.listener.breakStream();
    this.partials.end();
    this.dropSpeculation();
    this.refreshState();
    return dropped;
  }

  /**
   * Reply audio as it reaches the listener, for a host that plays the 'audio' events itself: with it, the
   * 'aec' and 'gate' duplex modes can tell earshot's own voice in the microphone from the user's. A sink given in the
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
    this.idleReset.stop();
    this.loopWake?.();
    await this.listener.close();
    const owned = typeof this.ownedEngines === 'function' ? this.ownedEngines() : this.ownedEngines;
    await Promise.allSettled(owned.map((k) => this.engines[k]?.dispose()));
  }

  /**
   * The engines keep failing: the agent stops taking turns and says so with 'fatal'. It does not wait for the
   * turn in progress, which may be stuck in native code; the host exits.
   */
  private onFatal(e: { engine: WatchedEngine; failures: number; message: string }): void {
    this.started = false;
    this.listening.abort();
    this.dropSpeculation();
    for (const t of this.queue.splice(0)) t.fail(abortError());
    this.current?.abort();
    this.emit('fatal', e);
  }

  private async forgetConversation(reason: ForgetReason): Promise<void> {
    // Everything the agent holds goes at once, before anything awaits: a turn still running sees the new
    // conversation number and writes nothing back.
    this.conversationNumber++;
    this.idleReset.forgotten();
    this.greetingDue = this.options.idleReset.greeting !== '';
    this.conversation.clear();
    this.unansweredQuestion = undefined;
    this.dropSpeculation();
    this.partials.end();
    this.listening.abort();
    this.listening = new AbortController();
    for (const t of this.queue.splice(0)) t.fail(abortError());
    this.current?.abort();
    this.session.forgetContent();
    this.forgottenThroughTurn = this.turnCounter;
    await this.listener.forget();
    // Queued behind the cut reply's generation, which stops at its next token.
    await this.engines.llm.forget?.();
    this.refreshState();
    this.emit('forgotten', { reason });
  }

  private onSpeechStart(startSample: number): void {
    this.idleReset.heardSomething();
    this.emit('speech-start', { atMs: ms(startSample) });
    if (this.options.interruption.enabled && this.current) this.bargeIn.onSpeechStart(ms(startSample));
  }

  private onUtterance(u: Utterance): void {
    this.partials.end();
    this.emit('speech-end', { startMs: ms(u.startSample), endMs: ms(u.endSample), truncated: u.truncated });
    const speculation = this.speculation;
    this.speculation = undefined;
    if (speculation?.matches(u) && !this.bargeIn.pending) {
      this.enqueue(speculation.promote(u));
      return;
    }
    speculation?.drop();
    if (this.bargeIn.pending) this.track(this.decideInterruption(u));
    else this.enqueue(new Turn({ kind: 'audio', ...u }));
  }

  /**
   * A pause in the user's speech: the utterance so far is transcribed and answered ahead of time, unheard, but
   * only when nothing else is going on (no reply, no queued turn, no pending question or interruption).
   */
  private speculate(pause: PauseSnapshot & { endpointMs: number; declaredAt: number }): void {
    const busy = this.current || this.queue.length > 0 || this.decisions.size > 0 || this.bargeIn.pending;
    // Tools act on the world: a reply that may call them is never started before the turn has ended.
    const tools = this.options.tools.size > 0;
    if (!this.options.speculation.enabled || this.speculation || busy || tools || this.unansweredQuestion !== undefined) return;
    const o = this.options;
    this.speculation = new Speculation(pause, {
      transcribe: (audio, signal) => transcribeUtterance(this.engines.stt, audio, this.hearing(signal)),
      reply: (transcript, turn, playback, callbacks) =>
        streamReply({
          llm: this.engines.llm,
          tts: this.engines.tts,
          sink: o.sink,
          systemPrompt: o.systemPrompt,
          history: [...this.conversation.messages, { role: 'user', text: transcript }],
          chunking: o.chunking,
          maxTokens: o.maxReplyTokens,
          signal: turn.signal,
          clock: turn.clock,
          callbacks,
          holdPlayback: playback,
        }),
    });
  }

  private dropSpeculation(): void {
    this.speculation?.drop();
    this.speculation = undefined;
  }

  private onFrame(): void {
    if (this.listener.inSpeech && this.bargeIn.pending) this.bargeIn.onSpeech(this.listener.lastSpeechMs);
    // Not over a reply: its LLM and TTS need the cores, and barge-in transcribes that speech whole anyway. Not
    // during a speculation either: it is already transcribing the whole utterance so far.
    const open = this.listener.openUtterance;
    if (open && !this.current && !this.speculation) this.partials.heard(open);
    this.refreshState();
  }

  /**
   * Speech that came over a reply is transcribed at once, beside the reply: words make it the next turn (and
   * cut the reply); no words make it a noise, and the reply goes on.
   */
  private async decideInterruption(u: Utterance): Promise<void> {
    const signal = this.listening.signal;
    const conversation = this.conversationNumber;
    let text = '';
    let whisperText = '';
    let sttMs = 0;
    try {
      const heard = await transcribeUtterance(this.engines.stt, u.audio, this.hearing(signal));
      sttMs = heard.transcript.computeMs;
      text = heard.words;
      whisperText = heard.transcript.text;
    } catch (e) {
      if (signal.aborted && isAbortError(e)) return;
      if (!isEngineHang(e)) this.emit('error', { error: e as Error });
    }
    if (conversation !== this.conversationNumber) return;
    const transcribedAt = performance.now();
    const said = classifyInterjection(text, this.options.interruption);
    if (!this.bargeIn.onTranscript(said)) {
      if (said === 'backchannel') this.emit('backchannel', { turn: this.turnCounter, text });
      else this.emit('no-speech', { startMs: ms(u.startSample), endMs: ms(u.endSample), text: whisperText });
      return;
    }
    this.enqueueFront(new Turn({ kind: 'heard', text, sttMs, transcribedAt, ...u }));
  }

  private hearing(signal: AbortSignal) {
    return { signal, language: this.options.language, filter: this.options.transcriptFilter };
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
    if (this.unansweredQuestion === undefined || this.current || this.queue.length > 0) return;
    if (this.decisions.size > 0 || this.listener.inSpeech) return;
    this.queue.push(new Turn({ kind: 'text', text: this.takeUnanswered() }));
  }

  private enqueue(turn: Turn): void {
    if (this.closed) {
      turn.fail(new EarshotError('BAD_OPTION', 'this agent was closed; create a new one'));
      return;
    }
    this.idleReset.heardSomething();
    this.queue.push(turn);
    this.loopWake?.();
  }

  /** An interruption is answered before anything queued earlier. */
  private enqueueFront(turn: Turn): void {
    this.idleReset.stop();
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
      this.current = next;
      try {
        const result = await this.runTurn(next);
        next.finish(result);
        if (result && next.input.kind !== 'say') this.watchdog.succeeded();
      } catch (e) {
        next.fail(e);
        if (isEngineHang(e)) {
          // The engine is being replaced (calls wait for the fresh one); the user hears why there is no answer.
          if (!this.watchdog.fatal) this.queue.unshift(new Turn({ kind: 'say', text: this.options.watchdog.apology }));
        } else if (!(next.signal.aborted && isAbortError(e))) {
          // A turn cut (by stop() or forget()) while it transcribed ends in an abort: that is no error.
          this.emit('error', { error: e as Error, turn: this.turnCounter });
        }
      } finally {
        await this.mask?.close();
        this.mask = undefined;
        this.current = undefined;
        this.bargeIn.reset();
        this.options.sink?.resume?.();
        this.refreshState();
      }
    }
  }

  private async runTurn(turn: Turn): Promise<TurnResult | undefined> {
    const { input, signal } = turn;
    const conversation = this.conversationNumber;
    turn.begin();
    const clock = turn.clock;
    const cpuAtStart = this.cpu.totalsMs();
    let numbered: number | undefined;
    const prepared = await turn.prepared;
    // A new visitor's first words are greeted before they are answered; the greeting covers the wait itself.
    const greetable = this.greetingDue && turn.spoken !== undefined;
    // A reply prepared in the pause plays at once: nothing to mask.
    const unmasked = input.kind === 'say' || prepared || greetable;
    const mask = unmasked ? undefined : (this.mask = this.latencyMask(turn, () => numbered ?? this.turnCounter + 1));
    this.setState('thinking');
    let transcript = '';
    if (prepared) {
      transcript = prepared.heard.words;
    } else if (input.kind === 'audio') {
      const heard = await transcribeUtterance(this.engines.stt, input.audio, this.hearing(signal));
      clock.compute.stt = heard.transcript.computeMs;
      clock.mark('transcript');
      transcript = heard.words;
      if (transcript.length === 0) {
        this.emit('no-speech', { startMs: ms(input.startSample), endMs: ms(input.endSample), text: heard.transcript.text });
        return undefined;
      }
    } else if (input.kind === 'heard') {
      clock.compute.stt = input.sttMs;
      clock.mark('transcript', input.transcribedAt);
      transcript = input.text;
    } else if (input.kind === 'text') {
      transcript = input.text.trim();
      clock.mark('transcript');
    }
    if (input.kind !== 'say' && this.unansweredQuestion !== undefined) {
      transcript = `${this.takeUnanswered()} ${transcript}`.trim();
    }

    // Forgotten while it was being transcribed: the turn belonged to the conversation that went.
    if (conversation !== this.conversationNumber) return undefined;
    const id = ++this.turnCounter;
    numbered = id;
    if (input.kind !== 'say') {
      this.emit('transcript', { turn: id, text: transcript });
      this.conversation.addUser(transcript);
    }
    const o = this.options;
    const callbacks: ReplyCallbacks = {
      onDelta: (delta) => this.emit('reply-delta', { turn: id, delta }),
      onSentence: (text) => this.emit('reply-sentence', { turn: id, text }),
      onAudio: (chunk, text) => this.emit('audio', { turn: id, chunk, text }),
      onSpeaking: () => {
        turn.audible = true;
        this.setState('speaking');
      },
    };
    // The reply is written while the greeting plays; its first audio waits for the greeting's end.
    const greeting = greetable ? this.greet(turn, id) : undefined;
    if (prepared) {
      await greeting;
      prepared.release(callbacks);
    }
    const tools = input.kind !== 'say' && !prepared && o.tools.size > 0 ? this.toolCalls(turn, id, mask) : undefined;
    const result = prepared ? await prepared.reply : await streamReply({
      llm: input.kind === 'say' ? undefined : this.engines.llm,
      tts: this.engines.tts,
      sink: o.sink,
      systemPrompt: o.systemPrompt,
      history: this.conversation.messages,
      fixedText: input.kind === 'say' ? input.text : undefined,
      chunking: o.chunking,
      maxTokens: o.maxReplyTokens,
      functions: tools && ((speak) => tools.functions(speak)),
      beforeFirstAudio: mask ? () => mask.replyReady() : greeting && (() => greeting),
      signal,
      clock,
      callbacks,
    });
    // Forgotten while it replied: nothing of it enters the new conversation.
    const kept = conversation === this.conversationNumber;
    if (kept && result.interrupted && result.spoken.length === 0 && this.bargeIn.wasCut && input.kind !== 'say') {
      // Cut before a word was heard: the user was not done. Their question waits for what they say next.
      this.unansweredQuestion = this.conversation.takeLastUser();
    } else if (kept) {
      this.conversation.addAssistant(result.spoken, result.interrupted);
    }
    const turnResult: TurnResult = { turn: id, transcript, ...result };
    this.emit('turn-end', turnResult);
    const maskRecord = await mask?.close();
    const { ms: stageMs, compute } = clock.finish();
    const spoken = turn.spoken;
    this.emit('metrics', {
      turn: id,
      transcript,
      reply: result.reply,
      interrupted: result.interrupted,
      ms: stageMs,
      compute,
      ...(prepared ? { speculated: true } : {}),
      ...(greeting ? { greeted: true } : {}),
      ...(spoken ? { speech: { startMs: ms(spoken.startSample), endMs: ms(spoken.endSample) } } : {}),
      ...(maskRecord ? { mask: maskRecord } : {}),
      ...(tools && tools.records.length > 0 ? { tools: tools.records } : {}),
      cpuMs: cpuMsBetween(cpuAtStart, this.cpu.totalsMs()),
    });
    return turnResult;
  }

  /** Speaks the greeting to a new visitor as part of `turn` (so speech over it cuts the turn); resolves once played or cut. */
  private greet(turn: Turn, id: number): Promise<void> {
    this.greetingDue = false;
    const text = this.options.idleReset.greeting;
    this.emit('greeting', { turn: id, text });
    return streamReply({
      llm: undefined,
      tts: this.engines.tts,
      sink: this.options.sink,
      systemPrompt: '',
      history: [],
      fixedText: text,
      chunking: this.options.chunking,
      signal: turn.signal,
      // Its own clock: the turn's stage times are the reply's.
      clock: new TurnClock(0, performance.now()),
      callbacks: {
        onDelta: () => undefined,
        onSentence: () => undefined,
        onAudio: (chunk, said) => this.emit('audio', { turn: id, chunk, text: said }),
        onSpeaking: () => {
          turn.audible = true;
          this.setState('speaking');
        },
      },
    }).then(
      () => undefined,
      // A greeting that cannot be voiced is skipped: the answer matters more.
      (error: Error) => this.emit('error', { error, turn: id }),
    );
  }

  /** The turn's filler: armed for `maskAfterMs` after the end of the user's turn; its audio counts as audible. */
  private latencyMask(turn: Turn, turnNumber: () => number): LatencyMask {
    const o = this.options.latencyMask;
    const mask = new LatencyMask(o, this.fillers, this.options.sink, turn.signal, () => turn.clock.now(), {
      start: (record, chunk) => {
        turn.audible = true;
        this.emit('mask', { turn: turnNumber(), action: 'start', record: { ...record }, chunk });
      },
      end: (record) => this.emit('mask', { turn: turnNumber(), action: 'end', record: { ...record } }),
    });
    mask.arm(o.maskAfterMs - turn.clock.sinceDeclared());
    return mask;
  }

  /** The tools as this turn offers them: the turn's signal reaches every handler; a running tool may call for a filler. */
  private toolCalls(turn: Turn, id: number, mask: LatencyMask | undefined): TurnToolCalls {
    return new TurnToolCalls(this.options.tools, this.options.toolCalls, turn.signal, {
      call: (name, args) => {
        this.cpu.enter('tools');
        mask?.toolStarted();
        this.emit('tool-call', { turn: id, name, args });
      },
      result: (o) => {
        this.cpu.exit('tools');
        mask?.toolEnded();
        this.emit('tool-result', { turn: id, name: o.name, args: o.args, status: o.status, ms: Math.round(o.ms), result: o.forModel, error: o.error });
      },
    });
  }

  private idle(): Promise<void> {
    if (!this.current && this.queue.length === 0 && this.decisions.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private refreshState(): void {
    // A turn running or about to run sets its own state; 'listening' in between would be a flicker.
    if (this.current || this.queue.length > 0) return;
    if (!this.started) this.setState('idle');
    else this.setState(this.listener.inSpeech ? 'user-speaking' : 'listening');
  }

  private setState(state: AgentState): void {
    if (state === this.currentState) return;
    const previous = this.currentState;
    this.currentState = state;
    this.idleReset.waiting(!this.closed && (state === 'listening' || state === 'idle'));
    this.emit('state', { state, previous });
  }
}
