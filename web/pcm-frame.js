// @ts-check
/**
 * Binary frames of the earshot protocol (README: "The web protocol"): a 12-byte header — u8 kind (1 = s16le),
 * three reserved bytes, u32 sample rate, u32 turn, all little-endian — then mono 16-bit samples.
 */
export const HEADER_BYTES = 12;
const KIND_S16LE = 1;

/**
 * @param {Float32Array} samples mono, [-1, 1]
 * @param {number} sampleRate
 * @returns {ArrayBuffer}
 */
export function encodeFrame(samples, sampleRate) {
  const buffer = new ArrayBuffer(HEADER_BYTES + samples.length * 2);
  const view = new DataView(buffer);
  view.setUint8(0, KIND_S16LE);
  view.setUint32(4, sampleRate, true);
  view.setUint32(8, 0, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(HEADER_BYTES + i * 2, s < 0 ? s * 32768 : s * 32767, true);
  }
  return buffer;
}

/**
 * @param {ArrayBuffer} buffer
 * @returns {{ samples: Float32Array, sampleRate: number, turn: number } | undefined} undefined for a frame of another kind
 */
export function decodeFrame(buffer) {
  if (buffer.byteLength < HEADER_BYTES) return undefined;
  const view = new DataView(buffer);
  if (view.getUint8(0) !== KIND_S16LE) return undefined;
  const count = (buffer.byteLength - HEADER_BYTES) >> 1;
  const samples = new Float32Array(count);
  for (let i = 0; i < count; i++) samples[i] = view.getInt16(HEADER_BYTES + i * 2, true) / 32768;
  return { samples, sampleRate: view.getUint32(4, true), turn: view.getUint32(8, true) };
}
