import { open, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { digestFile } from './digest.js';
import type { FilePin } from './model-pins.js';
import { piperAdditions, type PiperAdditions, type PiperFiles } from './piper-voice-files.js';

export interface FolderProblem {
  /** Path inside the model folder. */
  file: string;
  problem: string;
}

export interface FolderCheck {
  /** Files that matched their pin. */
  verified: number;
  problems: FolderProblem[];
}

/**
 * Lists what is in a model folder and flags anything but regular files and folders: a link (which could point
 * anywhere), a device, a socket. Returns the regular files by '/'-separated path.
 */
async function walk(dir: string, problems: FolderProblem[]): Promise<string[]> {
  const files: string[] = [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  for (const e of entries) {
    const path = relative(dir, join(e.parentPath, e.name)).split(sep).join('/');
    if (e.isFile()) files.push(path);
    else if (e.isSymbolicLink()) problems.push({ file: path, problem: 'a link (a model holds regular files only)' });
    else if (!e.isDirectory()) problems.push({ file: path, problem: 'not a regular file' });
  }
  return files.sort();
}

async function tailEquals(path: string, from: number, expected: Buffer): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(expected.length);
    const { bytesRead } = await handle.read(buf, 0, buf.length, from);
    return bytesRead === expected.length && buf.equals(expected);
  } finally {
    await handle.close();
  }
}

class PinChecker {
  private readonly additions = new Map<string, Promise<PiperAdditions | string>>();

  constructor(
    private readonly dir: string,
    private readonly signal?: AbortSignal,
  ) {}

  /** The Piper additions derived from this folder's config, or why they cannot be. Derived once per voice. */
  private piper(files: PiperFiles, modelBytes: number): Promise<PiperAdditions | string> {
    const key = `${files.model}\0${files.config}`;
    let found = this.additions.get(key);
    if (!found) {
      found = piperAdditions(this.dir, files, modelBytes).catch((e: Error) => `voice config ${files.config} ${(e as { reason?: string }).reason ?? e.message}`);
      this.additions.set(key, found);
    }
    return found;
  }

  /** Why `file` does not match `pin`, or undefined when it does. */
  async problem(file: string, pin: FilePin): Promise<string | undefined> {
    const path = join(this.dir, file);
    const size = (await stat(path)).size;
    if (pin.kind === 'digest') {
      if (pin.size !== undefined && size !== pin.size) return `size mismatch (expected ${pin.size} bytes, got ${size})`;
      const got = await digestFile(path, pin.algorithm, this.signal);
      return got === pin.value ? undefined : `${pin.algorithm} mismatch (expected ${pin.value}, got ${got})`;
    }
    const additions = await this.piper(pin.piper, pin.kind === 'piper-model' ? pin.size : pin.modelBytes);
    if (typeof additions === 'string') return additions;
    if (pin.kind === 'piper-tokens') {
      if (size !== Buffer.byteLength(additions.tokens)) return 'tokens differ from its voice config';
      return (await tailEquals(path, 0, Buffer.from(additions.tokens))) ? undefined : 'tokens differ from its voice config';
    }
    const expected = pin.size + additions.metadataTail.length;
    if (size !== expected) return `size mismatch (expected ${expected} bytes: the published model and its metadata; got ${size})`;
    const got = await digestFile(path, pin.algorithm, this.signal, pin.size);
    if (got !== pin.value) return `${pin.algorithm} mismatch of the published model (expected ${pin.value}, got ${got})`;
    return (await tailEquals(path, pin.size, additions.metadataTail)) ? undefined : 'metadata differs from its voice config';
  }
}

/**
 * Checks that `dir` holds exactly the files in `pins`, each matching its pin, and nothing else: no extra file, no
 * link, no device. With `pins` undefined (a model trusted on first use that has no record yet) only the kinds of
 * entries are checked. Config files are checked before what is derived from them.
 */
export async function verifyModelFolder(dir: string, pins: Map<string, FilePin> | undefined, signal?: AbortSignal): Promise<FolderCheck> {
  const problems: FolderProblem[] = [];
  const present = new Set(await walk(dir, problems));
  if (!pins) return { verified: present.size, problems };
  for (const file of present) {
    if (!pins.has(file)) problems.push({ file, problem: 'not part of this model' });
  }
  const checker = new PinChecker(dir, signal);
  let verified = 0;
  const ordered = [...pins].sort(([, a], [, b]) => Number(a.kind !== 'digest') - Number(b.kind !== 'digest'));
  for (const [file, pin] of ordered) {
    if (!present.has(file)) {
      problems.push({ file, problem: 'missing' });
      continue;
    }
    const problem = await checker.problem(file, pin);
    if (problem) problems.push({ file, problem });
    else verified++;
  }
  return { verified, problems };
}
