/**
 * Pause and resume for a sink's playback loop: while paused, the loop waits in wait() until resume() or the
 * turn's abort, whichever comes first.
 */
export class PauseGate {
  private held = false;
  private waiters: (() => void)[] = [];

  get paused(): boolean {
    return this.held;
  }

  /** Returns false when it was already paused. */
  pause(): boolean {
    if (this.held) return false;
    this.held = true;
    return true;
  }

  /** Returns false when it was not paused. */
  resume(): boolean {
    if (!this.held) return false;
    this.held = false;
    for (const w of this.waiters.splice(0)) w();
    return true;
  }

  /** Resolves when playback may go on: at once when not paused, else on resume() or when `signal` aborts. */
  wait(signal: AbortSignal): Promise<void> {
    if (!this.held || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
