import { abortError } from '../errors.js';

/**
 * Runs async tasks one at a time, in the order they were given. Native contexts (a whisper.cpp context,
 * a llama.cpp sequence, espeak-ng's phonemizer, an ONNX session with carried state, an ALSA handle) must never
 * see two calls at once, and callers must be free to give up waiting without breaking that rule.
 *
 * A task given a `signal` is skipped if the signal aborts before its turn, and its promise rejects as soon as
 * the signal aborts even while it runs; the runner itself still waits for the task to return before it starts
 * the next one, so native work is never overlapped. A task without a signal is always run to completion.
 */
export class SerialRunner {
  private tail: Promise<void> = Promise.resolve();

  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const started = this.tail.then(() => (signal?.aborted ? Promise.reject(abortError(signal)) : task()));
    // The chain never rejects: each task reports its own outcome through the promise returned here.
    this.tail = started.then(
      () => undefined,
      () => undefined,
    );
    return signal ? settleOnAbort(started, signal) : started;
  }

  /** Resolves once every task given so far has returned. */
  idle(): Promise<void> {
    return this.tail;
  }
}

/** `work`'s outcome, or an abort error as soon as `signal` aborts, whichever comes first. */
export function settleOnAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
