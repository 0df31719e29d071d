import { z } from 'zod';
import type { AgentState, ForgetReason } from '../agent/events.js';
import type { TurnCompute, TurnStageTimes } from '../agent/turn-metrics.js';
import type { ToolCallStatus } from '../tools/run-tool-call.js';

/**
 * The web protocol's version. A client asks for it as the WebSocket subprotocol `earshot.v1`; a change that an
 * old page could misread gets a new number, and the server refuses subprotocols it does not speak.
 */
export const PROTOCOL_VERSION = 1;
export const SUBPROTOCOL = `earshot.v${PROTOCOL_VERSION}`;

/** How microphone audio is taken: continuously (the VAD finds the turns), or only while a key is held. */
export const LISTEN_MODES = ['hands-free', 'push-to-talk'] as const;
export type ListenMode = (typeof LISTEN_MODES)[number];

/** The longest typed turn, in characters. */
export const MAX_TEXT_CHARS = 2000;

const clientMessage = z.discriminatedUnion('type', [
  /** Start listening (hands-free by default). */
  z.strictObject({ type: z.literal('start'), mode: z.enum(LISTEN_MODES).optional() }),
  /** Stop listening; the reply in progress is cut. */
  z.strictObject({ type: z.literal('stop') }),
  /** A typed turn. */
  z.strictObject({ type: z.literal('text'), text: z.string().trim().min(1).max(MAX_TEXT_CHARS) }),
  /** Cut the reply in progress. */
  z.strictObject({ type: z.literal('interrupt') }),
  /** Push-to-talk key pressed: the reply in progress is cut and the microphone counts. */
  z.strictObject({ type: z.literal('ptt-down') }),
  /** Push-to-talk key released: the utterance ends now. */
  z.strictObject({ type: z.literal('ptt-up') }),
  /** Session settings; each field is optional and keeps its value when absent. */
  z.strictObject({ type: z.literal('config'), mode: z.enum(LISTEN_MODES).optional() }),
]);

export type ClientMessage = z.infer<typeof clientMessage>;

/** Every message the server sends, by `type`. */
export type ServerMessage =
  | {
      type: 'hello';
      protocol: number;
      session: number;
      /**
       * Rate of all reply audio. A client plays it best at this rate (a page makes its AudioContext at it, and the
       * browser converts to the device); converting on the server would delay every sentence.
       */
      voiceSampleRate: number;
      limits: { maxMessageBytes: number; idleTimeoutMs: number; maxTextChars: number };
    }
  | { type: 'state'; state: AgentState; listening: boolean; mode: ListenMode }
  | { type: 'speech-start'; atMs: number }
  | { type: 'speech-end'; startMs: number; endMs: number }
  /** What the user has said so far in the utterance still open; superseded by the next one. */
  | { type: 'partial-transcript'; text: string }
  | { type: 'transcript'; turn: number; text: string }
  /** An utterance that held no words: the partial caption, if any, is void. */
  | { type: 'no-speech' }
  | { type: 'reply-delta'; turn: number; delta: string }
  /** A sentence of the reply starts to play; its audio follows in binary frames tagged with `turn`. */
  | { type: 'sentence-start'; turn: number; text: string; durationMs: number }
  /** A sentence stopped playing: all of it, or `heardMs` of it when the reply was cut. */
  | { type: 'sentence-end'; turn: number; text: string; heardMs: number; interrupted: boolean }
  /** Speech over the reply: hold playback ('pause'), go on ('resume'), or drop what is queued ('cut'). */
  | { type: 'barge-in'; turn: number; action: 'pause' | 'resume' | 'cut' }
  | { type: 'turn-end'; turn: number; transcript: string; reply: string; spoken: string; interrupted: boolean }
  | { type: 'metrics'; turn: number; interrupted: boolean; ms: TurnStageTimes; compute: TurnCompute }
  /** The conversation was forgotten (nobody spoke for the idle-reset time): the page clears its captions. */
  | { type: 'forgotten'; reason: ForgetReason }
  /** The model called a tool of the operator's (`--tools`); the reply goes on once it returns. */
  | { type: 'tool-call'; turn: number; name: string; args: unknown }
  /** How that call ended (`ok`, `failed`, `timeout`, `cancelled`, …: see ToolCallStatus) and how long it took. */
  | { type: 'tool-result'; turn: number; name: string; status: ToolCallStatus; ms: number }
  | { type: 'error'; code: ErrorCode; message: string };

export type ErrorCode =
  /** Not JSON, an unknown type, or fields out of range. The message is dropped; the session goes on. */
  | 'bad-message'
  /** Over the size limit. Dropped; the session goes on. */
  | 'too-large'
  /** A binary frame that is not PCM as described in the README. Dropped. */
  | 'bad-audio'
  /** Every conversation slot is taken; the socket is closed. */
  | 'busy'
  /** Nothing arrived for too long; the socket is closed. */
  | 'idle'
  /** A turn failed inside the agent (an engine error). The session goes on. */
  | 'turn-failed'
  /** The conversation could not be set up; the socket is closed. */
  | 'internal';

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; reason: string };

/** Parses one JSON text message from a client; never throws. */
export function parseClientMessage(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = clientMessage.safeParse(value);
  if (parsed.success) return { ok: true, message: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
  return { ok: false, reason: `${issue?.message ?? 'invalid message'}${where}` };
}
