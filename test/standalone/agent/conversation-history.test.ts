import { describe, expect, it } from 'vitest';
import { ConversationHistory } from '../../../src/agent/conversation-history.js';

describe('ConversationHistory', () => {
  it('keeps user and assistant messages in order, marking only interrupted replies', () => {
    const h = new ConversationHistory(10);
    h.addUser('What is the capital of France?');
    h.addAssistant('Paris.', false);
    h.addUser('And of Germany?');
    h.addAssistant('Berlin is', true);
    expect(h.messages).toEqual([
      { role: 'user', text: 'What is the capital of France?' },
      { role: 'assistant', text: 'Paris.' },
      { role: 'user', text: 'And of Germany?' },
      { role: 'assistant', text: 'Berlin is', interrupted: true },
    ]);
  });

  it('drops an empty reply that was not interrupted, keeps an interrupted one', () => {
    const h = new ConversationHistory(10);
    h.addUser('Hi');
    h.addAssistant('  ', false);
    expect(h.messages).toHaveLength(1);
    h.addAssistant('', true);
    expect(h.messages[1]).toEqual({ role: 'assistant', text: '', interrupted: true });
  });

  it('keeps the newest maxTurns messages', () => {
    const h = new ConversationHistory(4);
    for (let i = 1; i <= 3; i++) {
      h.addUser(`q${i}`);
      h.addAssistant(`a${i}`, false);
    }
    expect(h.messages.map((m) => m.text)).toEqual(['q2', 'a2', 'q3', 'a3']);
  });

  it('never starts with an assistant message after trimming', () => {
    const h = new ConversationHistory(4);
    h.addUser('q1');
    h.addAssistant('a1', false);
    h.addUser('q2');
    h.addAssistant('a2', false);
    h.addUser('q3');
    // The newest four would begin with a2: it goes too.
    expect(h.messages.map((m) => m.text)).toEqual(['q2', 'a2', 'q3']);
    expect(h.messages[0].role).toBe('user');
  });

  it('with back-to-back user messages, trims to exactly maxTurns when that starts with a user', () => {
    const h = new ConversationHistory(3);
    for (const q of ['q1', 'q2', 'q3', 'q4']) h.addUser(q);
    expect(h.messages.map((m) => m.text)).toEqual(['q2', 'q3', 'q4']);
  });

  it('takeLastUser() takes back the last message when it is the user\u2019s', () => {
    const h = new ConversationHistory(10);
    h.addUser('What is');
    expect(h.takeLastUser()).toBe('What is');
    expect(h.messages).toEqual([]);
  });

  it('takeLastUser() leaves the history alone when the last message is the assistant\u2019s, or there is none', () => {
    const h = new ConversationHistory(10);
    expect(h.takeLastUser()).toBeUndefined();
    h.addUser('Hi');
    h.addAssistant('Hello.', false);
    expect(h.takeLastUser()).toBeUndefined();
    expect(h.messages).toHaveLength(2);
  });
});
