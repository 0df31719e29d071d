export interface ChatTurn {
  role: 'user' | 'assistant';
  text: string;
  /** Set on an assistant turn that was cut off; `text` then holds only what the user heard. */
  interrupted?: boolean;
}

/** Tokens a reply may run to when the caller names no limit: a spoken answer is far shorter. */
export const DEFAULT_MAX_TOKENS = 400;

export interface GenerateOptions {
  /** Aborting stops generation; the promise then resolves with the partial text and `aborted: true`. */
  signal?: AbortSignal;
  /** Called with each new piece of reply text as soon as the model produces it. */
  onTextDelta?: (delta: string) => void;
  /** Upper bound on generated tokens. Default: DEFAULT_MAX_TOKENS (400). */
  maxTokens?: number;
  /**
   * Functions the model may call while it replies, in its chat template's function-calling syntax; each
   * result goes back to the model, which then goes on with the reply. Default: none.
   */
  functions?: readonly LlmFunction[];
}

/** A function offered to the model for one generation. */
export interface LlmFunction {
  name: string;
  description: string;
  /** JSON schema of the arguments, limited to what a grammar can enforce; absent when there are none. */
  parameters?: Readonly<Record<string, unknown>>;
  /** Runs a call; resolves with what the model is shown. Must not reject: failures are results too. */
  call(args: unknown): Promise<unknown>;
}

export interface GenerateResult {
  text: string;
  aborted: boolean;
  /** Generated tokens (for tokens/s). */
  tokens: number;
  /**
   * Prompt tokens the model had to evaluate for this call: what its cache did not already hold (the new user
   * message and the template around it, when the history before it is unchanged). Absent when unknown.
   */
  prefillTokens?: number;
}

/**
 * A local chat model. The caller owns the conversation: it passes the whole history (ending with the new
 * user turn) on every call, so an interrupted reply can be cut to what was heard before the next turn.
 */
export interface LlmEngine {
  /** Where it computes, for the startup line: 'cpu', or the GPU backend in use (e.g. 'cuda'). Default: unknown. */
  readonly backend?: string;
  generate(systemPrompt: string, history: readonly ChatTurn[], options?: GenerateOptions): Promise<GenerateResult>;
  /**
   * Forgets every conversation it was given: whatever the engine keeps between calls (a chat session, the
   * prompt cache's tokens) no longer holds their words. Runs after the generations already queued; the next
   * generate() starts from nothing. Optional: an engine that keeps nothing between calls needs none.
   */
  forget?(): Promise<void>;
  dispose(): Promise<void>;
}
