import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeScriptedLlama } from '../../fixtures/models/gguf-llama.js';
import { chatMLFunctionCall } from '../../fixtures/models/gguf-tool-script.js';
import { loadLlamaEngine } from '../../../src/llm/llama-engine.js';
import type { LlmEngine, LlmFunction } from '../../../src/llm/llm-engine.js';

const dir = fileURLToPath(new URL('../../../.cache/test/llm-functions/', import.meta.url));
const ANSWER = 'On Sunday we are open from 10:00 until 18:00.';
const APOLOGY = 'Sorry, I could not look that up.';
let engine: LlmEngine;

beforeAll(async () => {
  const { path } = await writeScriptedLlama({
    path: `${dir}tool.gguf`,
    toolCall: { name: 'opening_hours', params: { day: 'sunday' }, answers: [{ when: '18:00', reply: ANSWER }, { when: 'error', reply: APOLOGY }] },
  });
  // One thread: see llama-engine.test.ts.
  engine = await loadLlamaEngine({ modelPath: path, gpu: 'off', threads: 1 });
});

afterAll(async () => {
  await engine?.dispose();
});

/** An opening_hours function whose handler answers `result`; records every call's arguments. */
function openingHours(result: (args: unknown) => unknown | Promise<unknown>) {
  const calls: unknown[] = [];
  const fn: LlmFunction = {
    name: 'opening_hours',
    description: 'Opening hours of the museum on a day.',
    parameters: { type: 'object', properties: { day: { type: 'string' } }, required: ['day'] },
    call: async (args) => {
      calls.push(args);
      return result(args);
    },
  };
  return { fn, calls };
}

const ask = [{ role: 'user' as const, text: 'When are you open on Sunday?' }];

describe('function calling through node-llama-cpp with a scripted model', () => {
  it('writes the call in the ChatML wrapper syntax, gets the result, and answers from it', async () => {
    expect(chatMLFunctionCall('opening_hours', { day: 'sunday' })).toBe('||call: opening_hours({"day": "sunday"})');
    const { fn, calls } = openingHours(() => ({ day: 'sunday', open: '10:00', close: '18:00' }));
    const deltas: string[] = [];
    const result = await engine.generate('', ask, { functions: [fn], onTextDelta: (d) => deltas.push(d) });
    expect(calls).toEqual([{ day: 'sunday' }]);
    expect(result.text).toBe(ANSWER);
    // The call itself never reaches the text stream.
    expect(deltas.join('')).toBe(ANSWER);
  });

  it('answers from what the result says: an error gives the apology', async () => {
    const { fn } = openingHours(() => ({ error: 'the opening hours table is missing' }));
    expect((await engine.generate('', ask, { functions: [fn] })).text).toBe(APOLOGY);
  });

  it('reads the result: one without the expected words gets no answer, only more calls', async () => {
    const { fn, calls } = openingHours(() => ({ day: 'sunday', open: '09:00', close: '17:00' }));
    const result = await engine.generate('', ask, { functions: [fn], maxTokens: 120 });
    expect(calls.length).toBeGreaterThan(1);
    expect(result.text).toBe('');
  });

  it('an abort while the function runs ends the generation, and the engine answers the next call', async () => {
    const stop = new AbortController();
    const { fn } = openingHours(
      () => new Promise((resolve) => setTimeout(() => resolve({ close: '18:00' }), 2000)),
    );
    setTimeout(() => stop.abort(), 300);
    const t0 = performance.now();
    const cut = await engine.generate('', ask, { functions: [fn], signal: stop.signal });
    expect(performance.now() - t0).toBeLessThan(1800);
    expect(cut.text).toBe('');
    const again = openingHours(() => ({ close: '18:00' }));
    expect((await engine.generate('', ask, { functions: [again.fn] })).text).toBe(ANSWER);
  });
});
