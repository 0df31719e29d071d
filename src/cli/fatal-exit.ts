/** How long the devices get to close before the process ends anyway: a call stuck in native code never returns. */
export const FATAL_CLOSE_GRACE_MS = 3000;

/** The one line the CLI ends with when the engines keep failing. */
export function fatalLine(message: string): string {
  return `earshot: ${message}; exiting so the service manager restarts earshot (if it keeps happening, check the models: npm run fetch-models -- --check)`;
}

/**
 * Ends the process with exit code 1 once `close` (the microphone's recorder, the speaker) has run, or after
 * FATAL_CLOSE_GRACE_MS. The agent's engines are not waited for: one of them may be stuck for good.
 */
export function exitAfterFatal(close: () => Promise<unknown>): void {
  setTimeout(() => process.exit(1), FATAL_CLOSE_GRACE_MS);
  void close()
    .catch(() => undefined)
    .finally(() => process.exit(1));
}
