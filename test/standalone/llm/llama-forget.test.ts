import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLlamaEngine, type LlamaEngine } from '../../../src/llm/llama-engine.js';
import type { ChatTurn } from '../../../src/llm/llm-engine.js';
import { SCRIPTED_REPLY, testModels } from '../../support/test-models.js';

let engine: LlamaEngine;

beforeAll(async () => {
  // One thread: the tiny model is about behaviour here, and two spinning threads fight other test files.
  engine = await loadLlamaEngine({ modelPath: testModels.llm, gpu: 'off', threads: 1, temperature: 0 });
});

afterAll(async () => {
  await engine?.dispose();
});

const VISITOR = 'My name is Zebulon Quartermaine and my card number is 4417.';

describe('LlamaEngine.forget()', () => {
  it('empties the context sequence: none of the previous visitor\'s words, nor the reply, remain', async () => {
    const history: ChatTurn[] = [
      { role: 'user', text: VISITOR },
      { role: 'assistant', text: SCRIPTED_REPLY },
      { role: 'user', text: 'Where is the Vermeer room?' },
    ];
    const result = await engine.generate('Be brief.', history);
    expect(result.text).toBe(SCRIPTED_REPLY);
    // Before: the prompt cache holds the whole conversation, so the check below can see words when they are there.
    const before = engine.contextText();
    expect(before).toContain('Zebulon Quartermaine');
    expect(before).toContain('Vermeer');
    expect(before).toContain('Eiffel Tower');

    await engine.forget();
    expect(engine.contextText()).toBe('');
  });

  it('answers the next visitor from nothing: the context then holds only their words', async () => {
    await engine.generate('Be brief.', [{ role: 'user', text: `${VISITOR} Where is the Vermeer room?` }]);
    await engine.forget();
    const result = await engine.generate('Be brief.', [{ role: 'user', text: 'When do you close?' }]);
    expect(result.text).toBe(SCRIPTED_REPLY);
    const after = engine.contextText();
    expect(after).toContain('When do you close?');
    expect(after).not.toContain('Zebulon');
    expect(after).not.toContain('Vermeer');
    // Nothing was reused: every prompt token was evaluated again.
    expect(result.prefillTokens).toBeGreaterThan('When do you close?'.length);
  });

  it('waits for a generation in progress, then forgets what it wrote', async () => {
    const controller = new AbortController();
    const running = engine.generate('', [{ role: 'user', text: VISITOR }], { signal: controller.signal });
    const forgetting = engine.forget();
    controller.abort();
    await running;
    await forgetting;
    expect(engine.contextText()).toBe('');
  });
});
