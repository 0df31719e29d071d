import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { EarshotError, fetchHint } from '../errors.js';
import { ggmlBlockSize, ggmlTensorBytes } from '../util/ggml-tensor-types.js';

/** The "ggml" magic of whisper.cpp's legacy model format, read as a little-endian uint32. */
const GGML_MAGIC = 0x67676d6c;
/** whisper.cpp folds a quantization version into ftype as `ftype + 1000 * qntvr`. */
const QNT_VERSION_FACTOR = 1000;

export interface WhisperHparams {
  nVocab: number;
  nAudioCtx: number;
  nAudioState: number;
  nAudioHead: number;
  nAudioLayer: number;
  nTextCtx: number;
  nTextState: number;
  nTextHead: number;
  nTextLayer: number;
  nMels: number;
  ftype: number;
}

export interface WhisperModelInfo {
  path: string;
  sizeBytes: number;
  hparams: WhisperHparams;
  /** Token strings stored in the file (whisper.cpp adds the special tokens above this count itself). */
  vocabSize: number;
  tensorCount: number;
  /** True when the vocabulary holds the language tokens (a multilingual model, not `.en`). */
  multilingual: boolean;
}

export interface CheckWhisperModelOptions {
  /** Name used in the fix line (`npm run fetch-models -- --stt <name>`). Default: derived from the file name. */
  modelName?: string;
}

/** Upper bounds far above any released whisper model, low enough that a garbage header cannot make the
 * native loader attempt a multi-gigabyte allocation (which aborts the process instead of failing). */
const LIMITS = { vocab: 1_000_000, ctx: 65_536, state: 65_536, heads: 1_024, layers: 256, mels: 1_024, fft: 65_536, tokenBytes: 4_096 };

class Corrupt extends Error {}

/** Sequential little-endian reads over a file descriptor, through a small buffer, with bounds checks. */
class FileCursor {
  private buf = Buffer.alloc(64 * 1024);
  private bufStart = 0;
  private bufLen = 0;
  pos = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  private ensure(n: number, what: string): void {
    if (this.pos + n > this.size) throw new Corrupt(`file ends inside ${what}`);
    if (this.pos >= this.bufStart && this.pos + n <= this.bufStart + this.bufLen) return;
    if (n > this.buf.length) this.buf = Buffer.alloc(n);
    this.bufStart = this.pos;
    this.bufLen = readSync(this.fd, this.buf, 0, Math.min(this.buf.length, this.size - this.pos), this.pos);
    if (this.bufLen < n) throw new Corrupt(`file ends inside ${what}`);
  }

  int32(what: string): number {
    this.ensure(4, what);
    const v = this.buf.readInt32LE(this.pos - this.bufStart);
    this.pos += 4;
    return v;
  }

  uint32(what: string): number {
    this.ensure(4, what);
    const v = this.buf.readUInt32LE(this.pos - this.bufStart);
    this.pos += 4;
    return v;
  }

  bytes(n: number, what: string): Buffer {
    this.ensure(n, what);
    const off = this.pos - this.bufStart;
    this.pos += n;
    return Buffer.from(this.buf.subarray(off, off + n));
  }

  skip(n: number, what: string): void {
    if (this.pos + n > this.size) throw new Corrupt(`file ends inside ${what} (needs ${this.pos + n} bytes, has ${this.size})`);
    this.pos += n;
  }
}

function inRange(value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new Corrupt(`${what} = ${value} is out of range`);
  return value;
}

function readHparams(c: FileCursor): WhisperHparams {
  const h: WhisperHparams = {
    nVocab: inRange(c.int32('hparams'), 1, LIMITS.vocab, 'n_vocab'),
    nAudioCtx: inRange(c.int32('hparams'), 1, LIMITS.ctx, 'n_audio_ctx'),
    nAudioState: inRange(c.int32('hparams'), 1, LIMITS.state, 'n_audio_state'),
    nAudioHead: inRange(c.int32('hparams'), 1, LIMITS.heads, 'n_audio_head'),
    nAudioLayer: inRange(c.int32('hparams'), 1, LIMITS.layers, 'n_audio_layer'),
    nTextCtx: inRange(c.int32('hparams'), 1, LIMITS.ctx, 'n_text_ctx'),
    nTextState: inRange(c.int32('hparams'), 1, LIMITS.state, 'n_text_state'),
    nTextHead: inRange(c.int32('hparams'), 1, LIMITS.heads, 'n_text_head'),
    nTextLayer: inRange(c.int32('hparams'), 1, LIMITS.layers, 'n_text_layer'),
    nMels: inRange(c.int32('hparams'), 1, LIMITS.mels, 'n_mels'),
    ftype: inRange(c.int32('hparams'), 0, 100 * QNT_VERSION_FACTOR, 'ftype'),
  };
  if (h.nTextState !== h.nAudioState) throw new Corrupt(`n_text_state ${h.nTextState} != n_audio_state ${h.nAudioState}`);
  if (h.nAudioState % h.nAudioHead !== 0 || h.nTextState % h.nTextHead !== 0) {
    throw new Corrupt('attention width is not a multiple of the head count');
  }
  return h;
}

/** whisper.cpp builds exactly this many tensors and refuses a file that holds a different set. */
function expectedTensorCount(h: WhisperHparams): number {
  return 7 + 15 * h.nAudioLayer + 4 + 24 * h.nTextLayer;
}

function walkTensors(c: FileCursor): number {
  const seen = new Set<string>();
  while (c.pos < c.size) {
    const at = seen.size;
    const nDims = c.int32(`tensor #${at} header`);
    const nameLen = c.int32(`tensor #${at} header`);
    const ttype = c.int32(`tensor #${at} header`);
    inRange(nDims, 1, 4, `tensor #${at} n_dims`);
    inRange(nameLen, 1, 256, `tensor #${at} name length`);
    const blockSize = ggmlBlockSize(ttype);
    if (blockSize === undefined) throw new Corrupt(`tensor #${at} has unknown type ${ttype}`);
    const ne: number[] = [];
    for (let i = 0; i < nDims; i++) ne.push(inRange(c.int32(`tensor #${at} shape`), 1, 1 << 30, `tensor #${at} ne[${i}]`));
    const name = c.bytes(nameLen, `tensor #${at} name`).toString('latin1');
    if (!/^(encoder|decoder)\.[\w.]+$/.test(name)) throw new Corrupt(`tensor #${at} has an invalid name`);
    if (seen.has(name)) throw new Corrupt(`tensor ${name} appears twice`);
    seen.add(name);
    if (ne[0] % blockSize !== 0) throw new Corrupt(`tensor ${name} row of ${ne[0]} is not a whole number of type-${ttype} blocks`);
    c.skip(Number(ggmlTensorBytes(ttype, ne.map(BigInt))), `the data of tensor ${name}`);
  }
  return seen.size;
}

/**
 * The name `npm run fetch-models -- --stt <name>` knows a model file by: `ggml-tiny.en.bin` -> `tiny.en`; other
 * file names are not fetch-models' and give undefined (the fix line then stays generic).
 */
export function whisperModelName(path: string): string | undefined {
  return /^ggml-(.+)\.bin$/.exec(basename(path))?.[1];
}

/**
 * Reads a whisper.cpp ggml model's header, mel filters, vocabulary and every tensor header (skipping the
 * tensor data) and checks that the file is complete, so the native loader never sees a file it could crash on.
 * Throws EarshotError MODEL_MISSING or MODEL_CORRUPT with a one-line message that names the file and the fix.
 */
export function checkWhisperModel(path: string, options: CheckWhisperModelOptions = {}): WhisperModelInfo {
  const hint = fetchHint('stt', options.modelName ?? whisperModelName(path));
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new EarshotError('MODEL_MISSING', `whisper model not found: ${path}; run ${hint}`);
    throw new EarshotError('MODEL_MISSING', `cannot read whisper model ${path} (${code ?? String(e)}); check the path or run ${hint}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new EarshotError('MODEL_MISSING', `whisper model ${path} is not a file; run ${hint}`);
    const c = new FileCursor(fd, st.size);
    const magic = c.uint32('the magic number');
    if (magic !== GGML_MAGIC) throw new Corrupt(`not a whisper.cpp ggml model (magic 0x${magic.toString(16)})`);
    const hparams = readHparams(c);

    const nMel = inRange(c.int32('mel filters'), 1, LIMITS.mels, 'mel filter count');
    const nFft = inRange(c.int32('mel filters'), 1, LIMITS.fft, 'mel filter length');
    c.skip(nMel * nFft * 4, 'the mel filters');

    const vocabSize = inRange(c.int32('vocabulary'), 0, hparams.nVocab, 'vocabulary size');
    for (let i = 0; i < vocabSize; i++) {
      const len = inRange(c.uint32('vocabulary'), 0, LIMITS.tokenBytes, `token #${i} length`);
      c.skip(len, 'the vocabulary');
    }

    const tensorCount = walkTensors(c);
    const expected = expectedTensorCount(hparams);
    if (tensorCount !== expected) throw new Corrupt(`holds ${tensorCount} tensors, a model of this shape needs ${expected}`);
    return { path, sizeBytes: st.size, hparams, vocabSize, tensorCount, multilingual: hparams.nVocab >= 51865 };
  } catch (e) {
    if (e instanceof Corrupt) {
      throw new EarshotError('MODEL_CORRUPT', `whisper model ${path} is corrupt or truncated (${e.message}); re-download it: ${hint}`);
    }
    throw e;
  } finally {
    closeSync(fd);
  }
}
