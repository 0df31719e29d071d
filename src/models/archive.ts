import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { EarshotError, abortError } from '../errors.js';
import { diskFullError, formatBytes, isDiskFull } from './disk-space.js';
import type { ModelFile } from './manifest-schema.js';
import { normalizeModelPath } from './safe-path.js';

type ArchiveSpec = NonNullable<ModelFile['archive']>;

export interface ExtractLimits {
  /** Most bytes the decompressed archive may have (tar headers included). */
  maxBytes: number;
  /** Most entries it may list. */
  maxEntries: number;
}

/** Limits for an archive the manifest lists at `size` bytes: a few times its size, and as many entries as a voice has. */
export function extractLimits(size: number): ExtractLimits {
  return { maxBytes: 4 * size + 16 * 1024 * 1024, maxEntries: 20_000 };
}

/** Why the archive was refused; `reason` completes "<archive> ...". */
class ArchiveRefused extends Error {}

/** The decompressed bytes of `archive`: gzip in process, bzip2 through the system's bzip2 (no npm package reads it). */
function decompress(archive: string, format: ArchiveSpec['format']): { stream: Readable; done: Promise<void>; stop(): void } {
  if (format === 'tar.gz') {
    const gunzip = createGunzip();
    const done = pipeline(createReadStream(archive), gunzip).catch((e: Error) => {
      throw new ArchiveRefused(`is not a readable gzip archive (${e.message})`);
    });
    return { stream: gunzip, done, stop: () => gunzip.destroy() };
  }
  const child = spawn('bzip2', ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const input = createReadStream(archive);
  input.pipe(child.stdin);
  child.stdin.on('error', () => {});
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(new ArchiveRefused(`cannot be unpacked: bzip2 did not start (${e.message}); install bzip2`)));
    child.on('close', (code, signal) => {
      if (code === 0 || signal === 'SIGTERM') resolve();
      else reject(new ArchiveRefused(`is not a readable bzip2 archive (${stderr.trim().split('\n')[0] || `bzip2 exited with ${code}`})`));
    });
  });
  return {
    stream: child.stdout,
    done,
    stop: () => {
      input.destroy();
      child.kill('SIGTERM');
    },
  };
}

/** Where a kept entry goes (path inside the model folder), undefined for an entry that is not kept. */
function keptPath(entryPath: string, spec: ArchiveSpec): string | undefined {
  if (entryPath === '' || entryPath === '.' || entryPath === './') return undefined;
  const path = normalizeModelPath(entryPath);
  if (path === undefined) throw new ArchiveRefused(`holds the entry ${JSON.stringify(entryPath)}, which points outside its folder`);
  const prefix = normalizeModelPath(spec.stripPrefix) ?? '';
  if (prefix !== '' && !path.startsWith(`${prefix}/`)) return undefined;
  const rel = prefix === '' ? path : path.slice(prefix.length + 1);
  return spec.keep.some((k) => rel === k || rel.startsWith(`${k}/`)) ? rel : undefined;
}

/**
 * Unpacks the kept paths of `archive` into `target` (created fresh), writing every file itself: regular files and
 * folders only, with this process's owner and default permissions (no setuid bit, no foreign uid), never a link,
 * never a path outside `target`, and no more than `limits` allow. On any failure `target` is removed and the
 * error names `label` (what the user knows the archive as), never a scratch path.
 */
export async function extractKept(
  archive: string,
  spec: ArchiveSpec,
  target: string,
  label: string,
  limits: ExtractLimits,
  signal?: AbortSignal,
): Promise<void> {
  await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true });
  try {
    await unpack(archive, spec, target, limits, signal);
    for (const keep of spec.keep) {
      if (spec.optional.includes(keep)) continue;
      const found = await stat(join(target, keep)).then(() => true, () => false);
      if (!found) throw new ArchiveRefused(`does not contain ${spec.stripPrefix}${keep}; the manifest entry does not match the download`);
    }
  } catch (e) {
    await rm(target, { recursive: true, force: true });
    if (signal?.aborted) throw abortError(signal);
    if (e instanceof ArchiveRefused) throw new EarshotError('VERIFY_FAILED', `${label} ${e.message}; nothing was installed.`);
    if (isDiskFull(e)) throw diskFullError(`while unpacking ${label} (nothing was installed)`);
    throw e;
  }
}

async function unpack(archive: string, spec: ArchiveSpec, target: string, limits: ExtractLimits, signal?: AbortSignal): Promise<void> {
  const source = decompress(archive, spec.format);
  const parser = new Parser({ strict: true });
  // Each write settles with the error it met (never rejects), so a write cut short is not an unhandled rejection.
  const writes: Promise<Error | undefined>[] = [];
  const settle = (write: Promise<unknown>, rel: string): Promise<Error | undefined> =>
    write.then(
      () => undefined,
      (e: NodeJS.ErrnoException) => (e.code === 'EEXIST' ? new ArchiveRefused(`holds ${rel} twice`) : e),
    );
  let failure: Error | undefined;
  let entries = 0;
  // On failure the parser is fed no more, so an entry being written never ends: its write is cut instead.
  const stopWrites = new AbortController();
  let failed: () => void = () => {};
  const whenFailed = new Promise<void>((resolve) => (failed = resolve));
  const fail = (e: Error): void => {
    failure ??= e;
    source.stop();
    stopWrites.abort();
    failed();
  };
  parser.on('error', (e: Error) => fail(new ArchiveRefused(`is not a readable tar archive (${e.message})`)));
  parser.on('entry', (entry: ReadEntry) => {
    try {
      if (++entries > limits.maxEntries) throw new ArchiveRefused(`lists more than ${limits.maxEntries} entries`);
      const rel = keptPath(entry.path, spec);
      if (rel === undefined || failure) {
        entry.resume();
        return;
      }
      if (entry.type === 'Directory') {
        writes.push(settle(mkdir(join(target, rel), { recursive: true }).then(() => entry.resume()), rel));
        return;
      }
      if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
        throw new ArchiveRefused(`holds ${rel} as a ${entry.type}${entry.linkpath ? ` to ${entry.linkpath}` : ''}; earshot installs regular files only`);
      }
      const to = join(target, rel);
      const write = mkdir(dirname(to), { recursive: true }).then(() =>
        pipeline(entry, createWriteStream(to, { flags: 'wx', mode: 0o644 }), { signal: stopWrites.signal }),
      );
      writes.push(settle(write, rel));
    } catch (e) {
      entry.resume();
      fail(e as Error);
    }
  });
  const ended = new Promise<void>((resolve) => parser.on('end', resolve));
  let unpacked = 0;
  const onAbort = () => fail(abortError(signal));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of source.stream as AsyncIterable<Buffer>) {
      unpacked += chunk.length;
      if (unpacked > limits.maxBytes) {
        fail(new ArchiveRefused(`unpacks to more than ${formatBytes(limits.maxBytes)}, more than a model of its size can hold`));
      }
      if (failure) break;
      if (!parser.write(chunk)) await Promise.race([new Promise((resolve) => parser.once('drain', resolve)), whenFailed]);
    }
    if (!failure) {
      parser.end();
      await Promise.race([ended, whenFailed]);
    }
    await source.done.catch((e: Error) => fail(e));
    const writeError = (await Promise.all(writes)).find((e) => e !== undefined);
    if (writeError) fail(writeError);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (failure) throw failure;
}
