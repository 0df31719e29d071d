import { existsSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EarshotError } from '../errors.js';
import { extractKept, extractLimits } from './archive.js';
import { MultiHasher, hashInto } from './digest.js';
import { ensureDiskSpace } from './disk-space.js';
import { downloadFile, type DownloadOptions } from './http-download.js';
import type { InstallEventHandler } from './install-events.js';
import { modelDir, partialDir, partialFile } from './install-layout.js';
import { readLock, type LockFile, type LockedModel } from './lock-file.js';
import { downloadCap, installCommand } from './manifest.js';
import type { ModelEntry, ModelFile } from './manifest-schema.js';
import { finishInstall } from './finish-install.js';
import { acquireRunLock } from './run-lock.js';
import { hostOf } from './url-policy.js';

export interface InstallOptions extends Pick<DownloadOptions, 'signal' | 'timeoutMs' | 'retries' | 'backoffMs'> {
  /** Folder models are installed into. Default: none, the caller passes defaultModelsDir(). */
  modelsDir: string;
  /** Re-download models that are already installed. Default: false. */
  force?: boolean;
  /** Receives progress and outcome events. Default: none. */
  onEvent?: InstallEventHandler;
}

/** True when the lock file lists the model and every file it lists is present with the recorded size. */
export function isInstalled(lock: LockFile, modelsDir: string, entry: ModelEntry): boolean {
  const locked = lock.models[entry.id];
  if (!locked || locked.role !== entry.role) return false;
  const dir = modelDir(modelsDir, entry);
  return Object.entries(locked.files).every(([rel, f]) => {
    try {
      return statSync(join(dir, rel)).size === f.size;
    } catch {
      return false;
    }
  });
}

function spaceNeeded(entries: ModelEntry[], modelsDir: string): number {
  let need = 0;
  for (const entry of entries) {
    for (const file of entry.files) {
      const part = partialFile(modelsDir, entry, file);
      const have = existsSync(part) ? statSync(part).size : 0;
      // An archive is unpacked next to itself before the download is deleted.
      need += Math.max(0, file.size - have) + (file.archive ? file.size * 1.5 : 0);
    }
  }
  return Math.ceil(need);
}

async function verifyDownload(
  entry: ModelEntry,
  file: ModelFile,
  part: string,
  previous: LockedModel | undefined,
  signal?: AbortSignal,
): Promise<{ sha256: string; size: number; trustedOnFirstUse: boolean }> {
  const hasher = new MultiHasher(file.digest ? [file.digest.algorithm] : []);
  await hashInto(hasher, part, signal);
  const digests = hasher.digests();
  const fail = async (what: string): Promise<never> => {
    await rm(part, { force: true });
    throw new EarshotError(
      'VERIFY_FAILED',
      `${file.name} ${what}; the partial download was deleted, nothing was installed. Run ${installCommand(entry)} to try again.`,
    );
  };
  if (file.digest) {
    const got = digests[file.digest.algorithm];
    if (got !== file.digest.value) await fail(`failed verification: ${file.digest.algorithm} ${got} is not the pinned ${file.digest.value}`);
    return { sha256: digests.sha256, size: hasher.bytes, trustedOnFirstUse: false };
  }
  const trusted = previous?.downloads[file.name];
  if (trusted && trusted.sha256 !== digests.sha256) {
    await fail(`differs from the copy trusted on first use (sha256 ${digests.sha256}, expected ${trusted.sha256} from earshot-lock.json)`);
  }
  return { sha256: digests.sha256, size: hasher.bytes, trustedOnFirstUse: true };
}

async function installOne(entry: ModelEntry, lock: LockFile, options: InstallOptions): Promise<void> {
  const { modelsDir, signal } = options;
  const emit = options.onEvent ?? (() => {});
  const staging = join(partialDir(modelsDir), `${entry.id}.staging`);
  await rm(staging, { recursive: true, force: true });
  const stagedModel = join(staging, 'model');
  await mkdir(stagedModel, { recursive: true });
  const previous = lock.models[entry.id];
  const downloads: LockedModel['downloads'] = {};
  try {
    for (const file of entry.files) {
      const part = partialFile(modelsDir, entry, file);
      emit({ type: 'start', model: entry.id, file: file.name, size: file.sizeApproximate ? undefined : file.size });
      await downloadFile(file.urls, part, `${file.name} (${entry.role} ${entry.id})`, {
        signal,
        maxBytes: downloadCap(file),
        timeoutMs: options.timeoutMs,
        retries: options.retries,
        backoffMs: options.backoffMs,
        onProgress: (received, total) => emit({ type: 'progress', model: entry.id, file: file.name, received, total }),
        onResume: (offset) => emit({ type: 'resume', model: entry.id, file: file.name, offset }),
        onRetry: (reason, delayMs) => emit({ type: 'retry', model: entry.id, file: file.name, reason, delayMs }),
      });
      const verified = await verifyDownload(entry, file, part, previous, signal);
      downloads[file.name] = verified;
      emit({ type: 'verified', model: entry.id, file: file.name, sha256: verified.sha256, trustedOnFirstUse: verified.trustedOnFirstUse });
      if (file.archive) {
        // Unpacked into a folder of its own, then merged: a failed archive leaves nothing in the staged model.
        const unpacked = join(staging, 'unpacked');
        try {
          await extractKept(part, file.archive, unpacked, `${file.name} (${entry.role} ${entry.id})`, extractLimits(file.size), signal);
        } catch (e) {
          // A verified download that does not unpack is no use to a rerun either; an interrupted one is.
          if (!signal?.aborted) await rm(part, { force: true });
          throw e;
        }
        await rm(part, { force: true });
        await mergeInto(unpacked, stagedModel, file.archive.keep);
      } else {
        await rename(part, join(stagedModel, file.name));
      }
    }
    await finishInstall(entry, stagedModel, { modelsDir, lock, downloads, from: hostOf(entry.files[0]!.urls[0]!), signal, emit });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function mergeInto(from: string, to: string, kept: readonly string[]): Promise<void> {
  for (const keep of kept) {
    if (!existsSync(join(from, keep))) continue;
    await mkdir(join(to, keep, '..'), { recursive: true });
    await rename(join(from, keep), join(to, keep));
  }
  await rm(from, { recursive: true, force: true });
}

/**
 * Downloads, verifies and installs `entries` one after another under a run lock. A file is moved into place only
 * after its digest matched (or, for unpinned files, after its sha256 was recorded as trusted on first use), and a
 * model only after every file it installs matched what the manifest pins for it.
 */
export async function installModels(entries: ModelEntry[], options: InstallOptions): Promise<void> {
  const { modelsDir } = options;
  await mkdir(partialDir(modelsDir), { recursive: true });
  const release = await acquireRunLock(modelsDir);
  try {
    const lock = readLock(modelsDir);
    const todo: ModelEntry[] = [];
    for (const entry of entries) {
      if (!options.force && isInstalled(lock, modelsDir, entry)) {
        options.onEvent?.({ type: 'skipped', model: entry.id, reason: 'already installed' });
      } else {
        todo.push(entry);
      }
    }
    if (todo.length === 0) return;
    await ensureDiskSpace(modelsDir, spaceNeeded(todo, modelsDir));
    for (const entry of todo) await installOne(entry, lock, options);
  } finally {
    await release();
  }
}
