import type { ChatHistoryItem } from 'node-llama-cpp';
import type { ChatTurn } from './llm-engine.js';

/**
 * node-llama-cpp's chat history for everything before the prompt: the system prompt (when not empty) and
 * the earlier turns as given, so an interrupted assistant turn stays cut to what the user heard.
 */
export function toLlamaChatHistory(systemPrompt: string, earlierTurns: readonly ChatTurn[]): ChatHistoryItem[] {
  const items: ChatHistoryItem[] = [];
  if (systemPrompt !== '') items.push({ type: 'system', text: systemPrompt });
  for (const turn of earlierTurns) {
    items.push(turn.role === 'user' ? { type: 'user', text: turn.text } : { type: 'model', response: [turn.text] });
  }
  return items;
}
