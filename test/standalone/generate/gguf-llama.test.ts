import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { getLlama } from 'node-llama-cpp';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCRIPTED_REPLY, writeScriptedLlama } from '../../../scripts/generate/gguf-llama.js';
import { checkGgufModel } from '../../../src/llm/gguf-check.js';
import { loadLlamaEngine } from '../../../src/llm/llama-engine.js';
import type { LlmEngine } from '../../../src/llm/llm-engine.js';

const dir = fileURLToPath(new URL('../../../.cache/test/gguf-llama/', import.meta.url));
const engines: LlmEngine[] = [];

afterAll(async () => {
  await Promise.all(engines.map((e) => e.dispose()));
});

/** Loads a generated model (one thread: see test/standalone/llm/llama-engine.test.ts) and asks it twice. */
async function twoAnswers(path: string): Promise<[string, string]> {
  const engine = await loadLlamaEngine({ modelPath: path, gpu: 'off', threads: 1 });
  engines.push(engine);
  const first = await engine.generate('Answer in one word.', [{ role: 'user', text: 'Say something.' }]);
  const second = await engine.generate('Answer in one word.', [
    { role: 'user', text: 'Say something.' },
    { role: 'assistant', text: first.text },
    { role: 'user', text: 'Say it again, in other words!' },
  ]);
  return [first.text, second.text];
}

describe('writeScriptedLlama', () => {
  it('writes a small, deterministic GGUF v3 file quickly', async () => {
    const started = performance.now();
    const a = await writeScriptedLlama({ path: `${dir}a.gguf` });
    const ms = performance.now() - started;
    const b = await writeScriptedLlama({ path: `${dir}b.gguf` });
    expect(a).toEqual({ path: `${dir}a.gguf`, bytes: expect.any(Number), reply: DEFAULT_SCRIPTED_REPLY });
    expect(a.bytes).toBeGreaterThan(400_000);
    expect(a.bytes).toBeLessThan(700_000);
    expect(ms).toBeLessThan(1000);
    const [bytesA, bytesB] = await Promise.all([readFile(a.path), readFile(b.path)]);
    expect(bytesA.length).toBe(a.bytes);
    expect(bytesA.equals(bytesB)).toBe(true);
    expect(bytesA.subarray(0, 4).toString()).toBe('GGUF');
    expect(bytesA.readUInt32LE(4)).toBe(3);
    expect(await checkGgufModel(a.path)).toMatchObject({ architecture: 'llama', contextLength: 4096, fileBytes: a.bytes });
  });

  it('has a ChatML template and a tokenizer that round-trips any text', async () => {
    const { path } = await writeScriptedLlama({ path: `${dir}tokenizer.gguf`, contextLength: 2048 });
    expect((await checkGgufModel(path)).contextLength).toBe(2048);
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' as never, logger: () => undefined });
    const model = await llama.loadModel({ modelPath: path, vocabOnly: true });
    try {
      expect(model.fileInfo.metadata.tokenizer.chat_template).toContain('<|im_start|>');
      for (const text of ['some test text here', 'Grüße 👋\n\t日本語 \u0000 end']) {
        expect(model.detokenize(model.tokenize(text))).toBe(text);
      }
      const special = model.tokenize('<|im_start|>user\nhi<|im_end|>', true);
      expect(special[0]).toBe(3);
      expect(special.at(-1)).toBe(4);
      expect(model.getWarnings()).toEqual([]);
    } finally {
      await model.dispose();
      await llama.dispose();
    }
  }, 15_000);

  it('answers with the reply on every turn, repeated words included', async () => {
    const reply = 'the the the cat sat on the mat, the end.';
    const { path } = await writeScriptedLlama({ path: `${dir}repeats.gguf`, reply });
    expect(await twoAnswers(path)).toEqual([reply, reply]);
  });

  it('scripts a reply longer than the width, and bigger shapes', async () => {
    const reply = Array.from({ length: 90 }, (_, i) => `w${i}`).join(' ') + '. Grüße, 👋!';
    const { path } = await writeScriptedLlama({ path: `${dir}long.gguf`, reply, width: 64, seed: 7 });
    const shaped = await writeScriptedLlama({ path: `${dir}shaped.gguf`, width: 128, layers: 3 });
    expect(await twoAnswers(path)).toEqual([reply, reply]);
    expect(await twoAnswers(shaped.path)).toEqual([DEFAULT_SCRIPTED_REPLY, DEFAULT_SCRIPTED_REPLY]);
  }, 20_000);

  it('loops the reply forever with neverEnd', async () => {
    const { path } = await writeScriptedLlama({ path: `${dir}loop.gguf`, reply: 'On and on.', neverEnd: true });
    const engine = await loadLlamaEngine({ modelPath: path, gpu: 'off', threads: 1 });
    engines.push(engine);
    const result = await engine.generate('', [{ role: 'user', text: 'Go' }], { maxTokens: 30 });
    expect(result.tokens).toBe(30);
    expect(result.text).toBe('On and on.'.repeat(10));
  });

  it('refuses shapes it cannot write', async () => {
    await expect(writeScriptedLlama({ path: `${dir}x.gguf`, width: 50 })).rejects.toThrow('multiple of 16');
    await expect(writeScriptedLlama({ path: `${dir}x.gguf`, reply: '  ' })).rejects.toThrow('reply');
  });
});
