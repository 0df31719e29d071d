import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { sha256File } from './digest.js';
import type { LockedFile } from './lock-file.js';

/** Every regular file under `dir`, by '/'-separated relative path. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

/** sha256 and size of every file under `dir`: what the lock file records for an installed model. */
export async function digestFolder(dir: string, signal?: AbortSignal): Promise<Record<string, LockedFile>> {
  const out: Record<string, LockedFile> = {};
  for (const rel of await listFiles(dir)) out[rel] = await sha256File(join(dir, rel), signal);
  return out;
}
