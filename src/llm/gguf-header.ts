import { BinaryReadError, type BinaryReader } from '../util/binary-reader.js';
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_SCALAR_BYTES, GgufValueType, alignUp } from './gguf-format.js';

export type GgufScalar = number | bigint | boolean | string;
/** A long array that was stepped over rather than kept (merges, scores): its item type and length. */
export interface GgufSkippedArray {
  skipped: true;
  itemType: number;
  length: number;
}
export type GgufValue = GgufScalar | GgufScalar[] | GgufSkippedArray;

/** Arrays up to this length are kept (per-layer values); longer ones only the keys below. */
const KEPT_ARRAY_LENGTH = 4096;
/** Long arrays a model check needs. */
const CHECKED_KEYS: ReadonlySet<string> = new Set(['tokenizer.ggml.tokens']);

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
 * cut off by the end of the file, any length that points past it, or a header running past the reader's limit
 * is a GgufFormatError. Long arrays other than the vocabulary (or the keys in `keepArrays`) are stepped over,
 * not kept.
 */
export function readGgufHeader(reader: BinaryReader, keepArrays: ReadonlySet<string> = CHECKED_KEYS): GgufHeader {
  try {
    return parseHeader(new GgufFields(reader), keepArrays);
  } catch (e) {
    if (e instanceof BinaryReadError && e.kind === 'limit') throw headerTooLarge(reader.limit);
    if (e instanceof BinaryReadError) throw new GgufFormatError('file ends inside the header (truncated)');
    throw e;
  }
}

function headerTooLarge(limit: number): GgufFormatError {
  return new GgufFormatError(`header is larger than ${Math.round(limit / 2 ** 20)} MiB, far more than a real model's`);
}

function parseHeader(r: GgufFields, keepArrays: ReadonlySet<string>): GgufHeader {
  if (r.reader.u32() !== GGUF_MAGIC) throw new GgufFormatError('not a GGUF file (bad magic)');
  const version = r.reader.u32();
  const tensorCount = r.count(24);
  const kvCount = r.count(13);
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = r.str();
    metadata.set(key, r.value(r.reader.u32(), keepArrays.has(key)));
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

  /**
   * A 64-bit element count, rejected when even `minBytesEach` per element cannot fit in the file (corrupt) or in
   * the bytes the reader may still read (a header too large to be real).
   */
  count(minBytesEach: number): number {
    const n = this.reader.u64();
    const least = n * BigInt(minBytesEach);
    if (least <= BigInt(this.reader.remaining)) return Number(n);
    const cappedBelowFile = this.reader.limit < this.reader.size && least <= BigInt(this.reader.size);
    throw cappedBelowFile ? headerTooLarge(this.reader.limit) : new GgufFormatError(`file is truncated or corrupt (header lists ${n} entries)`);
  }

  str(): string {
    return this.reader.utf8(this.count(1));
  }

  /** Steps over a string without decoding it. */
  private skipStr(): void {
    this.reader.skip(this.count(1));
  }

  value(type: number, keepLong = false): GgufValue {
    if (type !== GgufValueType.Array) return this.scalar(type);
    const itemType = this.reader.u32();
    if (itemType === GgufValueType.Array) throw new GgufFormatError('nested metadata arrays');
    const width = GGUF_SCALAR_BYTES[itemType];
    if (width === undefined && itemType !== GgufValueType.String) throw new GgufFormatError(`unknown metadata value type ${itemType}`);
    const length = this.count(width ?? 8);
    if (length > KEPT_ARRAY_LENGTH && !keepLong) {
      if (width !== undefined) this.reader.skip(length * width);
      else for (let i = 0; i < length; i++) this.skipStr();
      return { skipped: true, itemType, length };
    }
    const items: GgufScalar[] = new Array<GgufScalar>(length);
    for (let i = 0; i < length; i++) items[i] = this.scalar(itemType);
    return items;
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
