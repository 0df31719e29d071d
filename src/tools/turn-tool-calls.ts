import type { LlmFunction } from '../llm/llm-engine.js';
import { errorForModel, runToolCall, type ToolCallOutcome } from './run-tool-call.js';
import type { ToolCallOptions } from './tool-call-options.js';
import type { ToolRegistry } from './tool-registry.js';

/** One call as the turn's metrics keep it. */
export interface ToolCallRecord {
  name: string;
  status: ToolCallOutcome['status'];
  /** Handler wall time, ms. */
  ms: number;
}

export interface TurnToolCallEvents {
  /** The model called `name`; the handler is about to run. */
  call(name: string, args: unknown): void;
  /** The call ended (in any way); `outcome.forModel` is what the model is shown next. */
  result(outcome: ToolCallOutcome): void;
}

/**
 * The tools as one turn offers them to the model: every call runs with the turn's signal and the timeout,
 * is reported before and after, counts against the per-reply limit, and may speak at once.
 */
export class TurnToolCalls {
  readonly records: ToolCallRecord[] = [];

  constructor(
    private readonly registry: ToolRegistry,
    private readonly options: ToolCallOptions,
    private readonly signal: AbortSignal,
    private readonly events: TurnToolCallEvents,
  ) {}

  /** The functions for one generation; `speak` voices what a tool asks to have said. */
  functions(speak: (text: string) => void): LlmFunction[] {
    return [...this.registry].map(({ tool, schema }) => ({
      name: tool.name,
      description: tool.description,
      parameters: schema?.grammar,
      call: (args: unknown) => this.call(tool.name, args, speak),
    }));
  }

  private async call(name: string, args: unknown, speak: (text: string) => void): Promise<unknown> {
    this.events.call(name, args);
    const outcome: ToolCallOutcome =
      this.records.length >= this.options.maxCallsPerTurn
        ? overLimit(name, args, this.options.maxCallsPerTurn)
        : await runToolCall(this.registry, name, args, { signal: this.signal, timeoutMs: this.options.timeoutMs });
    this.records.push({ name, status: outcome.status, ms: outcome.ms });
    this.events.result(outcome);
    if (outcome.say && !this.signal.aborted) speak(outcome.say);
    return outcome.forModel;
  }
}

function overLimit(name: string, args: unknown, limit: number): ToolCallOutcome {
  const error = `no more tool calls in this reply (the limit is ${limit}); answer with what you have`;
  return { name, args, status: 'over-limit', forModel: errorForModel(error), error, ms: 0 };
}
