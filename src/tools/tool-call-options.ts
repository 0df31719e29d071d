/** How the agent runs the tools the model calls. */
export interface ToolCallOptions {
  /** Time a handler may take before it is aborted and the model is told it timed out, ms (a tool may set its own). Default: 5000. */
  timeoutMs: number;
  /**
   * Calls one reply may make; later calls are not run, and the model is told to answer with what it has.
   * Default: 4.
   */
  maxCallsPerTurn: number;
}

export const defaultToolCallOptions: Readonly<ToolCallOptions> = Object.freeze({
  timeoutMs: 5000,
  maxCallsPerTurn: 4,
});
