import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { EarshotError } from '../errors.js';
import { MODEL_ROLES } from './manifest-schema.js';

export const LOCK_FILE_NAME = 'earshot-lock.json';

const lockedFileSchema = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() });

const lockSchema = z.object({
  version: z.literal(1),
  models: z.record(
    z.string(),
    z.object({
      role: z.enum(MODEL_ROLES),
      installedAt: z.string(),
      /** Every installed file, by path relative to the model's folder. */
      files: z.record(z.string(), lockedFileSchema),
      /** What was downloaded (a plain file or an archive), by file name. */
      downloads: z.record(z.string(), lockedFileSchema.extend({ trustedOnFirstUse: z.boolean() })),
    }),
  ),
});

export type LockFile = z.infer<typeof lockSchema>;
export type LockedModel = LockFile['models'][string];
export type LockedFile = z.infer<typeof lockedFileSchema>;

export function emptyLock(): LockFile {
  return { version: 1, models: {} };
}

/** The lock file in `dir`, or an empty one when there is none. A damaged lock file is an error naming it. */
export function readLock(dir: string): LockFile {
  const path = join(dir, LOCK_FILE_NAME);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return emptyLock();
  }
  return parseLock(text, path, 'delete it and run npm run fetch-models again');
}

/** Parses lock file text; `where` names it in the one-line error (a path or a URL), `fix` says what to do. */
export function parseLock(text: string, where: string, fix: string): LockFile {
  try {
    return lockSchema.parse(JSON.parse(text));
  } catch {
    throw new EarshotError('MODEL_CORRUPT', `${where} is damaged; ${fix}.`);
  }
}

/** Written to a temporary name and renamed, so a reader never sees half a file. */
export async function writeLock(dir: string, lock: LockFile): Promise<void> {
  const path = join(dir, LOCK_FILE_NAME);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(lock, null, 2) + '\n');
  await rename(tmp, path);
}
