import wavefile from 'wavefile';
import { EarshotError, firstLine } from '../errors.js';
import { isDiskFull } from '../models/disk-space.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { BinaryReadError, BinaryReader } from '../util/binary-reader.js';
import { float32ToInt16, PIPELINE_SAMPLE_RATE, type PcmChunk } from './pcm.js';
import { resample } from './resample.js';

const { WaveFile } = wavefile;

/** Rates earshot accepts from files; anything else is more likely a broken header than real audio. */
const MIN_RATE = 8_000;
const MAX_RATE = 48_000;
const MAX_CHANNELS = 8;

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;
/** Frames decoded per read: the file is never held in memory whole. */
const BLOCK_FRAMES = 64 * 1024;

interface WavFormat {
  format: number;
  channels: number;
  sampleRate: number;
  bits: number;
  blockAlign: number;
}

/** The file is not a WAV earshot can read; `reason` completes "<name> is not a readable WAV file (...)". */
class NotWav extends Error {}

function readFormat(r: BinaryReader, size: number): WavFormat {
  if (size < 16) throw new NotWav('its fmt chunk is too short');
  const start = r.pos;
  let format = r.u16();
  const channels = r.u16();
  const sampleRate = r.u32();
  r.skip(4);
  const blockAlign = r.u16();
  const bits = r.u16();
  if (format === FORMAT_EXTENSIBLE) {
    if (size < 40) throw new NotWav('its extensible fmt chunk is too short');
    r.skip(8);
    // The sub-format GUID starts with the plain format code.
    format = r.u16();
  }
  r.pos = start;
  return { format, channels, sampleRate, bits, blockAlign };
}

/** Converts one little-endian sample at `at` to [-1, 1]. */
function sampleReader(fmt: WavFormat, name: string): (b: Buffer, at: number) => number {
  const { format, bits } = fmt;
  if (format === FORMAT_PCM) {
    if (bits === 8) return (b, at) => (b[at]! - 128) / 128;
    if (bits === 16) return (b, at) => b.readInt16LE(at) / 32_768;
    if (bits === 24) return (b, at) => b.readIntLE(at, 3) / 8_388_608;
    if (bits === 32) return (b, at) => b.readInt32LE(at) / 2_147_483_648;
    // The high word alone carries 31 bits of precision, far below anything audible.
    if (bits === 64) return (b, at) => b.readInt32LE(at + 4) / 2_147_483_648;
  }
  if (format === FORMAT_FLOAT) {
    if (bits === 32) return (b, at) => b.readFloatLE(at);
    if (bits === 64) return (b, at) => b.readDoubleLE(at);
  }
  const kind = format === FORMAT_PCM ? 'integer PCM' : format === FORMAT_FLOAT ? 'float' : `format ${format}`;
  throw new EarshotError('BAD_AUDIO', `${name} holds ${bits}-bit ${kind} audio, which earshot does not read; re-encode it as 16-bit PCM WAV (sox ${name} -b 16 out.wav)`);
}

function checkFormat(fmt: WavFormat, name: string): void {
  if (fmt.sampleRate < MIN_RATE || fmt.sampleRate > MAX_RATE) {
    throw new EarshotError('BAD_AUDIO', `${name} has a sample rate of ${fmt.sampleRate} Hz; earshot reads 8000-48000 Hz WAV files (convert with: sox ${name} -r 16000 out.wav)`);
  }
  if (fmt.channels < 1 || fmt.channels > MAX_CHANNELS) {
    throw new EarshotError('BAD_AUDIO', `${name} has ${fmt.channels} channels; give a mono or stereo WAV`);
  }
  if (fmt.blockAlign !== (fmt.channels * fmt.bits) / 8) throw new NotWav(`its block size ${fmt.blockAlign} does not fit ${fmt.channels} channels of ${fmt.bits} bits`);
}

/**
 * Decodes the samples in [dataStart, dataStart + dataBytes) block by block, averaging channels into mono float32:
 * memory is the output (4 bytes per frame) plus one block, whatever the file's size.
 */
function decodeData(r: BinaryReader, fmt: WavFormat, dataBytes: number, name: string): Float32Array {
  const read = sampleReader(fmt, name);
  const frames = Math.floor(dataBytes / fmt.blockAlign);
  const bytesPerSample = fmt.bits / 8;
  const out = new Float32Array(frames);
  for (let done = 0; done < frames; ) {
    const n = Math.min(BLOCK_FRAMES, frames - done);
    const block = r.bytes(n * fmt.blockAlign);
    for (let f = 0; f < n; f++) {
      let sum = 0;
      for (let c = 0; c < fmt.channels; c++) sum += read(block, f * fmt.blockAlign + c * bytesPerSample);
      out[done + f] = sum / fmt.channels;
    }
    done += n;
  }
  return out;
}

function decode(r: BinaryReader, name: string): PcmChunk {
  const riff = r.utf8(4);
  r.skip(4);
  if (riff !== 'RIFF' || r.utf8(4) !== 'WAVE') throw new NotWav('no RIFF/WAVE header');
  let fmt: WavFormat | undefined;
  while (r.remaining >= 8) {
    const id = r.utf8(4);
    const size = r.u32();
    if (id === 'fmt ') {
      fmt = readFormat(r, size);
      checkFormat(fmt, name);
    } else if (id === 'data') {
      if (!fmt) throw new NotWav('its data comes before its format');
      // Streamed WAVs often leave the data size at 0 or 0xffffffff: the samples run to the end of the file.
      const dataBytes = size === 0 || size > r.remaining ? r.remaining : size;
      const samples = decodeData(r, fmt, dataBytes, name);
      if (samples.length === 0) throw new EarshotError('BAD_AUDIO', `${name} holds no audio samples (empty or truncated WAV)`);
      return { samples, sampleRate: fmt.sampleRate };
    }
    r.skip(Math.min(size + (size % 2), r.remaining));
  }
  if (!fmt) throw new NotWav('no fmt chunk');
  throw new EarshotError('BAD_AUDIO', `${name} holds no audio samples (empty or truncated WAV)`);
}

function decodeFrom(r: BinaryReader, name: string): PcmChunk {
  try {
    return decode(r, name);
  } catch (e) {
    const reason = e instanceof NotWav ? e.message : e instanceof BinaryReadError ? 'it ends early' : undefined;
    if (reason === undefined) throw e;
    throw new EarshotError('BAD_AUDIO', `${name} is not a readable WAV file (${reason}); give a .wav file, e.g. convert with: sox ${name} -r 16000 -c 1 out.wav`);
  } finally {
    r.close();
  }
}

/**
 * Decodes any common WAV (8-48 kHz, mono to 8 channels, 8/16/24/32/64-bit integer or 32/64-bit float, plain or
 * WAVE_FORMAT_EXTENSIBLE) to mono float32 at the file's own rate. Channels are averaged.
 */
export function decodeWav(bytes: Uint8Array, name = 'input'): PcmChunk {
  return decodeFrom(BinaryReader.fromBuffer(bytes), name);
}

/** Reads a WAV file (streamed from disk, never whole in memory) and returns mono float32 at 16 kHz. */
export async function readWavForPipeline(path: string): Promise<PcmChunk> {
  let reader: BinaryReader;
  try {
    reader = BinaryReader.open(path, { windowBytes: 1 << 20 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code})`;
    throw new EarshotError('BAD_AUDIO', `input ${path} ${why}; give a WAV file with --input FILE`);
  }
  const decoded = decodeFrom(reader, path);
  return { samples: await resample(decoded.samples, decoded.sampleRate, PIPELINE_SAMPLE_RATE), sampleRate: PIPELINE_SAMPLE_RATE };
}

export function encodeWav(chunk: PcmChunk): Uint8Array {
  const wav = new WaveFile();
  wav.fromScratch(1, chunk.sampleRate, '16', float32ToInt16(chunk.samples));
  return wav.toBuffer();
}

/**
 * Writes a 16-bit WAV. The file appears whole or not at all (see writeFileAtomic): a full disk or a signal
 * mid-write leaves no truncated WAV behind, and an older file of that name stays as it was. Fails with one
 * line: DISK_FULL when there is no room, BAD_OPTION when the place cannot be written.
 */
export async function writeWav(path: string, chunk: PcmChunk): Promise<void> {
  try {
    await writeFileAtomic(path, encodeWav(chunk));
  } catch (e) {
    throw writeError(path, e);
  }
}

function writeError(path: string, e: unknown): EarshotError {
  if (isDiskFull(e)) {
    return new EarshotError('DISK_FULL', `cannot write ${path}: the disk is full (nothing was written); free some space or write the audio elsewhere`, { cause: e });
  }
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : firstLine(e);
  return new EarshotError('BAD_OPTION', `cannot write ${path}: ${why}; give another file`, { cause: e });
}
