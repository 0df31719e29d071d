import type { Agent } from '../agent/agent.js';
import type { AgentEvents } from '../agent/events.js';
import type { AgentEngines, AgentOptions } from '../agent/agent-options.js';
import { createAgent } from '../agent/create-agent.js';
import { float32ToInt16, type PcmChunk } from '../audio/pcm.js';
import { RealtimeSink } from '../audio/realtime-sink.js';
import { decodePcmFrame, encodePcmFrame } from './pcm-frame.js';
import { MAX_TEXT_CHARS, PROTOCOL_VERSION, parseClientMessage, type ClientMessage, type ErrorCode, type ListenMode, type ServerMessage } from './protocol.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { ReportingSink } from './reporting-sink.js';
import type { ServeOptions } from './serve-options.js';

/** The socket as a session sees it: the server adapts a WebSocket to this. */
export interface Peer {
  send(message: ServerMessage): void;
  sendAudio(frame: Buffer): void;
  close(code: number, reason: string): void;
}

export interface SessionContext {
  id: number;
  /** Engines loaded once by the server; the session adds its own VAD (it carries per-stream state). */
  engines: Required<Pick<AgentEngines, 'stt' | 'llm' | 'tts'>>;
  agentOptions: AgentOptions;
  limits: Pick<ServeOptions, 'maxMessageBytes' | 'idleTimeoutMs' | 'audioLeadMs'>;
}

/** WebSocket close codes: idle (application range), and the standard one for a server-side failure. */
export const CLOSE_IDLE = 4001;
export const CLOSE_INTERNAL = 1011;

export interface SessionEvents {
  /** Every message sent to the client, for a log that shows what the page shows. */
  message: ServerMessage;
  /** The conversation's watchdog gave up on an engine call, replaced an engine, or stopped the agent. */
  'engine-failure': AgentEvents['engine-failure'];
  'engine-reloaded': AgentEvents['engine-reloaded'];
  fatal: AgentEvents['fatal'];
  /** A turn was answered. */
  'turn-end': AgentEvents['turn-end'];
}

/**
 * One connection, one conversation: its own agent (history, turn state, VAD) over the server's shared engines.
 * Client messages are handled strictly in arrival order. Closing the session (the tab went away) cuts its turn
 * and frees what it holds at once: its place in the engines' queues, its VAD, its timers.
 */
export class Session extends TypedEmitter<SessionEvents> {
  readonly id: number;
  private readonly peer: Peer;
  private readonly context: SessionContext;
  private readonly sink: ReportingSink;
  private readonly sentences = new WeakMap<PcmChunk, { turn: number; text: string }>();
  private agent: Agent | undefined;
  private chain: Promise<void>;
  private mode: ListenMode = 'hands-free';
  private listening = false;
  private pttHeld = false;
  private playingTurn = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(peer: Peer, context: SessionContext) {
    super();
    this.id = context.id;
    this.peer = peer;
    this.context = context;
    const realtime = new RealtimeSink({
      leadMs: context.limits.audioLeadMs,
      write: (block, rate) => this.peer.sendAudio(encodePcmFrame(float32ToInt16(block), rate, this.playingTurn)),
    });
    this.sink = new ReportingSink(realtime, {
      started: (chunk, durationMs) => {
        const s = this.sentences.get(chunk);
        if (s) this.send({ type: 'sentence-start', turn: s.turn, text: s.text, durationMs: Math.round(durationMs) });
      },
      ended: (chunk, heardMs, interrupted) => {
        const s = this.sentences.get(chunk);
        if (s) this.send({ type: 'sentence-end', turn: s.turn, text: s.text, heardMs: Math.round(heardMs), interrupted });
      },
    });
    this.chain = this.open().catch((e: unknown) => {
      this.error('internal', `this conversation could not start: ${(e as Error).message.split('\n')[0]}`);
      this.peer.close(CLOSE_INTERNAL, 'internal error');
    });
    this.touch();
  }

  /** The conversation so far (empty until the agent is ready). */
  get history(): Agent['history'] {
    return this.agent?.history ?? [];
  }

  /** A message from the client, text or binary, in arrival order. */
  receive(data: Buffer, isBinary: boolean): void {
    this.touch();
    if (data.length > this.context.limits.maxMessageBytes) {
      this.error('too-large', `message of ${data.length} bytes is over the ${this.context.limits.maxMessageBytes}-byte limit; dropped`);
      return;
    }
    if (isBinary) {
      const decoded = decodePcmFrame(data);
      if (!decoded.ok) return this.error('bad-audio', `audio frame dropped: ${decoded.reason}`);
      this.enqueue(() => this.hear(decoded.frame.samples, decoded.frame.sampleRate));
      return;
    }
    const parsed = parseClientMessage(data.toString('utf8'));
    if (!parsed.ok) return this.error('bad-message', `message dropped: ${parsed.reason}`);
    this.enqueue(() => this.handle(parsed.message));
  }

  /** Ends the conversation: the turn in progress is cut, everything the session holds is freed. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.idleTimer);
      // Cut first, not after the messages still queued: a closed tab's turn stops now.
      this.agent?.interrupt();
      await this.chain;
      await this.agent?.close();
    })();
    return this.closing;
  }

  private async open(): Promise<void> {
    const { engines, agentOptions } = this.context;
    const agent = await createAgent({ ...agentOptions, engines: { ...agentOptions.engines, ...engines }, sink: this.sink });
    if (this.closing) {
      await agent.close();
      return;
    }
    this.agent = agent;
    this.attach(agent);
    this.send({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      session: this.id,
      voiceSampleRate: engines.tts.sampleRate,
      limits: { maxMessageBytes: this.context.limits.maxMessageBytes, idleTimeoutMs: this.context.limits.idleTimeoutMs, maxTextChars: MAX_TEXT_CHARS },
    });
    this.sendState();
  }

  private attach(agent: Agent): void {
    agent.on('state', () => this.sendState());
    agent.on('engine-failure', (e) => this.emit('engine-failure', e));
    agent.on('engine-reloaded', (e) => this.emit('engine-reloaded', e));
    agent.on('fatal', (e) => this.emit('fatal', e));
    agent.on('turn-end', (e) => this.emit('turn-end', e));
    agent.on('speech-start', ({ atMs }) => this.send({ type: 'speech-start', atMs }));
    agent.on('speech-end', ({ startMs, endMs }) => this.send({ type: 'speech-end', startMs, endMs }));
    agent.on('partial-transcript', ({ text }) => this.send({ type: 'partial-transcript', text }));
    agent.on('transcript', ({ turn, text }) => this.send({ type: 'transcript', turn, text }));
    agent.on('no-speech', () => this.send({ type: 'no-speech' }));
    agent.on('reply-delta', ({ turn, delta }) => this.send({ type: 'reply-delta', turn, delta }));
    agent.on('audio', ({ turn, chunk, text }) => {
      this.playingTurn = turn;
      this.sentences.set(chunk, { turn, text });
    });
    // A filler covering a late reply goes out before the reply's first sentence: its frames carry that turn too.
    agent.on('mask', ({ turn, action }) => {
      if (action === 'start') this.playingTurn = turn;
    });
    agent.on('barge-in', ({ turn, action }) => this.send({ type: 'barge-in', turn, action }));
    agent.on('turn-end', ({ turn, transcript, reply, spoken, interrupted }) =>
      this.send({ type: 'turn-end', turn, transcript, reply, spoken, interrupted }),
    );
    agent.on('metrics', ({ turn, interrupted, ms, compute }) => this.send({ type: 'metrics', turn, interrupted, ms, compute }));
    agent.on('forgotten', ({ reason }) => this.send({ type: 'forgotten', reason }));
    agent.on('tool-call', ({ turn, name, args }) => this.send({ type: 'tool-call', turn, name, args }));
    agent.on('tool-result', ({ turn, name, status, ms }) => this.send({ type: 'tool-result', turn, name, status, ms }));
    agent.on('error', ({ error }) => this.error('turn-failed', error.message.split('\n')[0]));
  }

  private enqueue(step: () => void | Promise<void>): void {
    // One failed step must not stop the ones after it.
    this.chain = this.chain.then(step).catch((e: unknown) => this.error('turn-failed', (e as Error).message));
  }

  private hear(samples: Int16Array, sampleRate: number): void {
    const open = this.listening && (this.mode === 'hands-free' || this.pttHeld);
    if (open) this.agent?.pushAudio(samples, sampleRate);
  }

  private async handle(message: ClientMessage): Promise<void> {
    const agent = this.agent;
    if (!agent || this.closing) return;
    switch (message.type) {
      case 'start':
        this.mode = message.mode ?? this.mode;
        this.listening = true;
        agent.start();
        break;
      case 'stop':
        this.listening = false;
        this.pttHeld = false;
        await agent.stop();
        break;
      case 'config':
        this.mode = message.mode ?? this.mode;
        break;
      case 'text':
        // Failures reach the client through the agent's 'error' events; an aborted turn is no failure.
        agent.sendText(message.text).catch(() => undefined);
        break;
      case 'interrupt':
        agent.interrupt();
        break;
      case 'ptt-down':
        agent.interrupt();
        this.pttHeld = true;
        break;
      case 'ptt-up':
        if (!this.pttHeld) break;
        this.pttHeld = false;
        // Releasing the key ends the utterance now rather than after the silence the endpointer waits for.
        if (this.mode === 'push-to-talk') void agent.flush().catch(() => undefined);
        break;
    }
    this.sendState();
  }

  private sendState(): void {
    if (!this.agent) return;
    this.send({ type: 'state', state: this.agent.state, listening: this.listening, mode: this.mode });
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    if (this.closing) return;
    this.idleTimer = setTimeout(() => {
      this.error('idle', `nothing arrived for ${Math.round(this.context.limits.idleTimeoutMs / 1000)} s; closing this session`);
      this.peer.close(CLOSE_IDLE, 'idle');
    }, this.context.limits.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private error(code: ErrorCode, message: string): void {
    this.send({ type: 'error', code, message });
  }

  private send(message: ServerMessage): void {
    if (this.closing) return;
    this.peer.send(message);
    this.emit('message', message);
  }
}
