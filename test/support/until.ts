/**
 * Polls `check` (sync or async) until it gives a value other than undefined or false, and returns that value;
 * throws "timed out waiting for <what>" after `timeoutMs`. `what` may be a function, to describe the state at
 * the moment of the timeout (a process's output so far).
 */
export async function until<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  what: string | (() => string),
  everyMs = 20,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
