import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createSeededRandom } from './seeded-random.js';
import { GGML_TYPE_F32, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GgufValueType, alignUp } from '../../src/llm/gguf-format.js';

/** What the scripted model says unless told otherwise: two sentences, so sentence chunking can be tested. */
export const DEFAULT_SCRIPTED_REPLY = 'Paris is the capital of France. It is known for the Eiffel Tower.';

export interface ScriptedLlamaOptions {
  /** Where to write the .gguf file; parent folders are created. */
  path: string;
  /** The exact text the model answers to any prompt. Default: DEFAULT_SCRIPTED_REPLY. */
  reply?: string;
  /** Embedding width. Default: 64 (about 0.5 MB); 512 with 8 layers is the benchmark shape (about 110 MB). */
  width?: number;
  /** Transformer blocks. Default: 2. */
  layers?: number;
  /** Loop the reply forever instead of ending with <|im_end|>, for abort tests. Default: false. */
  neverEnd?: boolean;
  /** `llama.context_length`. Default: 4096 (byte-level prompts are long: one token per byte). */
  contextLength?: number;
  /** Seed for the random (but inert) attention and FFN input weights. Default: 1. */
  seed?: number;
}

export interface ScriptedLlamaFile {
  path: string;
  bytes: number;
  reply: string;
}

const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;
const BOS = 1;
const EOS = 2;
const IM_END = 4;
/** Any non-reply token; all of them share the prompt embedding. */
const PROMPT_CODE_ID = 0;
const SPECIAL_TOKENS: readonly (readonly [string, number])[] = [
  ['<unk>', TOKEN_TYPE.unknown],
  ['<s>', TOKEN_TYPE.control],
  ['</s>', TOKEN_TYPE.control],
  ['<|im_start|>', TOKEN_TYPE.control],
  ['<|im_end|>', TOKEN_TYPE.control],
];
/** Logit of the scripted next token over every other; large enough that temperature 1 and repeat penalties cannot flip it. */
const LOGIT_MARGIN = 40;

interface Vocab {
  tokens: string[];
  types: number[];
  /** Token ids that spell the reply, in order; each id occurs once so it can have exactly one successor. */
  replyIds: number[];
}

/**
 * Writes a GGUF v3 llama model that answers `reply`, exactly, to any prompt, on every turn, then ends with
 * <|im_end|>. The residual stream carries only the token embedding (attention and FFN output projections are
 * zero, every matmul still runs), and the output matrix maps each reply token to the next one.
 */
export async function writeScriptedLlama(options: ScriptedLlamaOptions): Promise<ScriptedLlamaFile> {
  const reply = options.reply ?? DEFAULT_SCRIPTED_REPLY;
  const width = options.width ?? 64;
  const layers = options.layers ?? 2;
  const contextLength = options.contextLength ?? 4096;
  if (reply.trim() === '') throw new Error('writeScriptedLlama: reply must contain some text');
  if (!Number.isInteger(width) || width < 16 || width % 16 !== 0) throw new Error(`writeScriptedLlama: width ${width} must be a multiple of 16`);
  if (!Number.isInteger(layers) || layers < 1) throw new Error(`writeScriptedLlama: layers ${layers} must be at least 1`);

  const vocab = buildVocab(reply);
  const codes = tokenCodes(vocab, width, options.seed ?? 1);
  const chain = scriptChain(vocab, options.neverEnd ?? false);
  const shape: ModelShape = { width, layers, ffn: width * 3, headDim: width % 64 === 0 ? 64 : width, contextLength };
  const tensors = scriptedTensors(shape, vocab, codes, chain, options.seed ?? 1);
  const meta = scriptedMetadata(shape, vocab);
  const bytes = await writeGguf(options.path, meta, tensors);
  return { path: options.path, bytes, reply };
}

interface ModelShape {
  width: number;
  layers: number;
  ffn: number;
  headDim: number;
  contextLength: number;
}

/** Inert blocks (random inputs, zero output projections) between the scripted embedding and output matrices. */
function scriptedTensors(
  shape: ModelShape,
  vocab: Vocab,
  codes: TokenCodes,
  chain: readonly [number, number][],
  seed: number,
): TensorSpec[] {
  const { width, ffn } = shape;
  const random = createSeededRandom(seed);
  const randomMatrix = (n: number): Float32Array => Float32Array.from({ length: n }, () => (random() - 0.5) * 0.2);
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1);
  const tensors: TensorSpec[] = [{ name: 'token_embd.weight', dims: [width, vocab.tokens.length], data: () => codes.flat }];
  for (let b = 0; b < shape.layers; b++) {
    const p = `blk.${b}.`;
    tensors.push(
      { name: `${p}attn_norm.weight`, dims: [width], data: () => ones(width) },
      { name: `${p}attn_q.weight`, dims: [width, width], data: () => randomMatrix(width * width) },
      { name: `${p}attn_k.weight`, dims: [width, width], data: () => randomMatrix(width * width) },
      { name: `${p}attn_v.weight`, dims: [width, width], data: () => randomMatrix(width * width) },
      { name: `${p}attn_output.weight`, dims: [width, width], data: () => new Float32Array(width * width) },
      { name: `${p}ffn_norm.weight`, dims: [width], data: () => ones(width) },
      { name: `${p}ffn_gate.weight`, dims: [width, ffn], data: () => randomMatrix(width * ffn) },
      { name: `${p}ffn_up.weight`, dims: [width, ffn], data: () => randomMatrix(width * ffn) },
      { name: `${p}ffn_down.weight`, dims: [ffn, width], data: () => new Float32Array(ffn * width) },
    );
  }
  tensors.push(
    { name: 'output_norm.weight', dims: [width], data: () => ones(width) },
    { name: 'output.weight', dims: [width, vocab.tokens.length], data: () => outputMatrix(codes, chain, width) },
  );
  return tensors;
}

function scriptedMetadata(shape: ModelShape, vocab: Vocab): MetadataWriter {
  const meta = new MetadataWriter();
  const heads = shape.width / shape.headDim;
  meta.string('general.architecture', 'llama');
  meta.string('general.name', 'earshot scripted llama');
  meta.u32('general.file_type', 0);
  meta.u32('llama.context_length', shape.contextLength);
  meta.u32('llama.embedding_length', shape.width);
  meta.u32('llama.block_count', shape.layers);
  meta.u32('llama.feed_forward_length', shape.ffn);
  meta.u32('llama.attention.head_count', heads);
  meta.u32('llama.attention.head_count_kv', heads);
  meta.u32('llama.rope.dimension_count', shape.headDim);
  meta.f32('llama.attention.layer_norm_rms_epsilon', 1e-5);
  meta.u32('llama.vocab_size', vocab.tokens.length);
  meta.string('tokenizer.ggml.model', 'llama');
  meta.stringArray('tokenizer.ggml.tokens', vocab.tokens);
  meta.f32Array('tokenizer.ggml.scores', vocab.tokens.map(() => 0));
  meta.i32Array('tokenizer.ggml.token_type', vocab.types);
  meta.u32('tokenizer.ggml.unknown_token_id', 0);
  meta.u32('tokenizer.ggml.bos_token_id', BOS);
  meta.u32('tokenizer.ggml.eos_token_id', EOS);
  meta.u32('tokenizer.ggml.eot_token_id', IM_END);
  // ChatML models (Qwen and friends) start without BOS; no space prefix keeps the first reply word unpadded.
  meta.bool('tokenizer.ggml.add_bos_token', false);
  meta.bool('tokenizer.ggml.add_space_prefix', false);
  meta.string('tokenizer.chat_template', CHATML_TEMPLATE);
  return meta;
}

/**
 * Specials, the 256 byte tokens (so any prompt text tokenizes), the space token, then the reply: one
 * word-level token per piece where its text is still free, else the piece spelled in byte tokens whose text
 * carries a suffix.
 * llama.cpp aborts on two identical token texts, but reads a byte token's value from the two hex digits
 * alone, so `<0x65>#1` is a second, distinct "e".
 */
function buildVocab(reply: string): Vocab {
  const tokens = SPECIAL_TOKENS.map(([text]) => text);
  const types = SPECIAL_TOKENS.map(([, type]) => type);
  for (let b = 0; b < 256; b++) {
    tokens.push(byteToken(b));
    types.push(TOKEN_TYPE.byte);
  }
  // The tokenizer turns spaces into U+2581 before lookup; without this token it would fall back to its three
  // UTF-8 bytes and detokenize prompts with a literal "▁" instead of a space.
  tokens.push('\u2581');
  types.push(TOKEN_TYPE.normal);
  const used = new Set(tokens);
  const byteCopies = new Map<number, number>();
  const replyIds: number[] = [];
  const add = (text: string, type: number): void => {
    used.add(text);
    replyIds.push(tokens.length);
    tokens.push(text);
    types.push(type);
  };
  for (const piece of splitPieces(reply)) {
    // A literal space detokenizes like U+2581, which gives a repeated word a second spelling before bytes.
    const spellings = piece.includes('\u2581') ? [] : [piece.replaceAll(' ', '\u2581'), piece];
    const word = spellings.find((t) => !used.has(t));
    if (word !== undefined) {
      add(word, TOKEN_TYPE.normal);
      continue;
    }
    for (const b of Buffer.from(piece, 'utf8')) {
      const copy = (byteCopies.get(b) ?? 0) + 1;
      byteCopies.set(b, copy);
      add(`${byteToken(b)}#${copy}`, TOKEN_TYPE.byte);
    }
  }
  return { tokens, types, replyIds };
}

/** Words with their leading whitespace; trailing whitespace stays on the last piece so the pieces join to the reply. */
function splitPieces(reply: string): string[] {
  const pieces = reply.match(/\s*\S+/gu) ?? [];
  const tail = reply.slice(pieces.join('').length);
  if (tail !== '') pieces[pieces.length - 1] += tail;
  return pieces;
}

function byteToken(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
}

/**
 * The scripted chain as [from, to] pairs of reply token ids; -1 stands for every prompt token (they share
 * one embedding), which starts the reply.
 */
function scriptChain(vocab: Vocab, neverEnd: boolean): [number, number][] {
  const ids = vocab.replyIds;
  const chain: [number, number][] = [[-1, ids[0]]];
  ids.forEach((id, i) => chain.push([id, i + 1 < ids.length ? ids[i + 1] : neverEnd ? ids[0] : IM_END]));
  return chain;
}

interface TokenCodes {
  /** Row-major [vocab][width] embedding matrix. */
  flat: Float32Array;
  row(id: number): Float32Array;
}

/**
 * Unit-length embedding per token. Dimension 0 marks "not a reply token" (all prompt tokens share it);
 * reply tokens get one-hot codes on the other dimensions, or random unit codes when the reply is longer
 * than the width, which are then checked so greedy decoding still follows the script.
 */
function tokenCodes(vocab: Vocab, width: number, seed: number): TokenCodes {
  const flat = new Float32Array(vocab.tokens.length * width);
  const row = (id: number): Float32Array => flat.subarray(id * width, (id + 1) * width);
  for (let id = 0; id < vocab.tokens.length; id++) row(id)[0] = 1;
  const oneHot = vocab.replyIds.length < width;
  const random = createSeededRandom(seed ^ 0x5eed);
  vocab.replyIds.forEach((id, i) => {
    const r = row(id);
    r[0] = 0;
    if (oneHot) {
      r[i + 1] = 1;
      return;
    }
    for (let d = 1; d < width; d++) r[d] = random() - 0.5;
    const norm = Math.hypot(...r);
    for (let d = 1; d < width; d++) r[d] /= norm;
  });
  const codes = { flat, row };
  if (!oneHot) assertScriptHolds(vocab, codes, width);
  return codes;
}

/** Row v of the output matrix is the code of the token that v follows, so each code scores its successor. */
function outputMatrix(codes: TokenCodes, chain: readonly [number, number][], width: number): Float32Array {
  // RMS norm scales a unit code by sqrt(width); this brings the scripted logit to LOGIT_MARGIN.
  const scale = LOGIT_MARGIN / Math.sqrt(width);
  const out = new Float32Array(codes.flat.length);
  for (const [from, to] of chain) {
    const source = codes.row(from === -1 ? PROMPT_CODE_ID : from);
    for (let d = 0; d < width; d++) out[to * width + d] += source[d] * scale;
  }
  return out;
}

function assertScriptHolds(vocab: Vocab, codes: TokenCodes, width: number): void {
  const ids = vocab.replyIds;
  for (let i = 0; i < ids.length; i++) {
    for (let j = 0; j < ids.length; j++) {
      if (i === j) continue;
      const a = codes.row(ids[i]);
      const b = codes.row(ids[j]);
      let dot = 0;
      for (let d = 0; d < width; d++) dot += a[d] * b[d];
      if (dot > 0.5) {
        throw new Error(`writeScriptedLlama: the reply needs ${ids.length} tokens; use width >= ${alignUp(ids.length + 1, 16)}`);
      }
    }
  }
}

interface TensorSpec {
  name: string;
  /** Innermost dimension first, as ggml stores it. */
  dims: number[];
  /** Built lazily so a 100 MB model never sits in memory whole. */
  data: () => Float32Array;
}

async function writeGguf(path: string, meta: MetadataWriter, tensors: readonly TensorSpec[]): Promise<number> {
  const infos = new MetadataWriter();
  let offset = 0;
  for (const t of tensors) {
    infos.rawString(t.name);
    infos.rawU32(t.dims.length);
    for (const d of t.dims) infos.rawU64(d);
    infos.rawU32(GGML_TYPE_F32);
    infos.rawU64(offset);
    offset = alignUp(offset + t.dims.reduce((n, d) => n * d, 4), GGUF_DEFAULT_ALIGNMENT);
  }
  const head = Buffer.alloc(24);
  head.writeUInt32LE(GGUF_MAGIC, 0);
  head.writeUInt32LE(3, 4);
  head.writeBigUInt64LE(BigInt(tensors.length), 8);
  head.writeBigUInt64LE(BigInt(meta.count), 16);
  const header = Buffer.concat([head, meta.bytes(), infos.bytes()]);

  await mkdir(dirname(path), { recursive: true });
  const file = await open(path, 'w');
  try {
    let written = 0;
    const write = async (buf: Uint8Array): Promise<void> => {
      await file.write(buf);
      written += buf.length;
    };
    const pad = async (): Promise<void> => write(new Uint8Array(alignUp(written, GGUF_DEFAULT_ALIGNMENT) - written));
    await write(header);
    await pad();
    for (const t of tensors) {
      const data = t.data();
      await write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      await pad();
    }
    return written;
  } finally {
    await file.close();
  }
}

/** Serialises GGUF key/value pairs (and, through the raw methods, tensor infos). */
class MetadataWriter {
  private readonly parts: Buffer[] = [];
  count = 0;

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }

  string(key: string, value: string): void {
    this.key(key, GgufValueType.String);
    this.rawString(value);
  }

  u32(key: string, value: number): void {
    this.key(key, GgufValueType.Uint32);
    this.rawU32(value);
  }

  f32(key: string, value: number): void {
    this.key(key, GgufValueType.Float32);
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.parts.push(b);
  }

  bool(key: string, value: boolean): void {
    this.key(key, GgufValueType.Bool);
    this.parts.push(Buffer.from([value ? 1 : 0]));
  }

  stringArray(key: string, values: readonly string[]): void {
    this.arrayHead(key, GgufValueType.String, values.length);
    for (const v of values) this.rawString(v);
  }

  f32Array(key: string, values: readonly number[]): void {
    this.arrayHead(key, GgufValueType.Float32, values.length);
    this.parts.push(Buffer.from(Float32Array.from(values).buffer));
  }

  i32Array(key: string, values: readonly number[]): void {
    this.arrayHead(key, GgufValueType.Int32, values.length);
    this.parts.push(Buffer.from(Int32Array.from(values).buffer));
  }

  rawString(value: string): void {
    const text = Buffer.from(value, 'utf8');
    this.rawU64(text.length);
    this.parts.push(text);
  }

  rawU32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    this.parts.push(b);
  }

  rawU64(value: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(value));
    this.parts.push(b);
  }

  private key(key: string, type: number): void {
    this.count++;
    this.rawString(key);
    this.rawU32(type);
  }

  private arrayHead(key: string, itemType: number, length: number): void {
    this.key(key, GgufValueType.Array);
    this.rawU32(itemType);
    this.rawU64(length);
  }
}


async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      reply: { type: 'string' },
      width: { type: 'string' },
      layers: { type: 'string' },
      'never-end': { type: 'boolean' },
    },
  });
  if (!values.out) throw new Error('usage: tsx scripts/generate/gguf-llama.ts --out model.gguf [--reply TEXT] [--width 64] [--layers 2] [--never-end]');
  const started = performance.now();
  const file = await writeScriptedLlama({
    path: values.out,
    reply: values.reply,
    width: values.width ? Number(values.width) : undefined,
    layers: values.layers ? Number(values.layers) : undefined,
    neverEnd: values['never-end'],
  });
  console.log(`${file.path}: ${file.bytes} bytes in ${Math.round(performance.now() - started)} ms`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
