import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { DigestAlgorithm } from './manifest-schema.js';

/** Hashes one byte stream with several algorithms at once (sha256 always, plus a pinned upstream one). */
export class MultiHasher {
  private readonly hashes = new Map<DigestAlgorithm, Hash>();
  bytes = 0;

  constructor(algorithms: Iterable<DigestAlgorithm>) {
    for (const a of new Set<DigestAlgorithm>(['sha256', ...algorithms])) this.hashes.set(a, createHash(a));
  }

  update(chunk: Buffer): void {
    this.bytes += chunk.length;
    for (const h of this.hashes.values()) h.update(chunk);
  }

  digests(): Partial<Record<DigestAlgorithm, string>> & { sha256: string } {
    const out: Partial<Record<DigestAlgorithm, string>> = {};
    for (const [a, h] of this.hashes) out[a] = h.digest('hex');
    return out as Partial<Record<DigestAlgorithm, string>> & { sha256: string };
  }
}

/** Feeds an existing file (e.g. the resumed part of a download), or its first `bytes` bytes, into a hasher. */
export async function hashInto(hasher: MultiHasher, path: string, signal?: AbortSignal, bytes?: number): Promise<void> {
  if (bytes === 0) return;
  const range = bytes === undefined ? {} : { start: 0, end: bytes - 1 };
  for await (const chunk of createReadStream(path, { signal, highWaterMark: 1 << 20, ...range })) hasher.update(chunk as Buffer);
}

export async function sha256File(path: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const hasher = new MultiHasher([]);
  await hashInto(hasher, path, signal);
  return { sha256: hasher.digests().sha256, size: hasher.bytes };
}

/** One digest of a file (or of its first `bytes` bytes) with any supported algorithm. */
export async function digestFile(path: string, algorithm: DigestAlgorithm, signal?: AbortSignal, bytes?: number): Promise<string> {
  const hasher = new MultiHasher([algorithm]);
  await hashInto(hasher, path, signal, bytes);
  return hasher.digests()[algorithm] as string;
}
