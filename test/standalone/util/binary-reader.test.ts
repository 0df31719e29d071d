import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BinaryReadError, BinaryReader } from '../../../src/util/binary-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'earshot-binary-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function readError(read: () => unknown): BinaryReadError {
  try {
    read();
  } catch (e) {
    expect(e).toBeInstanceOf(BinaryReadError);
    return e as BinaryReadError;
  }
  throw new Error('expected a BinaryReadError');
}

describe('BinaryReader', () => {
  it('reads little-endian values across window boundaries of a file', () => {
    const bytes = Buffer.alloc(40);
    bytes.writeUInt32LE(0xdeadbeef, 0);
    bytes.writeInt32LE(-7, 5);
    bytes.writeBigUInt64LE(1n << 40n, 9);
    bytes.writeFloatLE(1.5, 17);
    bytes.writeDoubleLE(-2.25, 21);
    bytes.write('héllo', 29, 'utf8');
    const path = join(dir, 'values.bin');
    writeFileSync(path, bytes);
    // A 3-byte window forces a refill inside almost every read.
    const r = BinaryReader.open(path, { windowBytes: 3 });
    try {
      expect(r.u32()).toBe(0xdeadbeef);
      r.skip(1);
      expect(r.i32()).toBe(-7);
      expect(r.u64()).toBe(1n << 40n);
      expect(r.f32()).toBe(1.5);
      expect(r.f64()).toBe(-2.25);
      expect(r.utf8(6)).toBe('héllo');
      expect(r.pos).toBe(35);
    } finally {
      r.close();
    }
  });

  it('decodes protobuf varints, and refuses one longer than 64 bits', () => {
    expect(BinaryReader.fromBuffer(Buffer.from([0x96, 0x01])).varint()).toBe(150n);
    const max = BinaryReader.fromBuffer(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]));
    expect(max.varint()).toBe((1n << 64n) - 1n);
    expect(readError(() => BinaryReader.fromBuffer(Buffer.alloc(11, 0xff)).varint()).kind).toBe('malformed');
  });

  it('refuses a length past the end or past the limit before allocating for it', () => {
    const r = BinaryReader.fromBuffer(Buffer.alloc(100), { limit: 10 });
    const end = readError(() => r.bytes(600_000_000));
    expect(end).toMatchObject({ kind: 'end', end: 600_000_000, size: 100 });
    const limit = readError(() => r.skip(50));
    expect(limit).toMatchObject({ kind: 'limit', end: 50 });
    expect(r.pos).toBe(0);
    r.skip(10);
    expect(readError(() => r.u8()).kind).toBe('limit');
  });
});
