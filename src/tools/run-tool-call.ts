import { isSpokenToolResult } from './tool.js';
import type { ToolRegistry } from './tool-registry.js';
import { firstLine } from '../errors.js';

/** How a call ended. Everything but 'ok' is reported to the model as `{ error }`. */
export type ToolCallStatus = 'ok' | 'failed' | 'timeout' | 'cancelled' | 'invalid-arguments' | 'unknown-tool' | 'over-limit';

export interface ToolCallOutcome {
  name: string;
  args: unknown;
  status: ToolCallStatus;
  /** What the model is shown: the handler's result, or `{ error }` saying what went wrong. */
  forModel: unknown;
  /** Words the tool asked to have spoken at once. */
  say?: string;
  /** What went wrong, one line (absent when ok). */
  error?: string;
  /** Wall time of the handler, ms (0 when it never ran). */
  ms: number;
}

export interface RunToolCallOptions {
  /** The turn's signal: aborting it aborts the handler's signal and abandons the call. */
  signal: AbortSignal;
  /** Used when the tool sets no timeoutMs of its own. */
  timeoutMs: number;
}

/**
 * Runs one call the model made: looks the tool up, checks the arguments against its schema, runs the handler
 * with a signal that aborts on the turn's abort or the timeout, and turns every failure into a result the
 * model can read. Never throws.
 */
export async function runToolCall(registry: ToolRegistry, name: string, args: unknown, options: RunToolCallOptions): Promise<ToolCallOutcome> {
  const fail = (status: ToolCallStatus, error: string, ms = 0): ToolCallOutcome => ({ name, args, status, forModel: errorForModel(error), error, ms });
  const entry = registry.get(name);
  if (!entry) return fail('unknown-tool', `there is no tool named "${name}" (the tools are: ${registry.names.join(', ') || 'none'})`);
  let value: unknown = args ?? {};
  if (entry.schema) {
    const checked = entry.schema.validate(args ?? {});
    if (!checked.ok) return fail('invalid-arguments', `the arguments do not fit ${name}: ${checked.reason}`);
    value = checked.value;
  }
  if (options.signal.aborted) return fail('cancelled', `${name} was cancelled`);

  const timeoutMs = entry.tool.timeoutMs ?? options.timeoutMs;
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error('timeout')), timeoutMs);
  const signal = AbortSignal.any([options.signal, timeout.signal]);
  const started = performance.now();
  try {
    const result = await untilAborted(() => entry.tool.handler(value, { signal }), signal);
    const ms = performance.now() - started;
    if (options.signal.aborted) return fail('cancelled', `${name} was cancelled`, ms);
    if (timeout.signal.aborted) return fail('timeout', `${name} did not answer within ${timeoutMs} ms`, ms);
    const spoken = isSpokenToolResult(result) ? result : undefined;
    const forModel = spoken ? spoken.result : result;
    if (!isJson(forModel)) return fail('failed', `${name} returned a value that cannot be written as JSON`, ms);
    return { name, args: value, status: 'ok', forModel, say: spoken?.say.trim() || undefined, ms };
  } catch (e) {
    const ms = performance.now() - started;
    if (options.signal.aborted) return fail('cancelled', `${name} was cancelled`, ms);
    if (timeout.signal.aborted) return fail('timeout', `${name} did not answer within ${timeoutMs} ms`, ms);
    return fail('failed', `${name} failed: ${firstLine(e)}`, ms);
  } finally {
    clearTimeout(timer);
  }
}

/** The result a failed call shows the model, worded so that it tells the user instead of retrying blindly. */
export function errorForModel(error: string): { error: string } {
  return { error: `${error}. Tell the user briefly that this did not work.` };
}

/** The handler's value, or a rejection as soon as `signal` aborts: a handler that ignores its signal is not waited for. */
function untilAborted(run: () => unknown, signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve()
      .then(run)
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function isJson(value: unknown): boolean {
  if (value === undefined) return true;
  try {
    JSON.stringify(value);
    return true;
  } catch {
    return false;
  }
}
