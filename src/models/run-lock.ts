import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EarshotError } from '../errors.js';
import { processAlive } from '../util/process-alive.js';

const RUN_LOCK = '.fetch-models.lock';

/**
 * Makes this process the only one changing `modelsDir`, so two runs never write the same partial file or lock
 * file. A lock left by a process that no longer exists (kill -9) is taken over. Returns the release function.
 */
export async function acquireRunLock(modelsDir: string): Promise<() => Promise<void>> {
  const path = join(modelsDir, RUN_LOCK);
  for (let tries = 0; tries < 2; tries++) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      return async () => {
        await rm(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number(readFileSync(path, 'utf8'));
      } catch {
        // Removed between our write and read: the other run just finished.
      }
      if (Number.isInteger(owner) && owner !== process.pid && processAlive(owner)) {
        throw new EarshotError('DOWNLOAD_FAILED', `Another fetch-models run (pid ${owner}) is using ${modelsDir}; wait for it to finish, then run this again.`);
      }
      await rm(path, { force: true });
    }
  }
  throw new EarshotError('DOWNLOAD_FAILED', `Could not take the lock ${path}; delete it if no fetch-models is running.`);
}
