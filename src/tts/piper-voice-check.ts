import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { EarshotError, fetchHint } from '../errors.js';
import { installHint, systemEspeakDataDirs } from '../util/platform-hints.js';
import { OnnxFormatError, readOnnxModelInfo, type OnnxModelInfo } from './onnx-model-info.js';
import { PIPER_INTEGER_METADATA, PIPER_LIMITS } from './piper-voice-limits.js';

/** Where Debian's `espeak-ng-data` package puts the phoneme data on x86-64 (the first of systemEspeakDataDirs() there). */
export const DEBIAN_ESPEAK_DATA_DIR = '/usr/lib/x86_64-linux-gnu/espeak-ng-data';

/** Files espeak-ng cannot start without; sherpa-onnx checks only the first. */
const ESPEAK_CORE_FILES = ['phontab', 'phonindex', 'phondata', 'intonations'];
/** Metadata keys sherpa-onnx reads without a default: if one is missing or empty it exits the whole process. */
const REQUIRED_METADATA = ['sample_rate', 'n_speakers', 'language', 'comment'];
const REQUIRED_INPUTS = ['input', 'input_lengths', 'scales'];
const REQUIRED_TOKENS = ['_', '^', '$'];
/** Piper's tokens.txt is about 1 kB. */
const MAX_TOKENS_BYTES = 1024 * 1024;

export interface PiperVoiceCheckOptions {
  /**
   * espeak-ng-data folder to phonemize with. Default: the voice folder's own `espeak-ng-data`, else the system's
   * (Debian's `/usr/lib/x86_64-linux-gnu/espeak-ng-data`, Homebrew's, ...: systemEspeakDataDirs()) when it exists. When given, it is used even if the voice has its own.
   */
  espeakDataDir?: string;
}

/** A voice folder that sherpa-onnx can load without exiting the process. */
export interface PiperVoice {
  dir: string;
  modelPath: string;
  tokensPath: string;
  espeakDataDir: string;
  sampleRate: number;
  /** As written in the metadata (Piper writes 1 for single-speaker voices). */
  numSpeakers: number;
  language: string;
  /** espeak-ng voice from the metadata (e.g. `en-us`), or '' when the model names none. */
  espeakVoice: string;
  /** ONNX file size in bytes. */
  modelBytes: number;
}

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isFile() ?? false;
}

/**
 * Checks tokens.txt the way sherpa-onnx reads it (`symbol id`, a line holding only an id is the space symbol),
 * since it exits the process on a symbol longer than one character or a repeated symbol.
 */
function checkTokens(text: string, tokensPath: string, fix: string): number {
  const seen = new Set<string>();
  let maxId = 0;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    const [symbol, id] = fields.length === 1 ? [' ', fields[0]] : [fields[0], fields[1]];
    const bad = (why: string) =>
      new EarshotError('MODEL_CORRUPT', `${tokensPath} line ${i + 1} ${why}; re-download the voice: ${fix}`);
    if (fields.length > 2 || !/^\d{1,9}$/.test(id)) throw bad('is not "symbol id"');
    if (Number(id) >= PIPER_LIMITS.maxTokenId) throw bad(`has the id ${id}, beyond any Piper symbol table`);
    maxId = Math.max(maxId, Number(id));
    if ([...symbol].length !== 1) throw bad(`has a symbol of ${[...symbol].length} characters (Piper uses one)`);
    if (seen.has(symbol)) throw bad(`repeats the symbol "${symbol}"`);
    seen.add(symbol);
  }
  const missing = REQUIRED_TOKENS.filter((t) => !seen.has(t));
  if (missing.length > 0) {
    throw new EarshotError(
      'MODEL_CORRUPT',
      `${tokensPath} lacks the Piper symbols ${missing.map((m) => `"${m}"`).join(' ')}; re-download the voice: ${fix}`,
    );
  }
  return maxId;
}

/** Ops that pass ids through unchanged in value, between the graph input and the table they index. */
const ID_PASS_THROUGH = new Set(['Identity', 'Reshape', 'Cast', 'Unsqueeze', 'Squeeze', 'Flatten']);

/**
 * Rows of the smallest table the model looks its `input` ids up in (a Gather on a stored weight, directly or
 * through reshapes), when the graph shows one; undefined otherwise. An id at or past it makes ONNX Runtime fail
 * inside sherpa-onnx, whose synthesis then never returns.
 */
function inputVocabulary(info: OnnxModelInfo): number | undefined {
  const ids = new Set(['input']);
  let rows: number | undefined;
  for (const node of info.nodes) {
    if (ID_PASS_THROUGH.has(node.op) && ids.has(node.inputs[0] ?? '')) node.outputs.forEach((o) => ids.add(o));
    const table = node.op === 'Gather' && ids.has(node.inputs[1] ?? '') ? info.initializerDims.get(node.inputs[0] ?? '') : undefined;
    if (table?.[0] !== undefined) rows = Math.min(rows ?? Infinity, table[0]);
  }
  return rows;
}

/** Why the metadata would make sherpa-onnx exit, or undefined when it is within bounds. */
function metadataProblem(info: OnnxModelInfo): string | undefined {
  const m = info.metadata;
  if (info.repeatedMetadata.length > 0) return `metadata lists ${info.repeatedMetadata.join(', ')} more than once`;
  const missingKeys = REQUIRED_METADATA.filter((k) => !m[k]);
  if (missingKeys.length > 0) return `metadata lacks ${missingKeys.join(', ')}`;
  if (!m.comment!.includes('piper')) return `metadata comment "${m.comment}" does not mention piper`;
  for (const [key, max] of Object.entries(PIPER_INTEGER_METADATA)) {
    const value = m[key];
    if (value === undefined || value === '') continue;
    if (!/^\d{1,9}$/.test(value) || Number(value) > max) return `${key} "${value}" is not a whole number from 0 to ${max}`;
  }
  if (Number(m.sample_rate) < PIPER_LIMITS.minSampleRate) return `sample_rate "${m.sample_rate}" is below ${PIPER_LIMITS.minSampleRate}`;
  if (Number(m.n_speakers) < 1) return `n_speakers "${m.n_speakers}" is below 1`;
  return undefined;
}

async function findEspeakData(
  voiceDir: string,
  options: PiperVoiceCheckOptions,
  espeakVoice: string,
  fix: string,
): Promise<string> {
  const own = path.join(voiceDir, 'espeak-ng-data');
  let dir: string | undefined;
  if (options.espeakDataDir !== undefined) {
    dir = path.resolve(options.espeakDataDir);
    if (!(await isDirectory(dir))) {
      throw new EarshotError('MODEL_MISSING', `espeak-ng data folder ${dir} not found; pass --espeak-data DIR with an existing folder`);
    }
  } else if (await isDirectory(own)) {
    dir = own;
  } else {
    dir = await firstDirectory(systemEspeakDataDirs());
    if (dir === undefined) {
      throw new EarshotError(
        'MODEL_MISSING',
        `No espeak-ng-data for voice ${voiceDir}; run ${fix}, pass --espeak-data DIR, or ${installHint('espeak-ng-data')}`,
      );
    }
  }
  const dict = espeakVoice ? `${espeakVoice.split('-')[0]}_dict` : undefined;
  for (const name of [...ESPEAK_CORE_FILES, ...(dict ? [dict] : [])]) {
    if (!(await isFile(path.join(dir, name)))) {
      throw new EarshotError(
        'MODEL_MISSING',
        `espeak-ng data folder ${dir} lacks ${name}; pass --espeak-data DIR with a complete espeak-ng-data folder`,
      );
    }
  }
  return dir;
}

/**
 * Locates and validates a sherpa-onnx Piper voice folder (one `.onnx`, `tokens.txt`, espeak-ng data) before any
 * native code sees it: sherpa-onnx exits the process on several kinds of bad input instead of throwing.
 * Throws EarshotError 'MODEL_MISSING' or 'MODEL_CORRUPT' with a one-line fix.
 */
export async function checkPiperVoice(voiceDir: string, options: PiperVoiceCheckOptions = {}): Promise<PiperVoice> {
  const dir = path.resolve(voiceDir);
  // Only a folder named like a Piper voice (en_US-amy-medium) is worth naming in the fetch-models line.
  const name = path.basename(dir);
  const fix = fetchHint('voice', /^[a-z]{2,3}_[A-Z]{2}-.+-(x_low|low|medium|high)$/.test(name) ? name : undefined);
  if (!(await isDirectory(dir))) {
    throw new EarshotError('MODEL_MISSING', `Voice folder ${dir} not found; run ${fix}`);
  }
  const onnxFiles = (await readdir(dir)).filter((f) => f.endsWith('.onnx')).sort();
  if (onnxFiles.length === 0) {
    throw new EarshotError('MODEL_MISSING', `No .onnx model in voice folder ${dir}; run ${fix}`);
  }
  if (onnxFiles.length > 1) {
    throw new EarshotError(
      'MODEL_CORRUPT',
      `Voice folder ${dir} holds ${onnxFiles.length} .onnx files (${onnxFiles.join(', ')}); keep one voice per folder`,
    );
  }
  const modelPath = path.join(dir, onnxFiles[0]);
  const tokensPath = path.join(dir, 'tokens.txt');
  if (!(await isFile(tokensPath))) {
    throw new EarshotError('MODEL_MISSING', `Voice folder ${dir} has no tokens.txt; run ${fix}`);
  }
  if ((await stat(tokensPath)).size > MAX_TOKENS_BYTES) {
    throw new EarshotError('MODEL_CORRUPT', `${tokensPath} is larger than any Piper symbol table; re-download the voice: ${fix}`);
  }
  const maxTokenId = checkTokens(await readFile(tokensPath, 'utf8'), tokensPath, fix);

  let info;
  try {
    info = await readOnnxModelInfo(modelPath);
  } catch (e) {
    if (e instanceof OnnxFormatError) {
      throw new EarshotError('MODEL_CORRUPT', `${modelPath} ${e.reason}; re-download it: ${fix}`, { cause: e });
    }
    throw e;
  }
  const notPiper = (why: string) =>
    new EarshotError('MODEL_CORRUPT', `${modelPath} is not a sherpa-onnx Piper voice (${why}); re-download it: ${fix}`);
  const m = info.metadata;
  const problem = metadataProblem(info);
  if (problem) throw notPiper(problem);
  const vocabulary = inputVocabulary(info);
  if (vocabulary !== undefined && maxTokenId >= vocabulary) {
    throw new EarshotError('MODEL_CORRUPT', `${tokensPath} uses the id ${maxTokenId}, but ${modelPath} has only ${vocabulary} symbols; re-download the voice: ${fix}`);
  }
  const sampleRate = Number(m.sample_rate);
  const missingInputs = REQUIRED_INPUTS.filter((n) => !info.inputNames.includes(n));
  if (missingInputs.length > 0) throw notPiper(`graph lacks input ${missingInputs.join(', ')}`);
  if (info.outputNames.length === 0) throw notPiper('graph has no output');

  const espeakVoice = m.voice ?? '';
  const espeakDataDir = await findEspeakData(dir, options, espeakVoice, fix);
  return {
    dir,
    modelPath,
    tokensPath,
    espeakDataDir,
    sampleRate,
    numSpeakers: Number(m.n_speakers),
    language: m.language,
    espeakVoice,
    modelBytes: info.bytes,
  };
}

async function firstDirectory(candidates: readonly string[]): Promise<string | undefined> {
  for (const dir of candidates) if (await isDirectory(dir)) return dir;
  return undefined;
}
