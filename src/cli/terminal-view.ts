import type { Agent } from '../agent/agent.js';
import type { AgentState } from '../agent/events.js';
import type { AudioSourceEvents } from '../audio/devices/audio-source.js';
import type { TypedEmitter } from '../util/typed-emitter.js';
import type { SessionMetrics } from '../agent/session-metrics.js';
import { sessionJsonLine, sessionSummaryTable } from './session-summary.js';
import { latencyLine, metricsJsonLine, toolCallLine } from './turn-report.js';

/**
 * How the live conversation is shown: `tty` redraws a status line with a level meter; `plain` prints the
 * same lines without redrawing (a pipe or a log file); `quiet` prints only what was said; `json` prints one
 * JSON object per event and nothing else.
 */
export type ViewMode = 'tty' | 'plain' | 'quiet' | 'json';

export interface TerminalViewOptions {
  mode: ViewMode;
  /** Where conversation lines (and JSON events) go. Default: process.stdout. */
  out?: NodeJS.WritableStream;
  /** Where the status line and notices go. Default: process.stderr. */
  status?: NodeJS.WritableStream;
  /** Least time between redraws of the status line, ms. Default: 80. */
  redrawMs?: number;
  /**
   * Whether what was said (transcripts, partials, replies, tool arguments and results) is shown. Without it
   * the view shows states and turn metrics only: a log's worth. Default: false (see showsContent).
   */
  content?: boolean;
}

const STATE_LABEL: Record<AgentState, string> = {
  idle: 'idle',
  listening: 'listening',
  'user-speaking': 'hearing you',
  thinking: 'thinking',
  speaking: 'speaking',
};

/** Level meter width in cells, and the range it shows (dBFS). */
const METER_CELLS = 12;
const METER_FLOOR_DB = -60;
/** The end of a partial transcript that fits on the status line beside the meter. */
const PARTIAL_CHARS = 48;

const tail = (text: string, max: number) => (text.length <= max ? text : `…${text.slice(-(max - 1))}`);

/**
 * The live mode's screen. It only listens: to the agent's events, to the microphone's data, and to notices from
 * the command (devices lost and back among them); it never drives anything.
 */
export class TerminalView {
  private readonly mode: ViewMode;
  private readonly out: NodeJS.WritableStream;
  private readonly status: NodeJS.WritableStream;
  private readonly redrawMs: number;
  private readonly content: boolean;
  private state: AgentState = 'idle';
  private levelDb = METER_FLOOR_DB;
  private statusShown = false;
  private lastDraw = 0;
  /** The reply line being streamed (its prefix is printed with the first delta). */
  private replyOpen = false;
  private notice = '';
  /** Devices down now, each with its status-line notice ("microphone lost (...); retrying in 2.0 s"). */
  private readonly devicesDown = new Map<string, string>();
  /** What the user is saying, shown on the status line until the final transcript. */
  private partial = '';
  private lastStatus = '';

  constructor(options: TerminalViewOptions) {
    this.mode = options.mode;
    this.out = options.out ?? process.stdout;
    this.status = options.status ?? process.stderr;
    this.redrawMs = options.redrawMs ?? 80;
    this.content = options.content ?? false;
  }

  attachAgent(agent: Agent): void {
    const content = this.content;
    agent.on('state', ({ state }) => {
      this.state = state;
      this.json({ event: 'state', state });
      this.draw(true);
    });
    agent.on('speech-start', ({ atMs }) => this.json({ event: 'speech-start', atMs }));
    agent.on('speech-end', (e) => this.json({ event: 'speech-end', ...e }));
    agent.on('partial-transcript', ({ text }) => {
      if (!content) return;
      this.json({ event: 'partial-transcript', text });
      this.partial = text;
      this.draw(true);
    });
    agent.on('transcript', ({ turn, text }) => {
      this.partial = '';
      this.json({ event: 'transcript', turn, ...(content ? { text } : {}) });
      if (content) this.line(`you: ${text}`);
    });
    agent.on('greeting', ({ turn, text }) => {
      this.json({ event: 'greeting', turn, text });
      if (content) this.line(`earshot: ${text}`);
    });
    agent.on('reply-delta', ({ turn, delta }) => {
      if (!content) return;
      this.json({ event: 'reply-delta', turn, delta });
      if (this.mode === 'json') return;
      if (!this.replyOpen) {
        this.clearStatus();
        this.out.write('earshot: ');
        this.replyOpen = true;
      }
      this.out.write(delta);
    });
    agent.on('reply-sentence', ({ turn, text }) => {
      if (content) this.json({ event: 'reply-sentence', turn, text });
    });
    agent.on('audio', ({ turn, chunk, text }) =>
      this.json({ event: 'audio', turn, ...(content ? { text } : {}), samples: chunk.samples.length, sampleRate: chunk.sampleRate }),
    );
    agent.on('turn-end', (r) => {
      this.json(content ? { event: 'turn-end', ...r } : { event: 'turn-end', turn: r.turn, interrupted: r.interrupted });
      if (this.mode === 'json' || !content) return;
      if (this.replyOpen) {
        this.out.write(r.interrupted ? ' [interrupted]\n' : '\n');
        this.replyOpen = false;
      } else if (r.reply) {
        this.line(`earshot: ${r.reply}`);
      }
    });
    agent.on('metrics', (m) => {
      if (this.mode === 'json') {
        this.out.write(`{"event":"metrics",${metricsJsonLine(m, content).slice(1)}\n`);
        return;
      }
      if (this.mode !== 'quiet') this.line(latencyLine(m));
    });
    agent.on('no-speech', (e) => {
      this.partial = '';
      this.json({ event: 'no-speech', startMs: e.startMs, endMs: e.endMs, ...(content ? { text: e.text } : {}) });
    });
    agent.on('barge-in', ({ turn, action }) => this.json({ event: 'barge-in', turn, action }));
    agent.on('backchannel', ({ turn, text }) => this.json({ event: 'backchannel', turn, ...(content ? { text } : {}) }));
    agent.on('tool-call', ({ turn, name, args }) => this.json({ event: 'tool-call', turn, name, ...(content ? { args } : {}) }));
    agent.on('tool-result', (e) => {
      const { turn, name, status, ms } = e;
      this.json(content ? { event: 'tool-result', ...e } : { event: 'tool-result', turn, name, status, ms });
      if (this.mode !== 'quiet') this.line(toolCallLine(e, content));
    });
    agent.on('mask', ({ turn, action, record }) => this.json({ event: 'mask', turn, action, ...record }));
    agent.on('forgotten', ({ reason }) => {
      this.partial = '';
      this.json({ event: 'forgotten', reason });
      if (this.mode === 'json') return;
      // The screen is what the next visitor sees: the last conversation leaves it, scrollback included.
      if (this.mode === 'tty' && content && (this.out as Partial<NodeJS.WriteStream>).isTTY) {
        this.clearStatus();
        this.out.write('\x1b[2J\x1b[3J\x1b[H');
        this.replyOpen = false;
      }
      this.noticeLine(reason === 'idle' ? 'nobody spoke for a while: the conversation was forgotten' : 'the conversation was forgotten');
    });
    agent.on('error', ({ error, turn }) => {
      this.json({ event: 'error', turn, message: error.message });
      this.noticeLine(`error: ${error.message.split('\n')[0]}`);
    });
    agent.on('engine-failure', (e) => {
      this.json({ event: 'engine-failure', ...e });
      this.noticeLine(`${e.message}; the turn was dropped (engine failure ${e.failures} in a row)`);
    });
    agent.on('engine-reloaded', (e) => {
      this.json({ event: 'engine-reloaded', ...e });
      this.noticeLine(`${e.engine} engine reloaded in ${e.ms} ms`);
    });
  }

  /** The last line before the process exits non-zero: said in every mode, quiet included. */
  fatal(line: string, event: Record<string, unknown>): void {
    this.json(event);
    this.clearStatus();
    if (this.replyOpen) this.out.write('\n');
    this.status.write(`${line}\n`);
  }

  attachMicrophone(mic: TypedEmitter<AudioSourceEvents>): void {
    mic.on('data', ({ samples }) => {
      if (this.mode !== 'tty') return;
      let sum = 0;
      for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
      const rms = Math.sqrt(sum / Math.max(1, samples.length)) / 32768;
      const db = rms > 0 ? 20 * Math.log10(rms) : METER_FLOOR_DB;
      // Fast attack, slow release: a meter that follows the voice without flickering.
      this.levelDb = db > this.levelDb ? db : Math.max(db, this.levelDb - 3);
      this.draw(false);
    });
  }

  /**
   * The microphone stopped (the command calls this once it knows whether words were cut off). The first loss
   * of an outage is a line; the retries after it only update the status line.
   */
  microphoneLost(reason: string, retryInMs: number, droppedSpeech: boolean): void {
    const dropped = droppedSpeech ? '; what you were saying was cut off and dropped, say it again once it is back' : '';
    this.deviceLost('microphone', reason, retryInMs, dropped, { droppedSpeech });
  }

  microphoneRestored(downMs: number): void {
    this.deviceRestored('microphone', downMs);
  }

  /** The output device failed; replies go on without sound until it is back. */
  outputLost(reason: string, retryInMs: number): void {
    this.deviceLost('audio output', reason, retryInMs, '; replies go on without sound until it is back');
  }

  outputRestored(downMs: number): void {
    this.deviceRestored('audio output', downMs);
  }

  private deviceLost(device: 'microphone' | 'audio output', reason: string, retryInMs: number, tail: string, extra: Record<string, unknown> = {}): void {
    const event = device === 'microphone' ? 'microphone-lost' : 'output-lost';
    this.json({ event, reason, retryInMs, ...extra });
    const known = this.devicesDown.has(device);
    this.devicesDown.set(device, `${device} lost (${reason}); retrying in ${(retryInMs / 1000).toFixed(1)} s`);
    this.notice = [...this.devicesDown.values()].join('; ');
    if (known) {
      this.draw(true);
      return;
    }
    this.noticeLine(`${device} lost (${reason})${tail}`);
  }

  private deviceRestored(device: 'microphone' | 'audio output', downMs: number): void {
    this.json({ event: device === 'microphone' ? 'microphone-restored' : 'output-restored', downMs });
    this.devicesDown.delete(device);
    this.notice = [...this.devicesDown.values()].join('; ');
    this.noticeLine(`${device} back after ${(downMs / 1000).toFixed(1)} s`);
  }

  /** A one-off message from the command (ready, output device failure, goodbye). */
  info(message: string, event?: Record<string, unknown>): void {
    if (this.mode === 'json') {
      if (event) this.json(event);
      return;
    }
    if (this.mode === 'quiet') return;
    this.noticeLine(message);
  }

  /** The session's numbers at the end: a table, or the final 'session-metrics' event with --json. */
  summary(metrics: SessionMetrics): void {
    if (this.mode === 'json') this.out.write(sessionJsonLine(metrics) + '\n');
    else if (this.mode !== 'quiet') this.line(sessionSummaryTable(metrics));
  }

  /** Clears the status line before the process exits. */
  close(): void {
    this.clearStatus();
  }

  private json(event: Record<string, unknown>): void {
    if (this.mode === 'json') this.out.write(JSON.stringify(event) + '\n');
  }

  private line(text: string): void {
    if (this.mode === 'json') return;
    this.clearStatus();
    if (this.replyOpen) {
      this.out.write('\n');
      this.replyOpen = false;
    }
    this.out.write(text + '\n');
    this.draw(true);
  }

  private noticeLine(text: string): void {
    if (this.mode === 'json' || this.mode === 'quiet') return;
    this.clearStatus();
    if (this.replyOpen) {
      // The streamed reply line ends here; the rest of the reply continues on a fresh line.
      this.out.write('\n');
      this.replyOpen = false;
    }
    this.status.write(`earshot: ${text}\n`);
    this.draw(true);
  }

  private clearStatus(): void {
    if (this.mode === 'tty' && this.statusShown) {
      this.status.write('\r\x1b[2K');
      this.statusShown = false;
    }
  }

  private draw(force: boolean): void {
    // A reply being streamed owns the line; the status comes back once it ends.
    if (this.mode !== 'tty' || this.replyOpen) return;
    const now = performance.now();
    if (!force && now - this.lastDraw < this.redrawMs) return;
    this.lastDraw = now;
    const filled = Math.round(((Math.max(METER_FLOOR_DB, this.levelDb) - METER_FLOOR_DB) / -METER_FLOOR_DB) * METER_CELLS);
    const meter = '█'.repeat(filled) + '·'.repeat(METER_CELLS - filled);
    const label = STATE_LABEL[this.state].padEnd(11);
    const extra = this.notice ? `  ${this.notice}` : this.partial ? `  "${tail(this.partial, PARTIAL_CHARS)}…"` : '  (Ctrl-C to quit)';
    const text = `● ${label} ${meter}${extra}`;
    // An unchanged line is not rewritten: a quiet room would otherwise print a line every redraw.
    if (this.statusShown && text === this.lastStatus) return;
    this.status.write(`\r\x1b[2K${text}`);
    this.lastStatus = text;
    this.statusShown = true;
  }
}
