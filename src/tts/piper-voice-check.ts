import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { EarshotError, fetchHint } from '../errors.js';
import { OnnxFormatError, readOnnxModelInfo } from './onnx-model-info.js';

/** Where Debian's `espeak-ng-data` package puts the phoneme data. */
export const DEBIAN_ESPEAK_DATA_DIR = '/usr/lib/x86_64-linux-gnu/espeak-ng-data';

/** Files espeak-ng cannot start without; sherpa-onnx checks only the first. */
const ESPEAK_CORE_FILES = ['phontab', 'phonindex', 'phondata', 'intonations'];
/** Metadata keys sherpa-onnx reads without a default: if one is missing it exits the whole process. */
const REQUIRED_METADATA = ['sample_rate', 'n_speakers', 'language', 'comment'];
const REQUIRED_INPUTS = ['input', 'input_lengths', 'scales'];
const REQUIRED_TOKENS = ['_', '^', '$'];

export interface PiperVoiceCheckOptions {
  /**
   * espeak-ng-data folder to phonemize with. Default: the voice folder's own `espeak-ng-data`, else Debian's
   * `/usr/lib/x86_64-linux-gnu/espeak-ng-data` when it exists. When given, it is used even if the voice has its own.
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
function checkTokens(text: string, tokensPath: string, fix: string): void {
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    const [symbol, id] = fields.length === 1 ? [' ', fields[0]] : [fields[0], fields[1]];
    const bad = (why: string) =>
      new EarshotError('MODEL_CORRUPT', `${tokensPath} line ${i + 1} ${why}; re-download the voice: ${fix}`);
    if (fields.length > 2 || !/^\d+$/.test(id)) throw bad('is not "symbol id"');
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
  } else if (await isDirectory(DEBIAN_ESPEAK_DATA_DIR)) {
    dir = DEBIAN_ESPEAK_DATA_DIR;
  } else {
    throw new EarshotError(
      'MODEL_MISSING',
      `No espeak-ng-data for voice ${voiceDir}; run ${fix}, pass --espeak-data DIR, or apt-get install espeak-ng-data`,
    );
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
  checkTokens(await readFile(tokensPath, 'utf8'), tokensPath, fix);

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
  const missingKeys = REQUIRED_METADATA.filter((k) => m[k] === undefined);
  if (missingKeys.length > 0) throw notPiper(`metadata lacks ${missingKeys.join(', ')}`);
  if (!m.comment.includes('piper')) throw notPiper(`metadata comment "${m.comment}" does not mention piper`);
  const sampleRate = Number(m.sample_rate);
  if (!/^\d+$/.test(m.sample_rate) || sampleRate < 1000) throw notPiper(`sample_rate "${m.sample_rate}"`);
  if (!/^\d+$/.test(m.n_speakers)) throw notPiper(`n_speakers "${m.n_speakers}"`);
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
