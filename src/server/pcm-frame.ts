/**
 * Binary WebSocket frames carry mono PCM, both ways:
 *
 *   offset 0   u8    kind: 1 = signed 16-bit little-endian samples
 *   offset 1   u8    reserved, 0
 *   offset 2   u16   reserved, 0
 *   offset 4   u32   sample rate, Hz (little-endian)
 *   offset 8   u32   turn: the reply turn the audio belongs to (server to client); 0 from the client
 *   offset 12        samples
 *
 * The turn lets a page drop audio of a reply it has already interrupted without waiting for the server.
 */
export const PCM_FRAME_HEADER_BYTES = 12;
export const PCM_KIND_S16LE = 1;
export const MIN_FRAME_RATE = 8000;
export const MAX_FRAME_RATE = 96_000;

export interface PcmFrame {
  samples: Int16Array;
  sampleRate: number;
  turn: number;
}

export function encodePcmFrame(samples: Int16Array, sampleRate: number, turn = 0): Buffer {
  const out = Buffer.alloc(PCM_FRAME_HEADER_BYTES + samples.length * 2);
  out.writeUInt8(PCM_KIND_S16LE, 0);
  out.writeUInt32LE(sampleRate, 4);
  out.writeUInt32LE(turn, 8);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i], PCM_FRAME_HEADER_BYTES + i * 2);
  return out;
}

/** Decodes a frame, or says what is wrong with it; never throws. */
export function decodePcmFrame(data: Buffer): { ok: true; frame: PcmFrame } | { ok: false; reason: string } {
  if (data.length < PCM_FRAME_HEADER_BYTES) return { ok: false, reason: `a frame needs a ${PCM_FRAME_HEADER_BYTES}-byte header` };
  const kind = data.readUInt8(0);
  if (kind !== PCM_KIND_S16LE) return { ok: false, reason: `unknown sample format ${kind} (1 = s16le)` };
  const sampleRate = data.readUInt32LE(4);
  if (sampleRate < MIN_FRAME_RATE || sampleRate > MAX_FRAME_RATE) {
    return { ok: false, reason: `sample rate ${sampleRate} is outside ${MIN_FRAME_RATE}-${MAX_FRAME_RATE} Hz` };
  }
  const bytes = data.length - PCM_FRAME_HEADER_BYTES;
  if (bytes % 2 !== 0) return { ok: false, reason: 'odd number of sample bytes' };
  const samples = new Int16Array(bytes / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(PCM_FRAME_HEADER_BYTES + i * 2);
  return { ok: true, frame: { samples, sampleRate, turn: data.readUInt32LE(8) } };
}
