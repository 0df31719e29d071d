import { vi } from 'vitest';

/**
 * Runs vi's fake clock forward `stepMs` at a time, letting the promises each step releases run, until `ready()`
 * holds. Throws when it still does not after `limitMs` of fake time, so a test that waits for something that
 * never happens fails with a reason instead of hanging.
 */
export async function advanceUntil(ready: () => boolean, limitMs = 60_000, stepMs = 1): Promise<void> {
  for (let waited = 0; !ready(); waited += stepMs) {
    if (waited >= limitMs) throw new Error(`still waiting after ${limitMs} ms of fake time`);
    await vi.advanceTimersByTimeAsync(stepMs);
  }
}

/** Runs the fake clock until `promise` settles, and returns (or throws) what it settled with. */
export async function settle<T>(promise: Promise<T>, limitMs = 60_000): Promise<T> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await advanceUntil(() => done, limitMs, 5);
  return promise;
}
