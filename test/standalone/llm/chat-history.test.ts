import { describe, expect, it } from 'vitest';
import { INTERRUPTED_MARK, toLlamaChatHistory } from '../../../src/llm/chat-history.js';

describe('the history the model sees', () => {
  it('keeps a cut reply only up to what was heard, and marks it as interrupted', () => {
    const items = toLlamaChatHistory('Be brief.', [
      { role: 'user', text: 'Tell me about Paris.' },
      { role: 'assistant', text: 'Paris is the capital of France. It is', interrupted: true },
      { role: 'user', text: 'And Berlin?' },
      { role: 'assistant', text: 'Berlin is the capital of Germany.' },
    ]);
    expect(items).toEqual([
      { type: 'system', text: 'Be brief.' },
      { type: 'user', text: 'Tell me about Paris.' },
      { type: 'model', response: [`Paris is the capital of France. It is${INTERRUPTED_MARK}`] },
      { type: 'user', text: 'And Berlin?' },
      { type: 'model', response: ['Berlin is the capital of Germany.'] },
    ]);
  });
});
