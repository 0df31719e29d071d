import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeScriptedLlama } from '../../fixtures/models/gguf-llama.js';
import { EarshotError } from '../../../src/errors.js';
import { checkGgufModel } from '../../../src/llm/gguf-check.js';

const dir = fileURLToPath(new URL('../../../.cache/test/gguf-check/', import.meta.url));
let good: Buffer;

beforeAll(async () => {
  await mkdir(dir, { recursive: true });
  good = await readFile((await writeScriptedLlama({ path: `${dir}good.gguf` })).path);
});

async function variant(name: string, bytes: Buffer): Promise<string> {
  const path = `${dir}${name}.gguf`;
  await writeFile(path, bytes);
  return path;
}

/** Same length replacement, so every offset in the file stays valid and only the named thing changes. */
function replaceText(bytes: Buffer, from: string, to: string): Buffer {
  const at = bytes.indexOf(from);
  expect(at).toBeGreaterThanOrEqual(0);
  const copy = Buffer.from(bytes);
  copy.write(to, at, 'utf8');
  return copy;
}

async function rejection(path: string, modelName?: string): Promise<EarshotError> {
  const e: unknown = await checkGgufModel(path, { modelName }).then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(EarshotError);
  return e as EarshotError;
}

describe('checkGgufModel', () => {
  it('accepts a valid file and summarises it', async () => {
    const summary = await checkGgufModel(`${dir}good.gguf`);
    expect(summary).toMatchObject({ architecture: 'llama', contextLength: 4096, tensorCount: 21, fileBytes: good.length });
    expect(summary.vocabSize).toBeGreaterThan(262);
  });

  it('reports a missing file (or a folder) as MODEL_MISSING with the fetch command', async () => {
    const e = await rejection(`${dir}absent.gguf`, 'qwen2.5-0.5b');
    expect(e.code).toBe('MODEL_MISSING');
    expect(e.message).toBe(`LLM model not found: ${dir}absent.gguf. Download it with: npm run fetch-models -- --llm qwen2.5-0.5b`);
    expect((await rejection(dir)).code).toBe('MODEL_MISSING');
  });

  it('rejects bad magic, an unsupported version, an empty file', async () => {
    const badMagic = await rejection(await variant('magic', replaceText(good, 'GGUF', 'GGML')));
    expect(badMagic.code).toBe('MODEL_CORRUPT');
    expect(badMagic.message).toBe(`LLM model ${dir}magic.gguf is damaged: not a GGUF file (bad magic). Download it again: npm run fetch-models`);

    const v9 = Buffer.from(good);
    v9.writeUInt32LE(9, 4);
    expect((await rejection(await variant('version', v9))).message).toContain('unsupported GGUF version 9');
    expect((await rejection(await variant('empty', Buffer.alloc(0)))).code).toBe('MODEL_CORRUPT');
  });

  it('rejects a file truncated inside the header or inside the tensor data', async () => {
    const inHeader = await rejection(await variant('cut-header', good.subarray(0, 300)));
    expect(inHeader.message).toContain('truncated');
    const inData = await rejection(await variant('cut-data', good.subarray(0, good.length - 64)), 'tiny');
    expect(inData.code).toBe('MODEL_CORRUPT');
    expect(inData.message).toMatch(/file is truncated \(tensor output\.weight runs past the end\)\. Download it again: npm run fetch-models -- --llm tiny$/);
  });

  it('rejects files that would abort the process inside llama.cpp', async () => {
    const noFfn = await rejection(await variant('no-ffn', replaceText(good, 'llama.feed_forward_length', 'llama.feed_forward_lengtX')));
    expect(noFfn.message).toContain('missing key llama.feed_forward_length');
    const noHeads = await rejection(await variant('no-heads', replaceText(good, 'llama.attention.head_count\u0004', 'llama.attention.head_counX\u0004')));
    expect(noHeads.message).toContain('missing key llama.attention.head_count');
    const duplicate = await rejection(await variant('duplicate', replaceText(good, '<0x01>', '<0x00>')));
    expect(duplicate.message).toContain('vocabulary lists token "<0x00>" twice');
  });

  it('rejects an implausible count instead of allocating for it', async () => {
    const huge = Buffer.from(good);
    huge.writeBigUInt64LE(1n << 40n, 16);
    expect((await rejection(await variant('huge-count', huge))).message).toContain('header lists 1099511627776 entries');
  });
});
