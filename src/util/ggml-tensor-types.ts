/**
 * [elements per block, bytes per block] for every ggml tensor type llama.cpp and whisper.cpp know (from
 * ggml-common.h). Both model checks use it to prove a file is long enough for its tensors before a native
 * loader maps it.
 */
const GGML_BLOCKS: Readonly<Record<number, readonly [number, number]>> = {
  0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34], 9: [32, 36],
  10: [256, 84], 11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210], 15: [256, 292],
  16: [256, 66], 17: [256, 74], 18: [256, 98], 19: [256, 50], 20: [32, 18], 21: [256, 110], 22: [256, 82],
  23: [256, 136], 24: [1, 1], 25: [1, 2], 26: [1, 4], 27: [1, 8], 28: [1, 8], 29: [256, 56], 30: [1, 2],
  34: [256, 54], 35: [256, 66], 39: [32, 17], 40: [64, 36], 41: [128, 18], 42: [64, 18],
};

/** Elements per block of a ggml type, or undefined for a type this table does not know. */
export function ggmlBlockSize(type: number): number | undefined {
  return GGML_BLOCKS[type]?.[0];
}

/**
 * Bytes a tensor of this type and shape occupies, or undefined for a type newer than this table (the caller
 * then cannot check its length and leaves that to the loader).
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
