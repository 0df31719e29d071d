import { stat } from 'node:fs/promises';
import { EarshotError, fetchHint } from '../errors.js';
import { GGUF_SUPPORTED_VERSIONS, ggmlTensorBytes } from './gguf-format.js';
import { BinaryReader } from '../util/binary-reader.js';
import { GgufFormatError, readGgufHeader, type GgufHeader, type GgufValue } from './gguf-header.js';

export interface GgufCheckOptions {
  /** Model name for the fix hint (`npm run fetch-models -- --llm <name>`). Default: none, the hint is `npm run fetch-models`. */
  modelName?: string;
}

/** What a valid file told us, for callers that want to size a context without loading the model. */
export interface GgufSummary {
  architecture: string;
  /** Context length the model was trained with (`<arch>.context_length`). */
  contextLength: number;
  vocabSize: number;
  tensorCount: number;
  fileBytes: number;
}

/** Keys every architecture needs; llama.cpp refuses to load a model without them. */
const ARCH_KEYS = ['context_length', 'embedding_length', 'block_count', 'attention.head_count'];
/**
 * Extra keys the llama architecture needs. Without feed_forward_length or attention.head_count llama.cpp
 * aborts the whole process (GGML_ASSERT) instead of throwing.
 */
const LLAMA_KEYS = ['feed_forward_length', 'attention.layer_norm_rms_epsilon'];
const TOKENIZER_KEYS = ['tokenizer.ggml.model', 'tokenizer.ggml.tokens'];

/**
 * Checks a GGUF model file before node-llama-cpp sees it: it exists, is a GGUF v2/v3 file, has the keys the
 * loader needs, no duplicate vocabulary entries (another GGML_ASSERT), and is long enough for every tensor.
 * Throws EarshotError MODEL_MISSING or MODEL_CORRUPT with one line naming the file and the fix.
 */
export async function checkGgufModel(path: string, options: GgufCheckOptions = {}): Promise<GgufSummary> {
  const hint = fetchHint('llm', options.modelName);
  const corrupt = (reason: string): EarshotError =>
    new EarshotError('MODEL_CORRUPT', `LLM model ${path} is damaged: ${reason}. Download it again: ${hint}`);

  const fileBytes = await fileSize(path);
  if (fileBytes === undefined) {
    throw new EarshotError('MODEL_MISSING', `LLM model not found: ${path}. Download it with: ${hint}`);
  }

  let header: GgufHeader;
  try {
    header = readHeader(path);
  } catch (e) {
    if (e instanceof GgufFormatError) throw corrupt(e.reason);
    throw e;
  }

  if (!GGUF_SUPPORTED_VERSIONS.includes(header.version)) throw corrupt(`unsupported GGUF version ${header.version}`);

  const meta = header.metadata;
  const architecture = meta.get('general.architecture');
  if (typeof architecture !== 'string' || architecture === '') throw corrupt('missing key general.architecture');
  const archKeys = [...ARCH_KEYS, ...(architecture === 'llama' ? LLAMA_KEYS : [])].map((k) => `${architecture}.${k}`);
  const missing = [...archKeys, ...TOKENIZER_KEYS].filter((k) => !meta.has(k));
  if (missing.length > 0) throw corrupt(`missing key ${missing.join(', ')}`);

  const shapeProblem = checkShape(meta, architecture);
  if (shapeProblem) throw corrupt(shapeProblem);

  const tokens = meta.get('tokenizer.ggml.tokens');
  if (!Array.isArray(tokens) || tokens.length === 0) throw corrupt('tokenizer.ggml.tokens is not a list of strings');
  const duplicate = firstDuplicate(tokens);
  if (duplicate !== undefined) throw corrupt(`vocabulary lists token ${JSON.stringify(duplicate)} twice`);

  const dataBytes = BigInt(fileBytes - header.dataOffset);
  for (const t of header.tensors) {
    if (t.offset % BigInt(header.alignment) !== 0n) throw corrupt(`tensor ${t.name} is not aligned`);
    const bytes = ggmlTensorBytes(t.type, t.dims) ?? 0n;
    if (t.offset + bytes > dataBytes) throw corrupt(`file is truncated (tensor ${t.name} runs past the end)`);
  }

  return {
    architecture,
    contextLength: Number(meta.get(`${architecture}.context_length`)),
    vocabSize: tokens.length,
    tensorCount: header.tensors.length,
    fileBytes,
  };
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Most bytes of a file read as its header. Real vocabularies make headers of several megabytes (Llama 3's, with
 * 128k tokens and 280k merges, is about 8 MB); a file that claims more is refused before anything is allocated.
 */
const HEADER_LIMIT = 32 * 2 ** 20;

/** Reads the header through a small window, never past HEADER_LIMIT. */
function readHeader(path: string): GgufHeader {
  const reader = BinaryReader.open(path, { limit: HEADER_LIMIT });
  try {
    return readGgufHeader(reader);
  } finally {
    reader.close();
  }
}

/** llama.cpp's LLAMA_MAX_LAYERS: a model claiming more blocks aborts the process (GGML_ASSERT). */
const MAX_LAYERS = 512;

/**
 * Hyperparameters llama.cpp asserts on instead of failing: a block count of 0 or above 512, and a head count,
 * key/value head count, feed-forward or embedding width of 0 (each aborted the process, exit 134). Per-layer
 * arrays may hold zeros in hybrid architectures, so only llama's are held to at least 1.
 */
function checkShape(meta: Map<string, GgufValue>, architecture: string): string | undefined {
  const blocks = meta.get(`${architecture}.block_count`);
  if (typeof blocks !== 'number' || !Number.isInteger(blocks) || blocks < 1 || blocks > MAX_LAYERS) {
    return `${architecture}.block_count is ${String(blocks)}; llama.cpp takes 1 to ${MAX_LAYERS} layers`;
  }
  for (const key of ['attention.head_count', 'attention.head_count_kv', 'feed_forward_length', 'embedding_length']) {
    const value = meta.get(`${architecture}.${key}`);
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    if (Array.isArray(value) && value.length !== blocks) return `${architecture}.${key} lists ${value.length} layers, not ${blocks}`;
    const least = Array.isArray(value) && architecture !== 'llama' ? 0 : 1;
    if (values.some((v) => typeof v !== 'number' || !Number.isInteger(v) || v < least)) {
      return `${architecture}.${key} is ${Array.isArray(value) ? 'a list holding ' : ''}${values.find((v) => typeof v !== 'number' || v < least)}, and must be at least ${least}`;
    }
  }
  return undefined;
}

function firstDuplicate(values: readonly unknown[]): unknown {
  const seen = new Set<unknown>();
  for (const v of values) {
    // llama.cpp renames empty entries to unique placeholders, so only non-empty repeats collide.
    if (v === '') continue;
    if (seen.has(v)) return v;
    seen.add(v);
  }
  return undefined;
}
