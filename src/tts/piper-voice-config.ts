import { z } from 'zod';
import { PIPER_LIMITS } from './piper-voice-limits.js';

/** What earshot takes from a Piper voice's `.onnx.json` to make it loadable by sherpa-onnx. */
export interface PiperVoiceConfig {
  sampleRate: number;
  /** espeak-ng voice that phonemizes for this model, e.g. `en-us`. */
  espeakVoice: string;
  /** Language name for the metadata, e.g. `English`. */
  language: string;
  numSpeakers: number;
  /** Symbol and id; one id per symbol. */
  phonemeIds: [string, number][];
}

/** The `.onnx.json` is not a usable Piper config; `reason` says why. */
export class PiperConfigError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'PiperConfigError';
  }
}

const configSchema = z.object({
  audio: z.object({ sample_rate: z.number().int() }),
  espeak: z.object({ voice: z.string() }).optional(),
  lang_code: z.string().optional(),
  language: z.object({ name_english: z.string().optional(), code: z.string().optional() }).optional(),
  num_speakers: z.number().int().default(1),
  phoneme_type: z.string().default('espeak'),
  phoneme_id_map: z.record(z.string(), z.array(z.number().int()).min(1)),
});

/** An espeak-ng voice name as Piper configs write them (`en-us`, `en-gb-x-rp`, `de`). */
const ESPEAK_VOICE = /^[a-z]{2,3}(-[a-z0-9]{1,8})*$/;

/** Reads and bounds-checks a Piper `.onnx.json`; throws PiperConfigError. */
export function parsePiperConfig(text: string): PiperVoiceConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PiperConfigError('is not JSON');
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PiperConfigError(`is not a Piper voice config (${issue?.path.join('.') || 'root'}: ${issue?.message ?? 'invalid'})`);
  }
  const c = parsed.data;
  if (c.phoneme_type !== 'espeak') throw new PiperConfigError(`uses phoneme_type "${c.phoneme_type}"; earshot voices use espeak`);
  // Some published configs say 22500 where the audio is 22050 Hz.
  const sampleRate = c.audio.sample_rate === 22_500 ? 22_050 : c.audio.sample_rate;
  if (sampleRate < PIPER_LIMITS.minSampleRate || sampleRate > PIPER_LIMITS.maxSampleRate) {
    throw new PiperConfigError(`has sample_rate ${sampleRate}`);
  }
  if (c.num_speakers < 1 || c.num_speakers > PIPER_LIMITS.maxSpeakers) throw new PiperConfigError(`has num_speakers ${c.num_speakers}`);
  const espeakVoice = c.lang_code ?? c.espeak?.voice ?? '';
  if (!ESPEAK_VOICE.test(espeakVoice)) throw new PiperConfigError(`names espeak voice "${espeakVoice}"`);

  const phonemeIds: [string, number][] = [];
  for (const [symbol, ids] of Object.entries(c.phoneme_id_map)) {
    // A newline cannot be written as a line of tokens.txt; espeak-ng never emits one.
    if (symbol === '\n') continue;
    const id = ids[0]!;
    if ([...symbol].length !== 1) throw new PiperConfigError(`maps "${symbol}", which is not one character`);
    if (id < 0 || id >= PIPER_LIMITS.maxTokenId) throw new PiperConfigError(`maps "${symbol}" to id ${id}`);
    phonemeIds.push([symbol, id]);
  }
  const language = c.language?.name_english ?? c.language?.code ?? espeakVoice;
  return { sampleRate, espeakVoice, language, numSpeakers: c.num_speakers, phonemeIds };
}

/** tokens.txt in sherpa-onnx's form: `symbol id` per line, by id (JSON objects do not keep digit keys in file order). */
export function piperTokensText(config: PiperVoiceConfig): string {
  return [...config.phonemeIds]
    .sort((a, b) => a[1] - b[1])
    .map(([symbol, id]) => `${symbol} ${id}\n`)
    .join('');
}

/** The ONNX metadata sherpa-onnx reads to run a Piper voice (it exits the process when a required key is missing). */
export function piperMetadata(config: PiperVoiceConfig): Record<string, string> {
  return {
    model_type: 'vits',
    comment: 'piper',
    language: config.language,
    voice: config.espeakVoice,
    has_espeak: '1',
    n_speakers: String(config.numSpeakers),
    sample_rate: String(config.sampleRate),
  };
}
