import type { ChatSessionModelFunctions, GbnfJsonSchema } from 'node-llama-cpp';
import type { LlmFunction } from './llm-engine.js';

/**
 * node-llama-cpp's function table: it writes the functions into the system prompt in the chat template's own
 * syntax, constrains the call's arguments with a grammar built from `parameters`, and feeds each result back.
 */
export function toChatSessionFunctions(functions: readonly LlmFunction[]): ChatSessionModelFunctions {
  return Object.fromEntries(
    functions.map((f) => [
      f.name,
      { description: f.description, params: f.parameters as GbnfJsonSchema | undefined, handler: (params: unknown) => f.call(params) },
    ]),
  );
}
