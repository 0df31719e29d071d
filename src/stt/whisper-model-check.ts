import { basename } from 'node:path';
import { EarshotError, fetchHint } from '../errors.js';
import { BinaryReadError, BinaryReader } from '../util/binary-reader.js';
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

/**
 * The largest value of each dimension among the published whisper models (tiny to large-v3 and turbo: a 30 s
 * window of 1500 audio positions, 448 text positions, width up to 1280, 20 heads, 32 layers, 128 mel bands,
 * 51866 tokens). A file beyond them is not a whisper model earshot knows, and can make whisper.cpp allocate
 * gigabytes or run for minutes on a second of audio (n_audio_ctx 65536 took 42 s for 1 s).
 */
const LIMITS = {
  vocab: 51_866,
  audioCtx: 1_500,
  textCtx: 448,
  state: 1_280,
  heads: 20,
  layers: 32,
  mels: 128,
  fft: 1_024,
  tokenBytes: 4_096,
};

class Corrupt extends Error {}

/** Runs `read` and reports a read past the end of the file as the part of the model it was reading. */
function within<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof BinaryReadError) throw new Corrupt(`file ends inside ${what} (${e.message})`);
    throw e;
  }
}

function inRange(value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new Corrupt(`${what} = ${value} is out of range`);
  return value;
}

function readHparams(r: BinaryReader): WhisperHparams {
  const h: WhisperHparams = {
    nVocab: inRange(r.i32(), 1, LIMITS.vocab, 'n_vocab'),
    nAudioCtx: inRange(r.i32(), 1, LIMITS.audioCtx, 'n_audio_ctx'),
    nAudioState: inRange(r.i32(), 1, LIMITS.state, 'n_audio_state'),
    nAudioHead: inRange(r.i32(), 1, LIMITS.heads, 'n_audio_head'),
    nAudioLayer: inRange(r.i32(), 1, LIMITS.layers, 'n_audio_layer'),
    nTextCtx: inRange(r.i32(), 1, LIMITS.textCtx, 'n_text_ctx'),
    nTextState: inRange(r.i32(), 1, LIMITS.state, 'n_text_state'),
    nTextHead: inRange(r.i32(), 1, LIMITS.heads, 'n_text_head'),
    nTextLayer: inRange(r.i32(), 1, LIMITS.layers, 'n_text_layer'),
    nMels: inRange(r.i32(), 1, LIMITS.mels, 'n_mels'),
    ftype: inRange(r.i32(), 0, 100 * QNT_VERSION_FACTOR, 'ftype'),
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

function walkTensors(r: BinaryReader): number {
  const seen = new Set<string>();
  while (r.pos < r.size) {
    const at = seen.size;
    const [nDims, nameLen, ttype] = within(`tensor #${at} header`, () => [r.i32(), r.i32(), r.i32()]);
    inRange(nDims, 1, 4, `tensor #${at} n_dims`);
    inRange(nameLen, 1, 256, `tensor #${at} name length`);
    const blockSize = ggmlBlockSize(ttype);
    if (blockSize === undefined) throw new Corrupt(`tensor #${at} has unknown type ${ttype}`);
    const ne: number[] = [];
    for (let i = 0; i < nDims; i++) ne.push(inRange(within(`tensor #${at} shape`, () => r.i32()), 1, 1 << 30, `tensor #${at} ne[${i}]`));
    const name = within(`tensor #${at} name`, () => r.bytes(nameLen)).toString('latin1');
    if (!/^(encoder|decoder)\.[\w.]+$/.test(name)) throw new Corrupt(`tensor #${at} has an invalid name`);
    if (seen.has(name)) throw new Corrupt(`tensor ${name} appears twice`);
    seen.add(name);
    if (ne[0] % blockSize !== 0) throw new Corrupt(`tensor ${name} row of ${ne[0]} is not a whole number of type-${ttype} blocks`);
    within(`the data of tensor ${name}`, () => r.skip(Number(ggmlTensorBytes(ttype, ne.map(BigInt)))));
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
  let r: BinaryReader;
  try {
    r = BinaryReader.open(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new EarshotError('MODEL_MISSING', `whisper model not found: ${path}; run ${hint}`);
    if (code === 'EISDIR') throw new EarshotError('MODEL_MISSING', `whisper model ${path} is not a file; run ${hint}`);
    throw new EarshotError('MODEL_MISSING', `cannot read whisper model ${path} (${code ?? String(e)}); check the path or run ${hint}`);
  }
  try {
    const magic = within('the magic number', () => r.u32());
    if (magic !== GGML_MAGIC) throw new Corrupt(`not a whisper.cpp ggml model (magic 0x${magic.toString(16)})`);
    const hparams = within('hparams', () => readHparams(r));

    const [nMelRaw, nFftRaw] = within('mel filters', () => [r.i32(), r.i32()]);
    const nMel = inRange(nMelRaw, 1, LIMITS.mels, 'mel filter count');
    const nFft = inRange(nFftRaw, 1, LIMITS.fft, 'mel filter length');
    within('the mel filters', () => r.skip(nMel * nFft * 4));

    const vocabSize = inRange(within('vocabulary', () => r.i32()), 0, hparams.nVocab, 'vocabulary size');
    within('the vocabulary', () => {
      for (let i = 0; i < vocabSize; i++) r.skip(inRange(r.u32(), 0, LIMITS.tokenBytes, `token #${i} length`));
    });

    const tensorCount = walkTensors(r);
    const expected = expectedTensorCount(hparams);
    if (tensorCount !== expected) throw new Corrupt(`holds ${tensorCount} tensors, a model of this shape needs ${expected}`);
    return { path, sizeBytes: r.size, hparams, vocabSize, tensorCount, multilingual: hparams.nVocab >= 51865 };
  } catch (e) {
    if (e instanceof Corrupt) {
      throw new EarshotError('MODEL_CORRUPT', `whisper model ${path} is corrupt or truncated (${e.message}); re-download it: ${hint}`);
    }
    throw e;
  } finally {
    r.close();
  }
}
