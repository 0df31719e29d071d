import { createHash, randomUUID } from 'node:crypto';
import { link, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EarshotError } from '../errors.js';
import { processAlive } from '../util/process-alive.js';

const RUN_LOCK = '.fetch-models.lock';
const ATTEMPTS = 40;
const RETRY_MS = 50;

/** The pid a lock file names (its first word), or NaN. */
function ownerOf(content: string): number {
  return Number(content.trim().split(/\s+/)[0]);
}

async function readContent(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

/** Creates `path` holding `content`, atomically: it appears complete or not at all, and never over another. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  const tmp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(tmp, content);
  try {
    await link(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Removes a lock whose owner is dead, such that of any number of runs that find the same stale lock only one
 * removes it: the remover must first create a marker named after that lock's unique content, and no lock ever
 * has that content again. Returns false when another run is doing it.
 */
async function breakStale(path: string, stale: string): Promise<boolean> {
  const marker = `${path}.break-${createHash('sha256').update(stale).digest('hex').slice(0, 16)}`;
  if (!(await createExclusive(marker, `${process.pid}\n`))) {
    const breaker = ownerOf((await readContent(marker)) ?? '');
    if (Number.isInteger(breaker) && !processAlive(breaker)) {
      throw new EarshotError('DOWNLOAD_FAILED', `A killed fetch-models run left ${marker}; delete it and ${path}, then run this again.`);
    }
    return false;
  }
  try {
    if ((await readContent(path)) === stale) await unlink(path).catch(() => {});
  } finally {
    await rm(marker, { force: true });
  }
  return true;
}

/**
 * Makes this process the only one changing `modelsDir`, so two runs never write the same partial file or lock
 * file. The lock file is created whole in one step (a hard link of a finished file), so a reader never sees it
 * empty; a lock left by a process that no longer exists (kill -9) is taken over by exactly one of the runs that
 * find it. Returns the release function.
 */
export async function acquireRunLock(modelsDir: string): Promise<() => Promise<void>> {
  const path = join(modelsDir, RUN_LOCK);
  const mine = `${process.pid} ${randomUUID()}\n`;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (await createExclusive(path, mine)) {
      return async () => {
        if ((await readContent(path)) === mine) await rm(path, { force: true });
      };
    }
    const content = await readContent(path);
    if (content === undefined) continue;
    const owner = ownerOf(content);
    if (Number.isInteger(owner) && owner > 0 && processAlive(owner)) {
      throw new EarshotError('DOWNLOAD_FAILED', `Another fetch-models run (pid ${owner}) is using ${modelsDir}; wait for it to finish, then run this again.`);
    }
    if (!(await breakStale(path, content))) await sleep(RETRY_MS);
  }
  throw new EarshotError('DOWNLOAD_FAILED', `Could not take the lock ${path}; delete it if no fetch-models is running.`);
}
