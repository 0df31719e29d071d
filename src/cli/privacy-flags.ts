import type { Command } from 'commander';
import type { AgentOptions } from '../agent/agent-options.js';
import { EarshotError } from '../errors.js';

/** Flags for what a conversation leaves behind: when it is forgotten, and whether its words reach the logs. */
export interface PrivacyFlags {
  /** Seconds without speech before the conversation is forgotten; 0 never. */
  idleReset?: number;
  greeting?: string;
  logContent?: boolean;
}

/**
 * The idle reset `start` and `serve` use unless told otherwise, s: a minute with nobody speaking is a visitor
 * who has left (a pause to think is far shorter), and the next one should not meet their conversation.
 */
export const DEFAULT_IDLE_RESET_S = 60;

export function addIdleResetFlags(cmd: Command): Command {
  return cmd
    .option(
      '--idle-reset <seconds>',
      `forget the conversation (history, turn in progress, the model's context) after this long with nobody speaking; 0: never`,
      parseSeconds,
      DEFAULT_IDLE_RESET_S,
    )
    .option('--greeting <text>', 'said to each new visitor (the first, and the first after an idle reset) before the answer to their first words');
}

export function addLogContentFlag(cmd: Command): Command {
  return cmd.option(
    '--log-content',
    'let transcripts and replies into logs: --json, a pipe or a file, --metrics-json (by default they carry turn metrics only; a terminal still shows the conversation)',
  );
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new EarshotError('BAD_OPTION', `--idle-reset takes seconds, 0 or more (0: never), got "${value}"`);
  }
  return n;
}

/** The agent options these flags give. */
export function idleResetOptions(flags: PrivacyFlags): Pick<AgentOptions, 'idleReset'> {
  return { idleReset: { afterMs: Math.round((flags.idleReset ?? 0) * 1000), greeting: flags.greeting ?? '' } };
}

/**
 * Whether what was said (transcripts, replies, tool arguments) may be written to `stream`: always with
 * --log-content; otherwise only to a terminal, where the conversation on screen is the product itself, not a
 * log. JSON output is for logs and scripts, so it carries metrics only unless asked.
 */
export function showsContent(flags: PrivacyFlags & { json?: boolean }, stream: NodeJS.WritableStream): boolean {
  if (flags.logContent) return true;
  return !flags.json && (stream as Partial<NodeJS.WriteStream>).isTTY === true;
}
