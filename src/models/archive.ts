import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EarshotError } from '../errors.js';
import type { ModelFile } from './manifest-schema.js';

type ArchiveSpec = NonNullable<ModelFile['archive']>;

function runTar(args: string[], signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', args, { stdio: ['ignore', 'ignore', 'pipe'], signal });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(stderr.trim().split('\n')[0] || `tar exited with ${code}`));
    });
  });
}

/**
 * Unpacks `archive` into `scratch` with the system tar (bzip2/gzip), then moves the kept paths into `target`.
 * A missing required path means the archive is not what the manifest describes.
 */
export async function extractKept(archive: string, spec: ArchiveSpec, scratch: string, target: string, signal?: AbortSignal): Promise<void> {
  await mkdir(scratch, { recursive: true });
  const flag = spec.format === 'tar.bz2' ? '-j' : '-z';
  try {
    await runTar([flag, '-xf', archive, '-C', scratch], signal);
  } catch (e) {
    throw new EarshotError('VERIFY_FAILED', `Could not unpack ${archive}: ${(e as Error).message}`);
  }
  for (const keep of spec.keep) {
    const from = join(scratch, spec.stripPrefix, keep);
    if (!existsSync(from)) {
      if (spec.optional.includes(keep)) continue;
      throw new EarshotError('VERIFY_FAILED', `${archive} does not contain ${spec.stripPrefix}${keep}; the manifest entry does not match the download.`);
    }
    const to = join(target, keep);
    await mkdir(dirname(to), { recursive: true });
    await rename(from, to);
  }
}
