import type { ServerMessage } from '../server/protocol.js';
import type { VoiceServer } from '../server/voice-server.js';
import { latencyLine, toolCallLine } from './turn-report.js';

/**
 * What `earshot serve` prints: `plain` shows connections and each conversation's lines (prefixed with the
 * session number); `quiet` only the conversation; `json` one object per line, the protocol's own messages
 * tagged with their session (reply audio is not printed). What was said (transcripts, replies) is printed
 * only with `content` (see showsContent): otherwise states, metrics and connections.
 */
export type ServeLogMode = 'plain' | 'quiet' | 'json';

export class ServeLog {
  constructor(
    private readonly mode: ServeLogMode,
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly status: NodeJS.WritableStream = process.stderr,
    private readonly content = false,
  ) {}

  attach(server: VoiceServer): void {
    server.on('listening', ({ url, host, port }) => this.notice(`serving ${url} (Ctrl-C to stop)`, { event: 'listening', url, host, port }));
    server.on('session-open', ({ session, remote }) => {
      this.notice(`session ${session.id}: connected from ${remote}`, { event: 'session-open', session: session.id, remote });
      session.on('message', (m) => this.message(session.id, m));
    });
    server.on('session-close', ({ session, code, reason, closeMs }) =>
      this.notice(`session ${session}: closed (${code}${reason ? ` ${reason}` : ''}), freed in ${Math.round(closeMs)} ms`, {
        event: 'session-close',
        session,
        code,
        reason,
        closeMs: Math.round(closeMs),
      }),
    );
    server.on('refused', ({ remote, status, reason }) =>
      this.notice(`refused ${remote}: ${reason}`, { event: 'refused', remote, status, reason }),
    );
  }

  /** A message from the command itself (loading, closing). */
  notice(text: string, event: Record<string, unknown>): void {
    if (this.mode === 'json') this.out.write(JSON.stringify(event) + '\n');
    else if (this.mode === 'plain') this.status.write(`earshot: ${text}\n`);
  }

  private message(session: number, m: ServerMessage): void {
    if (this.mode === 'json') {
      const shown = this.content ? m : withoutContent(m);
      if (shown) this.out.write(JSON.stringify({ ...shown, session }) + '\n');
      return;
    }
    const line = this.lineFor(m);
    if (line !== undefined) this.out.write(`[${session}] ${line}\n`);
  }

  private lineFor(m: ServerMessage): string | undefined {
    switch (m.type) {
      case 'transcript':
        return this.content ? `you: ${m.text}` : undefined;
      case 'turn-end':
        return this.content && m.reply ? `earshot: ${m.reply}${m.interrupted ? ' [interrupted]' : ''}` : undefined;
      case 'forgotten':
        return this.mode === 'plain' ? `conversation forgotten (${m.reason})` : undefined;
      case 'metrics':
        return this.mode === 'plain' ? latencyLine(m) : undefined;
      case 'error':
        return this.mode === 'plain' ? `error (${m.code}): ${m.message}` : undefined;
      case 'tool-result':
        // The page's message carries no arguments or error text, so the line never holds them.
        return this.mode === 'plain' ? toolCallLine(m, false) : undefined;
      default:
        return undefined;
    }
  }
}

/** A protocol message with what was said taken out; undefined for a message that is nothing else (a partial, a delta). */
export function withoutContent(m: ServerMessage): Record<string, unknown> | undefined {
  switch (m.type) {
    case 'partial-transcript':
    case 'reply-delta':
      return undefined;
    case 'transcript':
      return { type: m.type, turn: m.turn };
    case 'sentence-start':
      return { type: m.type, turn: m.turn, durationMs: m.durationMs };
    case 'sentence-end':
      return { type: m.type, turn: m.turn, heardMs: m.heardMs, interrupted: m.interrupted };
    case 'turn-end':
      return { type: m.type, turn: m.turn, interrupted: m.interrupted };
    case 'tool-call':
      return { type: m.type, turn: m.turn, name: m.name };
    default:
      return m;
  }
}
