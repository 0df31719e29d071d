import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EarshotError } from '../../src/errors.js';
import { float16Bits, roundToFloat16 } from './float16.js';
import { melFilterbank } from './mel-filterbank.js';
import { createSeededRandom } from './seeded-random.js';

/** `micro`: width 64, one layer each side, ~7.5 MB. `tiny.en`: the real tiny.en dimensions and compute, ~78 MB. */
export type ScriptedWhisperShape = 'micro' | 'tiny.en';

export interface ScriptedWhisperModelOptions {
  /** Where to write the `.bin` file; parent folders are created. Written to a temporary name, then renamed. */
  path: string;
  /** The text whisper.cpp will transcribe from any audio, split on whitespace into one token per word. */
  script: string;
  /** Model dimensions. Default: 'micro'. */
  shape?: ScriptedWhisperShape;
  /** Seed of the random encoder and attention weights; the same seed writes the same bytes. Default: 1. */
  seed?: number;
}

export interface ScriptedWhisperModel {
  path: string;
  /** File size in bytes. */
  bytes: number;
  /** What whisper.cpp transcribes with this model, trimmed: the script's words joined by single spaces. */
  text: string;
}

interface WhisperDims {
  nVocab: number;
  nAudioCtx: number;
  nState: number;
  nHead: number;
  nAudioLayer: number;
  nTextCtx: number;
  nTextLayer: number;
  nMels: number;
}

const SHAPES: Record<ScriptedWhisperShape, WhisperDims> = {
  micro: { nVocab: 51864, nAudioCtx: 1500, nState: 64, nHead: 1, nAudioLayer: 1, nTextCtx: 448, nTextLayer: 1, nMels: 80 },
  'tiny.en': { nVocab: 51864, nAudioCtx: 1500, nState: 384, nHead: 6, nAudioLayer: 4, nTextCtx: 448, nTextLayer: 4, nMels: 80 },
};

const GGML_FILE_MAGIC = 0x67676d6c;
const GGML_TYPE_F32 = 0;
const GGML_TYPE_F16 = 1;
const FTYPE_MOSTLY_F16 = 1;
const LAYER_NORM_EPS = 1e-5;

// whisper.cpp's fixed ids for an English-only vocabulary (n_vocab 51864): every id from SOT up is a special
// or timestamp token.
const TOKEN_EOT = 50256;
const TOKEN_SOT = 50257;

// The decoder's residual stream uses one dimension ("slot") per meaning: anything that can start a
// transcript, end-of-text, the window-end timestamp, then one slot per script word.
const SLOT_START = 0;
const SLOT_EOT = 1;
const SLOT_WINDOW_END = 2;
const FIRST_WORD_SLOT = 3;
/** Vocab id of script word i is FIRST_WORD_ID + i; id 0 is " ", which whisper.cpp's suppress_blank looks up. */
const FIRST_WORD_ID = 1;

/** Pre-activation of a rule's FFN unit when its token is the input (and minus this for any other token). */
const RULE_PREACTIVATION = 10;
/** Size of the push towards the next token, and of the always-on push towards end-of-text. */
const NEXT_TOKEN_PUSH = 10;
const DEFAULT_EOT_PUSH = 10;
/**
 * After the last word, the push towards end-of-text next to the window-end timestamp's NEXT_TOKEN_PUSH: about
 * 18 logits below it, so the timestamp wins when timestamps are on, and end-of-text wins when they are masked.
 */
const RUNNER_UP_EOT_PUSH = 5;
/** Logit of the chosen next token; every token outside the script sits at 0, so its log-prob is about -2e-13. */
const TARGET_LOGIT = 40;

function scriptWords(script: string): string[] {
  return script.split(/\s+/).filter((w) => w.length > 0);
}

function maxScriptWords(dims: WhisperDims): number {
  // One slot and one FFN unit per word (plus the start and window-end rules); and whisper.cpp gives up on a
  // window after n_text_ctx/2 - 4 steps (a "repetition loop"): the words, the closing timestamp and
  // end-of-text must fit.
  return Math.min(dims.nState - FIRST_WORD_SLOT, 4 * dims.nState - 2, dims.nTextCtx / 2 - 6);
}

function validate(options: ScriptedWhisperModelOptions): { dims: WhisperDims; words: string[]; seed: number } {
  const shape = options.shape ?? 'micro';
  if (!Object.hasOwn(SHAPES, shape)) {
    throw new EarshotError('BAD_OPTION', `Unknown scripted whisper shape '${String(shape)}': use 'micro' or 'tiny.en'.`);
  }
  const dims = SHAPES[shape];
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new EarshotError('BAD_OPTION', `Seed ${seed} for the scripted whisper model is not an integer in 0..2^32-1.`);
  }
  const words = scriptWords(options.script);
  if (words.length === 0) {
    throw new EarshotError('BAD_OPTION', 'The scripted whisper model needs a non-empty script: pass the text it should transcribe.');
  }
  const max = maxScriptWords(dims);
  if (words.length > max) {
    throw new EarshotError(
      'BAD_OPTION',
      `The script has ${words.length} words but shape '${shape}' holds at most ${max}: shorten it` +
        (shape === 'micro' ? ` or use shape 'tiny.en'.` : '.'),
    );
  }
  return { dims, words, seed };
}

interface Tensor {
  name: string;
  /** ggml order: ne[0] is the contiguous dimension. */
  ne: number[];
  /** Float32Array is written as F32, Uint16Array as F16 bit patterns. */
  data: Float32Array | Uint16Array;
}

function tensorBytes(tensor: Tensor): Buffer[] {
  const name = Buffer.from(tensor.name, 'utf8');
  const header = Buffer.alloc(4 * (3 + tensor.ne.length));
  header.writeInt32LE(tensor.ne.length, 0);
  header.writeInt32LE(name.length, 4);
  header.writeInt32LE(tensor.data instanceof Float32Array ? GGML_TYPE_F32 : GGML_TYPE_F16, 8);
  tensor.ne.forEach((n, i) => header.writeInt32LE(n, 12 + 4 * i));
  return [Buffer.concat([header, name]), Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength)];
}

function headerBytes(dims: WhisperDims, words: string[]): Buffer[] {
  const hparams = Buffer.alloc(4 * 12);
  [
    GGML_FILE_MAGIC,
    dims.nVocab,
    dims.nAudioCtx,
    dims.nState,
    dims.nHead,
    dims.nAudioLayer,
    dims.nTextCtx,
    dims.nState,
    dims.nHead,
    dims.nTextLayer,
    dims.nMels,
    FTYPE_MOSTLY_F16,
  ].forEach((v, i) => hparams.writeUInt32LE(v, 4 * i));

  const nFft = 400;
  const filters = melFilterbank({ sampleRate: 16_000, nFft, nMels: dims.nMels });
  const filterHeader = Buffer.alloc(8);
  filterHeader.writeInt32LE(dims.nMels, 0);
  filterHeader.writeInt32LE(nFft / 2 + 1, 4);

  // Only " " and the script's words are written; whisper.cpp names the remaining ids itself ("[_extra_token_N]",
  // "[_SOT_]", timestamps). A repeated word is written again under its own id, so each position stays distinct.
  const vocab = [' ', ...words.map((w) => ` ${w}`)].map((t) => Buffer.from(t, 'utf8'));
  const vocabHeader = Buffer.alloc(4);
  vocabHeader.writeInt32LE(vocab.length, 0);
  const vocabEntries = vocab.flatMap((token) => {
    const length = Buffer.alloc(4);
    length.writeUInt32LE(token.length, 0);
    return [length, token];
  });

  return [hparams, filterHeader, Buffer.from(filters.buffer), vocabHeader, ...vocabEntries];
}

type Random = () => number;

/** Uniform noise with standard deviation `std`: the scale matters for keeping activations finite, not the law. */
function randomF16(count: number, std: number, random: Random): Uint16Array {
  const out = new Uint16Array(count);
  const width = 2 * Math.sqrt(3) * std;
  for (let i = 0; i < count; i++) out[i] = float16Bits((random() - 0.5) * width);
  return out;
}

function randomF32(count: number, std: number, random: Random): Float32Array {
  const out = new Float32Array(count);
  const width = 2 * Math.sqrt(3) * std;
  for (let i = 0; i < count; i++) out[i] = (random() - 0.5) * width;
  return out;
}

function filledF32(count: number, value: number): Float32Array {
  return new Float32Array(count).fill(value);
}

/** Whisper's encoder positional embedding: sines then cosines over geometric timescales, one row per frame. */
function sinusoids(length: number, channels: number): Float32Array {
  const half = channels / 2;
  const increment = Math.log(10_000) / (half - 1);
  const out = new Float32Array(length * channels);
  for (let t = 0; t < length; t++) {
    for (let c = 0; c < half; c++) {
      const angle = t * Math.exp(-increment * c);
      out[t * channels + c] = Math.sin(angle);
      out[t * channels + half + c] = Math.cos(angle);
    }
  }
  return out;
}

function* encoderTensors(dims: WhisperDims, random: Random): Generator<Tensor> {
  const d = dims.nState;
  const bias = (n: number) => randomF32(n, 0.02, random);
  yield { name: 'encoder.positional_embedding', ne: [d, dims.nAudioCtx], data: sinusoids(dims.nAudioCtx, d) };
  yield { name: 'encoder.conv1.weight', ne: [3, dims.nMels, d], data: randomF16(3 * dims.nMels * d, 1 / Math.sqrt(3 * dims.nMels), random) };
  yield { name: 'encoder.conv1.bias', ne: [1, d], data: bias(d) };
  yield { name: 'encoder.conv2.weight', ne: [3, d, d], data: randomF16(3 * d * d, 1 / Math.sqrt(3 * d), random) };
  yield { name: 'encoder.conv2.bias', ne: [1, d], data: bias(d) };
  for (let l = 0; l < dims.nAudioLayer; l++) {
    const p = `encoder.blocks.${l}`;
    yield { name: `${p}.attn_ln.weight`, ne: [d], data: filledF32(d, 1) };
    yield { name: `${p}.attn_ln.bias`, ne: [d], data: filledF32(d, 0) };
    yield { name: `${p}.attn.query.weight`, ne: [d, d], data: randomF16(d * d, 1 / Math.sqrt(d), random) };
    yield { name: `${p}.attn.query.bias`, ne: [d], data: bias(d) };
    yield { name: `${p}.attn.key.weight`, ne: [d, d], data: randomF16(d * d, 1 / Math.sqrt(d), random) };
    yield { name: `${p}.attn.value.weight`, ne: [d, d], data: randomF16(d * d, 1 / Math.sqrt(d), random) };
    yield { name: `${p}.attn.value.bias`, ne: [d], data: bias(d) };
    yield { name: `${p}.attn.out.weight`, ne: [d, d], data: randomF16(d * d, 1 / Math.sqrt(d), random) };
    yield { name: `${p}.attn.out.bias`, ne: [d], data: bias(d) };
    yield { name: `${p}.mlp_ln.weight`, ne: [d], data: filledF32(d, 1) };
    yield { name: `${p}.mlp_ln.bias`, ne: [d], data: filledF32(d, 0) };
    yield { name: `${p}.mlp.0.weight`, ne: [d, 4 * d], data: randomF16(4 * d * d, 1 / Math.sqrt(d), random) };
    yield { name: `${p}.mlp.0.bias`, ne: [4 * d], data: bias(4 * d) };
    yield { name: `${p}.mlp.2.weight`, ne: [4 * d, d], data: randomF16(4 * d * d, 1 / Math.sqrt(4 * d), random) };
    yield { name: `${p}.mlp.2.bias`, ne: [d], data: bias(d) };
  }
  yield { name: 'encoder.ln_post.weight', ne: [d], data: filledF32(d, 1) };
  yield { name: 'encoder.ln_post.bias', ne: [d], data: filledF32(d, 0) };
}

/** One FFN unit of decoder layer 0: "when the input token is in slot `from`, push the stream by `to`". */
interface Rule {
  from: number;
  to: ReadonlyArray<{ slot: number; push: number }>;
}

/**
 * start -> word 0 -> ... -> last word -> <|30.00|> -> end-of-text. The closing timestamp makes whisper.cpp move
 * on by a whole window; without one, every window but the last counts as a failed decode and falls back to
 * higher temperatures. When timestamps are off, whisper.cpp masks it and the runner-up, end-of-text, follows.
 */
function scriptRules(wordCount: number): Rule[] {
  const next = (slot: number) => [{ slot, push: NEXT_TOKEN_PUSH }];
  const rules: Rule[] = [{ from: SLOT_START, to: next(FIRST_WORD_SLOT) }];
  for (let i = 0; i + 1 < wordCount; i++) rules.push({ from: FIRST_WORD_SLOT + i, to: next(FIRST_WORD_SLOT + i + 1) });
  rules.push({
    from: FIRST_WORD_SLOT + wordCount - 1,
    to: [
      { slot: SLOT_WINDOW_END, push: NEXT_TOKEN_PUSH },
      { slot: SLOT_EOT, push: RUNNER_UP_EOT_PUSH },
    ],
  });
  rules.push({ from: SLOT_WINDOW_END, to: next(SLOT_EOT) });
  return rules;
}

/** ggml's tanh approximation of GELU, which its CPU backend tabulates in half precision. */
function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/**
 * Token embedding: every script word, end-of-text, the window-end timestamp and the start class (SOT,
 * no-timestamps, previous-text, other timestamps...) is a one-hot vector on its own slot; all other tokens are
 * zero. The same matrix is the output projection, so a residual stream pointing at one slot gives that slot's
 * tokens the top logit.
 */
function tokenEmbedding(dims: WhisperDims, wordCount: number): Uint16Array {
  const d = dims.nState;
  const out = new Uint16Array(d * dims.nVocab);
  const one = float16Bits(1);
  for (let i = 0; i < wordCount; i++) out[(FIRST_WORD_ID + i) * d + FIRST_WORD_SLOT + i] = one;
  out[TOKEN_EOT * d + SLOT_EOT] = one;
  // The last id is the timestamp at the end of the 30 s window (n_audio_ctx 1500 frames, 20 ms each).
  const windowEnd = dims.nVocab - 1;
  for (let id = TOKEN_SOT; id < windowEnd; id++) out[id * d + SLOT_START] = one;
  out[windowEnd * d + SLOT_WINDOW_END] = one;
  return out;
}

/**
 * Decoder layer 0's FFN turns the one-hot input into a push towards the next token: unit r fires only when its
 * rule's slot is the input, and writes the rule's pushes while cancelling both the input and the default
 * end-of-text bias. With no rule firing (any token outside the script) the bias wins: EOT.
 */
function scriptFeedForward(d: number, rules: Rule[]): { up: Uint16Array; upBias: Float32Array; down: Uint16Array; downBias: Float32Array } {
  const hidden = 4 * d;
  // mlp_ln of a one-hot vector: the hot entry and every cold entry after normalisation.
  const mean = 1 / d;
  const invStd = 1 / Math.sqrt(mean * (1 - mean) + LAYER_NORM_EPS);
  const hot = roundToFloat16((1 - mean) * invStd);
  const cold = roundToFloat16(-mean * invStd);
  const weight = roundToFloat16((2 * RULE_PREACTIVATION) / (hot - cold));
  const activation = roundToFloat16(gelu(RULE_PREACTIVATION));

  const up = new Uint16Array(d * hidden);
  const upBias = filledF32(hidden, -RULE_PREACTIVATION);
  const downF32 = new Float32Array(hidden * d);
  rules.forEach((rule, unit) => {
    up[unit * d + rule.from] = float16Bits(weight);
    upBias[unit] = RULE_PREACTIVATION - weight * hot;
    for (const { slot, push } of rule.to) downF32[slot * hidden + unit] += push / activation;
    downF32[SLOT_EOT * hidden + unit] -= DEFAULT_EOT_PUSH / activation;
    downF32[rule.from * hidden + unit] -= 1 / activation;
  });
  const down = new Uint16Array(hidden * d);
  for (let i = 0; i < down.length; i++) down[i] = float16Bits(downF32[i]);
  const downBias = new Float32Array(d);
  downBias[SLOT_EOT] = DEFAULT_EOT_PUSH;
  return { up, upBias, down, downBias };
}

function* decoderTensors(dims: WhisperDims, wordCount: number, random: Random): Generator<Tensor> {
  const d = dims.nState;
  const bias = (n: number) => randomF32(n, 0.02, random);
  // Zero positions keep the residual stream exactly one-hot, so the same word maps the same way at any offset.
  yield { name: 'decoder.positional_embedding', ne: [d, dims.nTextCtx], data: new Float32Array(d * dims.nTextCtx) };
  yield { name: 'decoder.token_embedding.weight', ne: [d, dims.nVocab], data: tokenEmbedding(dims, wordCount) };
  const ffn = scriptFeedForward(d, scriptRules(wordCount));
  for (let l = 0; l < dims.nTextLayer; l++) {
    const p = `decoder.blocks.${l}`;
    // Attention runs on random weights (the real cost) but its output projections are zero: it never steers.
    for (const block of ['attn', 'cross_attn']) {
      yield { name: `${p}.${block}_ln.weight`, ne: [d], data: filledF32(d, 1) };
      yield { name: `${p}.${block}_ln.bias`, ne: [d], data: filledF32(d, 0) };
      yield { name: `${p}.${block}.query.weight`, ne: [d, d], data: randomF16(d * d, 1 / Math.sqrt(d), random) };
      yield { name: `${p}.${block}.query.bias`, ne: [d], data: bias(d) };
      yield { name: `${p}.${block}.key.weight`, ne: [d, d], data: randomF16(d * d, 1 / Math.sqrt(d), random) };
      yield { name: `${p}.${block}.value.weight`, ne: [d, d], data: randomF16(d * d, 1 / Math.sqrt(d), random) };
      yield { name: `${p}.${block}.value.bias`, ne: [d], data: bias(d) };
      yield { name: `${p}.${block}.out.weight`, ne: [d, d], data: new Uint16Array(d * d) };
      yield { name: `${p}.${block}.out.bias`, ne: [d], data: new Float32Array(d) };
    }
    yield { name: `${p}.mlp_ln.weight`, ne: [d], data: filledF32(d, 1) };
    yield { name: `${p}.mlp_ln.bias`, ne: [d], data: filledF32(d, 0) };
    if (l === 0) {
      yield { name: `${p}.mlp.0.weight`, ne: [d, 4 * d], data: ffn.up };
      yield { name: `${p}.mlp.0.bias`, ne: [4 * d], data: ffn.upBias };
      yield { name: `${p}.mlp.2.weight`, ne: [4 * d, d], data: ffn.down };
      yield { name: `${p}.mlp.2.bias`, ne: [d], data: ffn.downBias };
    } else {
      yield { name: `${p}.mlp.0.weight`, ne: [d, 4 * d], data: randomF16(4 * d * d, 1 / Math.sqrt(d), random) };
      yield { name: `${p}.mlp.0.bias`, ne: [4 * d], data: bias(4 * d) };
      yield { name: `${p}.mlp.2.weight`, ne: [4 * d, d], data: new Uint16Array(4 * d * d) };
      yield { name: `${p}.mlp.2.bias`, ne: [d], data: new Float32Array(d) };
    }
  }
  // After the final norm a one-hot stream reads sqrt(d - 1) on its slot; scale that to TARGET_LOGIT.
  yield { name: 'decoder.ln.weight', ne: [d], data: filledF32(d, TARGET_LOGIT / Math.sqrt(d - 1)) };
  yield { name: 'decoder.ln.bias', ne: [d], data: filledF32(d, 0) };
}

/**
 * Writes a whisper.cpp ggml model (real format, real encoder/decoder compute) that transcribes any audio as
 * `script` (greedy or beam search, timestamps on or off), with every token at probability ~1, no temperature
 * fallback and a near-zero no-speech probability. Each 30 s window of audio yields the script once, as one
 * segment that ends at the window's end.
 */
export async function writeScriptedWhisperModel(options: ScriptedWhisperModelOptions): Promise<ScriptedWhisperModel> {
  const { dims, words, seed } = validate(options);
  const random = createSeededRandom(seed);

  await mkdir(dirname(options.path), { recursive: true });
  const tmpPath = `${options.path}.tmp-${process.pid}`;
  const file = await open(tmpPath, 'w');
  let bytes = 0;
  const write = async (chunks: Buffer[]) => {
    for (const chunk of chunks) {
      for (let offset = 0; offset < chunk.length; ) {
        const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset, bytes);
        offset += bytesWritten;
        bytes += bytesWritten;
      }
    }
  };
  try {
    await write([Buffer.concat(headerBytes(dims, words))]);
    for (const tensor of encoderTensors(dims, random)) await write(tensorBytes(tensor));
    for (const tensor of decoderTensors(dims, words.length, random)) await write(tensorBytes(tensor));
    await file.close();
    await rename(tmpPath, options.path);
  } catch (e) {
    await file.close().catch(() => undefined);
    await rm(tmpPath, { force: true });
    throw e;
  }
  return { path: options.path, bytes, text: words.join(' ') };
}
