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

export { ggmlTensorBytes } from '../util/ggml-tensor-types.js';

export function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}
