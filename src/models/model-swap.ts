import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Replaces `target` with the finished `staged` folder so a reader never sees half a model. */
export async function swapIntoPlace(staged: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const old = `${target}.old-${process.pid}`;
  if (existsSync(target)) await rename(target, old);
  await rename(staged, target);
  await rm(old, { recursive: true, force: true });
}
