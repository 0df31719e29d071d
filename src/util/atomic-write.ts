import { unlinkSync } from 'node:fs';
import { open, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Temporary files being written right now: removed if the process exits before they are renamed into place. */
const pending = new Set<string>();
let exitHookInstalled = false;

function removePendingOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A second Ctrl-C (process.exit) can land between the write and the rename; the half-written file goes too.
  process.once('exit', () => {
    for (const p of pending) {
      try {
        unlinkSync(p);
      } catch {
        // already gone
      }
    }
  });
}

/** The name a file is written under before it is renamed to `path`: hidden, beside it, unique to this process. */
export function temporaryNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
}

/**
 * Writes `bytes` to `path` so that a reader (or a later run) sees the old file or the whole new one, never a
 * part: the bytes go to a temporary file beside it (same file system, so the rename is atomic), are flushed
 * to the disk, and only then renamed over `path`. On any failure (a full disk, a signal that ends the
 * process) the temporary file is removed and `path` is left as it was. Errors are the file system's own.
 * A `path` that is not a regular file (a device, a pipe) is written directly.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  // A device or a pipe (`-o /dev/stdout`) is written as it is: a file renamed over it would replace it.
  const existing = await stat(path).catch(() => undefined);
  if (existing && !existing.isFile()) {
    await writeFile(path, bytes);
    return;
  }
  // Through a symbolic link, the file it points at is replaced, not the link.
  const target = existing ? await realpath(path) : path;
  removePendingOnExit();
  const temp = temporaryNameFor(target);
  pending.add(temp);
  try {
    const handle = await open(temp, 'w', 0o644);
    try {
      await handle.writeFile(bytes);
      // A full disk can show only here (delayed allocation), and a rename before the data is on disk can
      // leave an empty file after a power cut.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  } finally {
    pending.delete(temp);
  }
}
