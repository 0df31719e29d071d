import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_SCALAR_BYTES, GgufValueType, alignUp } from './gguf-format.js';

export type GgufScalar = number | bigint | boolean | string;
export type GgufValue = GgufScalar | GgufScalar[];

export interface GgufTensorInfo {
  name: string;
  /** Innermost dimension first, as ggml stores it. */
  dims: bigint[];
  type: number;
  /** Offset from the start of the tensor data section. */
  offset: bigint;
}

export interface GgufHeader {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  /** Absolute file offset where tensor data starts. */
  dataOffset: number;
  alignment: number;
}

/** The header is longer than the bytes read so far; read more and parse again. */
export class GgufNeedMoreBytes extends Error {
  constructor(readonly needed: number) {
    super(`GGUF header needs at least ${needed} bytes`);
  }
}

/** The file itself is malformed: `reason` is a short phrase for the user-facing message. */
export class GgufFormatError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * Parses a GGUF header from the first bytes of a file. `fileSize` tells a header cut off by the end of the
 * file (corrupt) apart from one cut off by the end of `bytes` (read more: GgufNeedMoreBytes).
 */
export function parseGgufHeader(bytes: Buffer, fileSize: number): GgufHeader {
  const r = new Cursor(bytes, fileSize);
  if (r.u32() !== GGUF_MAGIC) throw new GgufFormatError('not a GGUF file (bad magic)');
  const version = r.u32();
  const tensorCount = r.count(24);
  const kvCount = r.count(13);
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = r.str();
    metadata.set(key, r.value(r.u32()));
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = r.str();
    const nDims = r.u32();
    if (nDims > 8) throw new GgufFormatError(`tensor ${name} has ${nDims} dimensions`);
    const dims: bigint[] = [];
    for (let d = 0; d < nDims; d++) dims.push(r.u64());
    tensors.push({ name, dims, type: r.u32(), offset: r.u64() });
  }
  const alignmentValue = metadata.get('general.alignment');
  const alignment = typeof alignmentValue === 'number' && alignmentValue > 0 ? alignmentValue : GGUF_DEFAULT_ALIGNMENT;
  return { version, metadata, tensors, dataOffset: alignUp(r.pos, alignment), alignment };
}

class Cursor {
  pos = 0;
  constructor(private readonly buf: Buffer, private readonly fileSize: number) {}

  private take(n: number): number {
    const start = this.pos;
    const end = start + n;
    if (end > this.fileSize) throw new GgufFormatError('file ends inside the header (truncated)');
    if (end > this.buf.length) throw new GgufNeedMoreBytes(end);
    this.pos = end;
    return start;
  }

  u32(): number {
    return this.buf.readUInt32LE(this.take(4));
  }

  u64(): bigint {
    return this.buf.readBigUInt64LE(this.take(8));
  }

  /** A 64-bit element count, rejected when even `minBytesEach` per element cannot fit in the file. */
  count(minBytesEach: number): number {
    const n = this.u64();
    if (n * BigInt(minBytesEach) > BigInt(this.fileSize)) throw new GgufFormatError(`file is truncated or corrupt (header lists ${n} entries)`);
    return Number(n);
  }

  str(): string {
    const length = this.count(1);
    const at = this.take(length);
    return this.buf.toString('utf8', at, at + length);
  }

  value(type: number): GgufValue {
    if (type === GgufValueType.Array) {
      const itemType = this.u32();
      if (itemType === GgufValueType.Array) throw new GgufFormatError('nested metadata arrays');
      const length = this.count(GGUF_SCALAR_BYTES[itemType] ?? 8);
      const items: GgufScalar[] = new Array<GgufScalar>(length);
      for (let i = 0; i < length; i++) items[i] = this.scalar(itemType);
      return items;
    }
    return this.scalar(type);
  }

  private scalar(type: number): GgufScalar {
    const b = this.buf;
    switch (type) {
      case GgufValueType.Uint8: return b.readUInt8(this.take(1));
      case GgufValueType.Int8: return b.readInt8(this.take(1));
      case GgufValueType.Uint16: return b.readUInt16LE(this.take(2));
      case GgufValueType.Int16: return b.readInt16LE(this.take(2));
      case GgufValueType.Uint32: return b.readUInt32LE(this.take(4));
      case GgufValueType.Int32: return b.readInt32LE(this.take(4));
      case GgufValueType.Float32: return b.readFloatLE(this.take(4));
      case GgufValueType.Bool: return b.readUInt8(this.take(1)) !== 0;
      case GgufValueType.String: return this.str();
      case GgufValueType.Uint64: return b.readBigUInt64LE(this.take(8));
      case GgufValueType.Int64: return b.readBigInt64LE(this.take(8));
      case GgufValueType.Float64: return b.readDoubleLE(this.take(8));
      default: throw new GgufFormatError(`unknown metadata value type ${type}`);
    }
  }
}
