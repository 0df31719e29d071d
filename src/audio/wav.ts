import { readFile, writeFile } from 'node:fs/promises';
import wavefile from 'wavefile';
import { EarshotError } from '../errors.js';
import { float32ToInt16, PIPELINE_SAMPLE_RATE, type PcmChunk } from './pcm.js';
import { resample } from './resample.js';

const { WaveFile } = wavefile;

/** Rates earshot accepts from files; anything else is more likely a broken header than real audio. */
const MIN_RATE = 8_000;
const MAX_RATE = 48_000;

/**
 * Decodes any common WAV (8-48 kHz, mono or stereo, 8/16/24/32-bit int or 32/64-bit float, plain or
 * WAVE_FORMAT_EXTENSIBLE) to mono float32 at the file's own rate. Channels are averaged.
 */
export function decodeWav(bytes: Uint8Array, name = 'input'): PcmChunk {
  let wav: InstanceType<typeof WaveFile>;
  try {
    // A fresh copy: wavefile reads the whole underlying ArrayBuffer, and Node's Buffers share a pooled one.
    wav = new WaveFile(new Uint8Array(bytes));
  } catch (e) {
    throw new EarshotError('BAD_AUDIO', `${name} is not a readable WAV file (${(e as Error).message}); give a .wav file, e.g. convert with: sox ${name} -r 16000 -c 1 out.wav`);
  }
  // Copied out: toBitDepth() below rebuilds the header in place and zeroes the original fmt fields.
  const fmt = { ...(wav.fmt as { numChannels: number; sampleRate: number }) };
  if (fmt.sampleRate < MIN_RATE || fmt.sampleRate > MAX_RATE) {
    throw new EarshotError('BAD_AUDIO', `${name} has a sample rate of ${fmt.sampleRate} Hz; earshot reads 8000-48000 Hz WAV files (convert with: sox ${name} -r 16000 out.wav)`);
  }
  if (fmt.numChannels < 1 || fmt.numChannels > 8) {
    throw new EarshotError('BAD_AUDIO', `${name} has ${fmt.numChannels} channels; give a mono or stereo WAV`);
  }
  const data = (wav as unknown as { data: { samples: Uint8Array } }).data;
  if (!data || data.samples.length === 0) {
    throw new EarshotError('BAD_AUDIO', `${name} holds no audio samples (empty or truncated WAV)`);
  }
  let channels: Float64Array[];
  try {
    if (wav.bitDepth !== '32f' && wav.bitDepth !== '64') wav.toBitDepth('32f');
    const raw = wav.getSamples(false, Float64Array) as unknown;
    channels = fmt.numChannels === 1 ? [raw as Float64Array] : (raw as Float64Array[]);
  } catch (e) {
    throw new EarshotError('BAD_AUDIO', `${name} could not be decoded (${(e as Error).message}); re-encode it as 16-bit PCM WAV`);
  }
  const frames = channels[0].length;
  const mono = new Float32Array(frames);
  for (const ch of channels) for (let i = 0; i < frames; i++) mono[i] += ch[i] / channels.length;
  return { samples: mono, sampleRate: fmt.sampleRate };
}

/** Reads a WAV file and returns mono float32 at 16 kHz, ready for VAD and STT. */
export async function readWavForPipeline(path: string): Promise<PcmChunk> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code})`;
    throw new EarshotError('BAD_AUDIO', `input ${path} ${why}; give a WAV file with --input FILE`);
  }
  const decoded = decodeWav(bytes, path);
  return { samples: await resample(decoded.samples, decoded.sampleRate, PIPELINE_SAMPLE_RATE), sampleRate: PIPELINE_SAMPLE_RATE };
}

export function encodeWav(chunk: PcmChunk): Uint8Array {
  const wav = new WaveFile();
  wav.fromScratch(1, chunk.sampleRate, '16', float32ToInt16(chunk.samples));
  return wav.toBuffer();
}

export async function writeWav(path: string, chunk: PcmChunk): Promise<void> {
  await writeFile(path, encodeWav(chunk));
}
