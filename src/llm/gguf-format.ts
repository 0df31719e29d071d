/** The four bytes every GGUF file starts with ("GGUF"). */
export const GGUF_MAGIC = 0x46554747;

/** GGUF versions llama.cpp still reads (v1 was dropped long ago). */
export const GGUF_SUPPORTED_VERSIONS: readonly number[] = [2, 3];

/** Tensor data starts at a multiple of this unless `general.alignment` says otherwise. */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Type tags of GGUF metadata values. */
export const GgufValueType = {
  Uint8: 0,
  Int8: 1,
  Uint16: 2,
  Int16: 3,
  Uint32: 4,
  Int32: 5,
  Float32: 6,
  Bool: 7,
  String: 8,
  Array: 9,
  Uint64: 10,
  Int64: 11,
  Float64: 12,
} as const;

/** Byte width of each fixed-size metadata value type. */
export const GGUF_SCALAR_BYTES: Readonly<Record<number, number>> = {
  [GgufValueType.Uint8]: 1,
  [GgufValueType.Int8]: 1,
  [GgufValueType.Uint16]: 2,
  [GgufValueType.Int16]: 2,
  [GgufValueType.Uint32]: 4,
  [GgufValueType.Int32]: 4,
  [GgufValueType.Float32]: 4,
  [GgufValueType.Bool]: 1,
  [GgufValueType.Uint64]: 8,
  [GgufValueType.Int64]: 8,
  [GgufValueType.Float64]: 8,
};

/** ggml tensor types this project writes. */
export const GGML_TYPE_F32 = 0;
export const GGML_TYPE_F16 = 1;

/**
 * [elements per block, bytes per block] for every ggml tensor type llama.cpp 2026 knows, measured from
 * ggml-common.h; used to check a file is long enough for its tensors before the native loader maps it.
 */
const GGML_BLOCKS: Readonly<Record<number, readonly [number, number]>> = {
  0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34], 9: [32, 36],
  10: [256, 84], 11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210], 15: [256, 292],
  16: [256, 66], 17: [256, 74], 18: [256, 98], 19: [256, 50], 20: [32, 18], 21: [256, 110], 22: [256, 82],
  23: [256, 136], 24: [1, 1], 25: [1, 2], 26: [1, 4], 27: [1, 8], 28: [1, 8], 29: [256, 56], 30: [1, 2],
  34: [256, 54], 35: [256, 66], 39: [32, 17], 40: [64, 36], 41: [128, 18], 42: [64, 18],
};

/**
 * Bytes a tensor of this type and shape occupies, or undefined for a type newer than this table (the caller
 * then cannot check its length and leaves that to llama.cpp, which rejects unknown types without crashing).
 */
export function ggmlTensorBytes(type: number, dims: readonly bigint[]): bigint | undefined {
  const block = GGML_BLOCKS[type];
  if (!block) return undefined;
  const [blockSize, blockBytes] = block;
  const [rowLength = 1n, ...rest] = dims;
  const rows = rest.reduce((n, d) => n * d, 1n);
  const blocksPerRow = (rowLength + BigInt(blockSize) - 1n) / BigInt(blockSize);
  return blocksPerRow * BigInt(blockBytes) * rows;
}

export function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}
