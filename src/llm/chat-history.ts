import type { ChatHistoryItem } from 'node-llama-cpp';
import type { ChatTurn } from './llm-engine.js';

/** Ends an assistant turn the user cut off, so the model does not assume its unheard rest was said. */
export const INTERRUPTED_MARK = ' [interrupted by the user]';

/**
 * node-llama-cpp's chat history for everything before the prompt: the system prompt (when not empty) and
 * the earlier turns as given — an interrupted assistant turn cut to what the user heard, and marked so.
 */
export function toLlamaChatHistory(systemPrompt: string, earlierTurns: readonly ChatTurn[]): ChatHistoryItem[] {
  const items: ChatHistoryItem[] = [];
  if (systemPrompt !== '') items.push({ type: 'system', text: systemPrompt });
  for (const turn of earlierTurns) {
    if (turn.role === 'user') items.push({ type: 'user', text: turn.text });
    else items.push({ type: 'model', response: [turn.interrupted ? `${turn.text}${INTERRUPTED_MARK}` : turn.text] });
  }
  return items;
}
