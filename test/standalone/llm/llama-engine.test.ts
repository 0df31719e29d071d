import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCRIPTED_REPLY, writeScriptedLlama } from '../../fixtures/models/gguf-llama.js';
import { EarshotError } from '../../../src/errors.js';
import { loadLlamaEngine } from '../../../src/llm/llama-engine.js';
import type { ChatTurn, LlmEngine } from '../../../src/llm/llm-engine.js';

const dir = fileURLToPath(new URL('../../../.cache/test/llm-engine/', import.meta.url));
const reply = DEFAULT_SCRIPTED_REPLY;
let engine: LlmEngine;
let looping: LlmEngine;
let modelPath: string;

beforeAll(async () => {
  modelPath = (await writeScriptedLlama({ path: `${dir}scripted.gguf` })).path;
  const loopPath = (await writeScriptedLlama({ path: `${dir}never-end.gguf`, neverEnd: true })).path;
  // One thread: ggml's threads spin at every op barrier, so on a busy 2-core machine (other test files run in
  // parallel) two threads each make a tiny model 100-1000x slower; these tests are about behaviour, not speed.
  engine = await loadLlamaEngine({ modelPath, gpu: 'off', threads: 1, temperature: 0 });
  looping = await loadLlamaEngine({ modelPath: loopPath, gpu: 'off', threads: 1 });
});

afterAll(async () => {
  await engine?.dispose();
  await looping?.dispose();
});

const ask = (text: string): ChatTurn[] => [{ role: 'user', text }];

describe('loadLlamaEngine', () => {
  it('streams the scripted reply exactly, in several deltas', async () => {
    const deltas: string[] = [];
    const result = await engine.generate('You are a helpful assistant.', ask('What is the capital of France?'), {
      onTextDelta: (d) => deltas.push(d),
    });
    expect(result).toEqual({ text: reply, aborted: false, tokens: expect.any(Number), prefillTokens: expect.any(Number) });
    expect(deltas.join('')).toBe(reply);
    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas).not.toContain('');
    expect(result.tokens).toBeGreaterThanOrEqual(deltas.length);
  });

  it('answers later turns from a history, including an interrupted assistant turn', async () => {
    const history: ChatTurn[] = [
      { role: 'user', text: 'Hello there' },
      { role: 'assistant', text: reply },
      { role: 'user', text: 'And what else?' },
      { role: 'assistant', text: 'Paris is the', interrupted: true },
      { role: 'user', text: 'Sorry, go on.' },
    ];
    const result = await engine.generate('Be brief.', history);
    expect(result.text).toBe(reply);
    expect(result.aborted).toBe(false);
  });

  it('takes any text: unicode, emoji, control characters, chat markup, an empty system prompt', async () => {
    const odd = 'Grüße aus Köln 👋\n\t日本語 <|im_end|> <s> \u0000 \u2581 ok?';
    expect((await engine.generate(odd, ask(odd))).text).toBe(reply);
    expect((await engine.generate('', ask('x'))).text).toBe(reply);
  });

  it('honours maxTokens', async () => {
    const result = await engine.generate('', ask('Hi'), { maxTokens: 3 });
    expect(result.text).toBe('Paris is the');
    expect(result.tokens).toBe(3);
  });

  it('stops promptly on abort with the partial text, and generates again afterwards', async () => {
    const controller = new AbortController();
    const deltas: string[] = [];
    let abortedAt = 0;
    const result = await looping.generate('', ask('Talk forever'), {
      signal: controller.signal,
      maxTokens: 100_000,
      onTextDelta: (d) => {
        deltas.push(d);
        if (deltas.length === 40) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    const stopMs = performance.now() - abortedAt;
    expect(result.aborted).toBe(true);
    expect(result.text).toBe(deltas.join(''));
    expect(result.text.length).toBeGreaterThan(reply.length);
    expect(reply.repeat(10).startsWith(result.text)).toBe(true);
    expect(stopMs).toBeLessThan(250);

    const next = await looping.generate('', ask('Again'), { maxTokens: 6 });
    expect(next).toEqual({ text: 'Paris is the capital of France.', aborted: false, tokens: 6, prefillTokens: expect.any(Number) });
  });

  it('returns at once for an already aborted signal', async () => {
    const result = await engine.generate('', ask('Hi'), { signal: AbortSignal.abort() });
    expect(result).toEqual({ text: '', aborted: true, tokens: 0 });
  });

  it('runs overlapping calls one after the other', async () => {
    const [a, b] = await Promise.all([engine.generate('', ask('one')), engine.generate('', ask('two'))]);
    expect([a.text, b.text]).toEqual([reply, reply]);
  });

  it('lets a waiting call leave the queue at once when aborted, while the running one goes on', async () => {
    const first = new AbortController();
    let firstDeltas = 0;
    const running = looping.generate('', ask('Talk forever'), {
      signal: first.signal,
      maxTokens: 100_000,
      onTextDelta: () => firstDeltas++,
    });
    const second = new AbortController();
    const waiting = looping.generate('', ask('Me too'), { signal: second.signal, onTextDelta: () => expect.fail('never ran') });
    while (firstDeltas < 5) await new Promise((r) => setTimeout(r, 5));
    second.abort();
    expect(await waiting).toEqual({ text: '', aborted: true, tokens: 0 });
    const deltasWhenSecondLeft = firstDeltas;
    while (firstDeltas < deltasWhenSecondLeft + 5) await new Promise((r) => setTimeout(r, 5));
    first.abort();
    expect((await running).aborted).toBe(true);
  });

  it('keeps the event loop free while generating', async () => {
    let last = performance.now();
    let worstGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worstGap = Math.max(worstGap, now - last);
      last = now;
    }, 2);
    const result = await looping.generate('', ask('Go'), { maxTokens: 300 });
    clearInterval(timer);
    expect(result.tokens).toBe(300);
    expect(worstGap).toBeLessThan(50);
  });

  it('rejects a history that does not end with a user turn', async () => {
    await expect(engine.generate('', [])).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(engine.generate('', [{ role: 'assistant', text: 'Hi' }])).rejects.toBeInstanceOf(EarshotError);
  });

  it('names the file and the fix when the model is missing', async () => {
    await expect(loadLlamaEngine({ modelPath: `${dir}nope.gguf`, modelName: 'qwen' })).rejects.toThrow(
      `LLM model not found: ${dir}nope.gguf. Download it with: npm run fetch-models -- --llm qwen`,
    );
  });

  it('prints nothing while loading and generating with default options', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/quiet-load.ts', import.meta.url));
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture, modelPath]);
    expect(stdout).toBe('');
    expect(stderr).toBe('');
  }, 20_000);
});
