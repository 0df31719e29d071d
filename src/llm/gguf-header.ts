import { BinaryReadError, type BinaryReader } from '../util/binary-reader.js';
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

/** The file itself is malformed: `reason` is a short phrase for the user-facing message. */
export class GgufFormatError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * Reads a GGUF header (metadata and tensor infos, not the tensor data) from the reader's position 0. A header
 * cut off by the end of the file, or any length that points past it, is a GgufFormatError.
 */
export function readGgufHeader(reader: BinaryReader): GgufHeader {
  try {
    return parseHeader(new GgufFields(reader));
  } catch (e) {
    if (e instanceof BinaryReadError) throw new GgufFormatError('file ends inside the header (truncated)');
    throw e;
  }
}

function parseHeader(r: GgufFields): GgufHeader {
  if (r.reader.u32() !== GGUF_MAGIC) throw new GgufFormatError('not a GGUF file (bad magic)');
  const version = r.reader.u32();
  const tensorCount = r.count(24);
  const kvCount = r.count(13);
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = r.str();
    metadata.set(key, r.value(r.reader.u32()));
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = r.str();
    const nDims = r.reader.u32();
    if (nDims > 8) throw new GgufFormatError(`tensor ${name} has ${nDims} dimensions`);
    const dims: bigint[] = [];
    for (let d = 0; d < nDims; d++) dims.push(r.reader.u64());
    tensors.push({ name, dims, type: r.reader.u32(), offset: r.reader.u64() });
  }
  const alignmentValue = metadata.get('general.alignment');
  const alignment = typeof alignmentValue === 'number' && alignmentValue > 0 ? alignmentValue : GGUF_DEFAULT_ALIGNMENT;
  return { version, metadata, tensors, dataOffset: alignUp(r.reader.pos, alignment), alignment };
}

/** GGUF's own value encodings on top of the byte reader. */
class GgufFields {
  constructor(readonly reader: BinaryReader) {}

  /** A 64-bit element count, rejected when even `minBytesEach` per element cannot fit in the file. */
  count(minBytesEach: number): number {
    const n = this.reader.u64();
    if (n * BigInt(minBytesEach) > BigInt(this.reader.size)) throw new GgufFormatError(`file is truncated or corrupt (header lists ${n} entries)`);
    return Number(n);
  }

  str(): string {
    return this.reader.utf8(this.count(1));
  }

  value(type: number): GgufValue {
    if (type === GgufValueType.Array) {
      const itemType = this.reader.u32();
      if (itemType === GgufValueType.Array) throw new GgufFormatError('nested metadata arrays');
      const length = this.count(GGUF_SCALAR_BYTES[itemType] ?? 8);
      const items: GgufScalar[] = new Array<GgufScalar>(length);
      for (let i = 0; i < length; i++) items[i] = this.scalar(itemType);
      return items;
    }
    return this.scalar(type);
  }

  private scalar(type: number): GgufScalar {
    const r = this.reader;
    switch (type) {
      case GgufValueType.Uint8: return r.u8();
      case GgufValueType.Int8: return r.i8();
      case GgufValueType.Uint16: return r.u16();
      case GgufValueType.Int16: return r.i16();
      case GgufValueType.Uint32: return r.u32();
      case GgufValueType.Int32: return r.i32();
      case GgufValueType.Float32: return r.f32();
      case GgufValueType.Bool: return r.u8() !== 0;
      case GgufValueType.String: return this.str();
      case GgufValueType.Uint64: return r.u64();
      case GgufValueType.Int64: return r.i64();
      case GgufValueType.Float64: return r.f64();
      default: throw new GgufFormatError(`unknown metadata value type ${type}`);
    }
  }
}
