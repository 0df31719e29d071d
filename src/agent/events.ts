import type { PcmChunk } from '../audio/pcm.js';
import type { MaskRecord } from '../reply/latency-mask.js';
import type { ToolCallStatus } from '../tools/run-tool-call.js';
import type { TurnMetrics } from './turn-metrics.js';

/** Where the conversation is. `idle` until start() and after stop(). */
export type AgentState = 'idle' | 'listening' | 'user-speaking' | 'thinking' | 'speaking';

export interface TurnResult {
  turn: number;
  /** What the user said (empty for say()). */
  transcript: string;
  /** The whole reply the model wrote. */
  reply: string;
  /** The part of the reply whose audio was played: all of it unless interrupted. */
  spoken: string;
  interrupted: boolean;
}

/** Why a conversation was forgotten: nobody spoke for the idle-reset time, or forget() was called. */
export type ForgetReason = 'idle' | 'call';

/** Every event the agent emits, with its payload. */
export interface AgentEvents {
  state: { state: AgentState; previous: AgentState };
  /** The user started speaking; `atMs` is the onset's position in the input stream. */
  'speech-start': { atMs: number };
  /** A user utterance ended (endpoint declared); positions in the input stream. */
  'speech-end': { startMs: number; endMs: number; truncated: boolean };
  /** What the user has said so far in the utterance still being spoken; the next one supersedes it. */
  'partial-transcript': { text: string };
  transcript: { turn: number; text: string };
  /** An utterance whose transcript was empty or only a phantom (e.g. "[BLANK_AUDIO]"); no turn was taken. */
  'no-speech': { startMs: number; endMs: number; text: string };
  /** Listener feedback said over a reply ("mm-hm", "yeah"): the reply went on, no turn was taken. */
  backchannel: { turn: number; text: string };
  'reply-delta': { turn: number; delta: string };
  /** A piece of the reply handed to TTS (a sentence, or the first clause). */
  'reply-sentence': { turn: number; text: string };
  /** Reply audio as it is played (in library mode, the PCM to play). */
  audio: { turn: number; chunk: PcmChunk; text: string };
  'turn-end': TurnResult;
  /**
   * Speech over a reply: 'pause' (playback held while it is checked), 'cut' (a real interruption: the reply
   * stops for good) or 'resume' (only a noise). `at` is performance.now().
   */
  'barge-in': { turn: number; action: 'pause' | 'resume' | 'cut'; at: number };
  metrics: TurnMetrics;
  /** The model called a tool; its handler runs now. */
  'tool-call': { turn: number; name: string; args: unknown };
  /** A tool call ended: `status` is 'ok' or why not, `result` what the model was shown, `error` one line. */
  'tool-result': { turn: number; name: string; args: unknown; status: ToolCallStatus; ms: number; result: unknown; error?: string };
  /**
   * A filler covers the wait for a late reply: 'start' (with its audio, for a host that plays the 'audio'
   * events itself) and 'end'. It never enters the history.
   */
  mask: { turn: number; action: 'start' | 'end'; record: MaskRecord; chunk?: PcmChunk };
  /** A new visitor's first spoken turn: the greeting (idleReset.greeting) is spoken before the answer. */
  greeting: { turn: number; text: string };
  /** The conversation was forgotten: history, unanswered question, queued and running turns, the model's context. */
  forgotten: { reason: ForgetReason };
  error: { error: Error; turn?: number };
}
