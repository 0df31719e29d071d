import type { ZodType } from 'zod';

/** A JSON schema (an object schema for a tool's arguments). */
export type JsonSchema = { readonly [key: string]: unknown };

/** What a running tool gets besides its arguments. */
export interface ToolContext {
  /**
   * Aborted when the turn is cut (barge-in, interrupt(), stop()) or when the tool's time is up. A handler
   * that ignores it is abandoned: its result is no longer waited for.
   */
  signal: AbortSignal;
}

/**
 * A function the model may call mid-conversation. The handler returns what the model is shown (any
 * JSON-serialisable value), or `{ say, result }` to have `say` spoken at once while the model goes on with
 * `result`.
 */
export interface Tool<Args = unknown> {
  /** Letters, digits and underscores, starting with a letter or underscore; unique among the agent's tools. */
  name: string;
  /** What the tool does and when to use it: the model reads this. */
  description: string;
  /** The arguments: a JSON schema of an object, or a zod schema. Default: none (the tool takes no arguments). */
  parameters?: JsonSchema | ZodType<Args>;
  handler(args: Args, context: ToolContext): unknown;
  /** How long the handler may run before it is aborted and the model is told it timed out, ms. Default: ToolCallOptions.timeoutMs. */
  timeoutMs?: number;
}

/** A handler's answer that also speaks: `say` is voiced at once, the model sees `result`. */
export interface SpokenToolResult {
  say: string;
  result?: unknown;
}

/** Types a tool's handler arguments from its zod schema; the value is returned as it is. */
export function defineTool<Args>(tool: Tool<Args>): Tool<Args> {
  return tool;
}

/** True for `{ say: string }` or `{ say: string, result }` and nothing else, so ordinary data is never spoken. */
export function isSpokenToolResult(value: unknown): value is SpokenToolResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return typeof (value as { say?: unknown }).say === 'string' && keys.every((k) => k === 'say' || k === 'result');
}
