import { statfs } from 'node:fs/promises';
import { EarshotError } from '../errors.js';

/** The file system said there is no room: no space left, a quota, or a file size limit. */
export function isDiskFull(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG';
}

/** One line for a write that ran out of room, saying what was being done ("while copying X from Y"). */
export function diskFullError(doing: string): EarshotError {
  return new EarshotError('DISK_FULL', `The disk is full ${doing}; free some space and run the same command again.`);
}

export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(0)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
  return `${n} B`;
}

/** Fails before any byte is fetched when `dir`'s file system cannot hold `needed` more bytes. */
export async function ensureDiskSpace(dir: string, needed: number): Promise<void> {
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  if (free < needed) {
    throw new EarshotError(
      'DOWNLOAD_FAILED',
      `Not enough disk space in ${dir}: the selected models need about ${formatBytes(needed)}, ${formatBytes(free)} is free; free some space or choose a smaller --preset.`,
    );
  }
}
