import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLlamaEngine } from '../../src/llm/llama-engine.js';
import type { ChatTurn, LlmEngine } from '../../src/llm/llm-engine.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REAL_SHAPE_REPLY, writeRealShapeLlama } from '../fixtures/models/gguf-llama-real.js';
import { TEST_MODEL_DIR } from '../support/test-models.js';

const SYSTEM = 'You are a helpful voice assistant. Answer in one or two short sentences, for a listener.';
/**
 * An upper bound on a text's Llama 3 tokens: never more than its UTF-8 bytes (the bound is
 * loose on purpose: a cache miss re-evaluates the whole history, hundreds of tokens).
 */
const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
/** Llama 3's header and end tokens around a new user message and the assistant's header. */
const TEMPLATE_SLACK = 16;
const MODEL = join(TEST_MODEL_DIR, 'llama3-tokenizer-scripted.gguf');

describe('prompt cache: each turn evaluates only what is new', () => {
  let llm: LlmEngine;
  beforeAll(async () => {
    // The real Llama 3 tokenizer, so that re-rendering the history gives the tokens a real model would see.
    if (!existsSync(MODEL)) await writeRealShapeLlama({ path: MODEL, shape: 'tokenizer-test' });
    llm = await loadLlamaEngine({ modelPath: MODEL, gpu: 'off', threads: 1, temperature: 0 });
  });
  afterAll(async () => {
    await llm.dispose();
  });

  it('after the first turn, the prefill is the new user message and the template, through history growth, a cut reply and a dropped one', async () => {
    const history: ChatTurn[] = [];
    const ask = async (text: string) => {
      history.push({ role: 'user', text });
      const r = await llm.generate(SYSTEM, history);
      history.push({ role: 'assistant', text: r.text });
      return r;
    };
    const first = await ask('What is the capital of France?');
    expect(first.text).toBe(REAL_SHAPE_REPLY);
    // The first turn evaluates the system prompt too: at least a token per 6 bytes of English.
    expect(first.prefillTokens!).toBeGreaterThan(bytes(SYSTEM) / 6);

    const prefills: number[] = [];
    const questions = ['And of Germany?', 'How many people live there, roughly?', 'Thanks. What about Spain?'];
    for (const q of questions) {
      const r = await ask(q);
      prefills.push(r.prefillTokens!);
      expect(r.prefillTokens!).toBeLessThanOrEqual(bytes(q) + TEMPLATE_SLACK);
    }

    // An interrupted reply: the history keeps only what was heard, shorter than what the cache holds.
    const cut = await llm.generate(SYSTEM, [...history, { role: 'user', text: 'Tell me more.' }], { maxTokens: 6 });
    history.push({ role: 'user', text: 'Tell me more.' }, { role: 'assistant', text: cut.text.slice(0, 5), interrupted: true });
    const afterCut = await ask('Sorry, go on about Paris.');
    expect(afterCut.prefillTokens!).toBeLessThanOrEqual(bytes(cut.text.slice(0, 5)) + bytes('Sorry, go on about Paris.') + 2 * TEMPLATE_SLACK);

    // A dropped speculation: the model answered the first words of a question, then the user went on.
    const controller = new AbortController();
    const dropped = llm.generate(SYSTEM, [...history, { role: 'user', text: 'What is the' }], {
      signal: controller.signal,
      onTextDelta: () => controller.abort(),
    });
    await dropped;
    const afterDrop = await ask('What is the weather like in Paris in May?');
    expect(afterDrop.prefillTokens!).toBeLessThanOrEqual(bytes('What is the weather like in Paris in May?') + TEMPLATE_SLACK);
    console.log(`prefill tokens: first ${first.prefillTokens}, then ${prefills.join(', ')}, after a cut ${afterCut.prefillTokens}, after a dropped speculation ${afterDrop.prefillTokens}`);
  });
});
