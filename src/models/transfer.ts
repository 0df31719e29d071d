import { randomUUID } from 'node:crypto';
import { copyFile, lstat, mkdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EarshotError } from '../errors.js';
import { checkInstalled } from './check-installed.js';
import { copyCapped } from './copy-capped.js';
import { diskFullError, isDiskFull } from './disk-space.js';
import { finishInstall } from './finish-install.js';
import { downloadFile, type DownloadOptions } from './http-download.js';
import type { InstallEventHandler } from './install-events.js';
import { modelDir, partialDir } from './install-layout.js';
import { LOCK_FILE_NAME, emptyLock, parseLock, readLock, writeLock, type LockFile, type LockedModel } from './lock-file.js';
import { downloadCap, installCommand } from './manifest.js';
import type { Manifest, ModelEntry } from './manifest-schema.js';
import { lockPins, manifestPins, type FilePin } from './model-pins.js';
import { acquireRunLock } from './run-lock.js';

export interface ExportOptions {
  /** Installed models to copy. Default: every model in the lock file. */
  ids?: string[];
  /** Manifest file copied beside the models so the folder is self-describing. */
  manifestPath: string;
  signal?: AbortSignal;
}

/**
 * Copies installed models (re-verified first) with the lock file and the manifest into `dest`, in the layout
 * that `--from DIR` reads and that a static web server can serve as a `--mirror`.
 */
export async function exportModels(manifest: Manifest, modelsDir: string, dest: string, options: ExportOptions): Promise<string[]> {
  const lock = readLock(modelsDir);
  const ids = options.ids ?? Object.keys(lock.models);
  for (const id of ids) {
    if (!lock.models[id]) throw new EarshotError('MODEL_MISSING', `Cannot export ${id}: it is not installed in ${modelsDir}.`);
  }
  const check = await checkInstalled(manifest, modelsDir, options.signal);
  const bad = check.problems.find((p) => ids.includes(p.model));
  if (bad) throw new EarshotError('MODEL_CORRUPT', `Not exporting: ${bad.path} ${bad.problem}; replace it with: ${bad.fix}`);
  const out: LockFile = emptyLock();
  for (const id of ids) {
    const locked = lock.models[id]!;
    const from = modelDir(modelsDir, { role: locked.role, id });
    const to = modelDir(dest, { role: locked.role, id });
    for (const rel of lockPins(locked, id, modelsDir).keys()) {
      await mkdir(dirname(join(to, rel)), { recursive: true });
      await copyFile(join(from, rel), join(to, rel));
    }
    out.models[id] = locked;
  }
  await mkdir(dest, { recursive: true });
  await copyFile(options.manifestPath, join(dest, 'model-manifest.json'));
  await writeLock(dest, out);
  return ids;
}

/** Where a copied or mirrored set of models comes from: a folder (--from) or an HTTP server (--mirror). */
export type ModelSource = { kind: 'dir'; dir: string } | { kind: 'mirror'; url: string };

export interface InstallFromSourceOptions extends Pick<DownloadOptions, 'signal' | 'timeoutMs' | 'retries' | 'backoffMs'> {
  /** Folder models are installed into. */
  modelsDir: string;
  /**
   * Accept models the manifest pins no digest for, held to the source's own lock file instead (`--trust-source`).
   * Default: false: such models install only from their upstream URL.
   */
  trustSource?: boolean;
  onEvent?: InstallEventHandler;
}

/** The largest a source's lock file may be: a few hundred bytes per file of every model. */
const MAX_LOCK_BYTES = 4 * 1024 * 1024;

function sourceLabel(source: ModelSource): string {
  return source.kind === 'dir' ? source.dir : source.url;
}

function joinUrl(base: string, rel: string): string {
  return `${base.replace(/\/+$/, '')}/${rel.split('/').map(encodeURIComponent).join('/')}`;
}

async function readSourceLock(source: ModelSource, options: InstallFromSourceOptions): Promise<LockFile> {
  const exportHint = 'make it with npm run fetch-models -- --export DIR on a machine that has the models';
  if (source.kind === 'dir') {
    const lock = readLock(source.dir);
    if (Object.keys(lock.models).length === 0) {
      throw new EarshotError('MODEL_MISSING', `${source.dir} holds no ${LOCK_FILE_NAME}; ${exportHint}.`);
    }
    return lock;
  }
  const scratch = join(partialDir(options.modelsDir), `mirror-${randomUUID()}`);
  await mkdir(scratch, { recursive: true });
  try {
    const url = joinUrl(source.url, LOCK_FILE_NAME);
    const part = join(scratch, LOCK_FILE_NAME);
    await downloadFile([url], part, `${LOCK_FILE_NAME} from the mirror ${source.url}`, { ...options, maxBytes: MAX_LOCK_BYTES });
    return parseLock(await readFile(part, 'utf8'), url, `the mirror does not serve an --export folder (${exportHint})`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** A file to take from the source: its path in the model folder and the most bytes it may have. */
interface Wanted {
  path: string;
  maxBytes: number;
}

/** Every file the source must provide for `entry`: what the manifest pins (tokens.txt is derived, not copied). */
function wantedFiles(entry: ModelEntry, pins: Map<string, FilePin>): Wanted[] {
  const wanted: Wanted[] = [];
  for (const [path, pin] of pins) {
    if (pin.kind === 'piper-tokens') continue;
    // The source's model carries the metadata earshot appended, a few hundred bytes.
    if (pin.kind === 'piper-model') wanted.push({ path, maxBytes: pin.size + 64 * 1024 });
    else if (pin.size !== undefined) wanted.push({ path, maxBytes: pin.size });
    else wanted.push({ path, maxBytes: downloadCap(entry.files.find((f) => f.name === path) ?? { size: 0, sizeApproximate: true }) });
  }
  return wanted;
}

async function fetchFromSource(source: ModelSource, entry: ModelEntry, file: Wanted, to: string, options: InstallFromSourceOptions): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  options.onEvent?.({ type: 'start', model: entry.id, file: file.path, size: undefined });
  if (source.kind === 'mirror') {
    await downloadFile([joinUrl(source.url, `${entry.role}/${entry.id}/${file.path}`)], to, `${file.path} (${entry.role} ${entry.id}) from the mirror ${source.url}`, {
      ...options,
      maxBytes: file.maxBytes,
      onProgress: (received, total) => options.onEvent?.({ type: 'progress', model: entry.id, file: file.path, received, total }),
    });
    return;
  }
  const from = join(modelDir(source.dir, entry), file.path);
  const info = await lstat(from).catch(() => undefined);
  if (!info?.isFile()) {
    const what = info ? 'is not a regular file' : 'is missing';
    throw new EarshotError('MODEL_MISSING', `${from} ${what} in the copied folder ${source.dir}; export ${entry.id} again.`);
  }
  if (info.size > file.maxBytes) {
    throw new EarshotError('VERIFY_FAILED', `${from} has ${info.size} bytes, more than ${entry.id} can hold; nothing was installed. Export it again.`);
  }
  try {
    await copyCapped(from, to, file.maxBytes, options.signal);
  } catch (e) {
    if (isDiskFull(e)) throw diskFullError(`while copying ${entry.id} from ${source.dir} (nothing was installed)`);
    throw e;
  }
}

async function installOneFromSource(entry: ModelEntry, locked: LockedModel, source: ModelSource, lock: LockFile, options: InstallFromSourceOptions): Promise<void> {
  const label = sourceLabel(source);
  const pinned = manifestPins(entry);
  const trusted = pinned === undefined;
  if (trusted && !options.trustSource) {
    throw new EarshotError(
      'VERIFY_FAILED',
      `${entry.id} has no upstream digest in the manifest, so a copy from ${label} cannot be checked; run ${installCommand(entry)} online, or pass --trust-source to accept this copy.`,
    );
  }
  const pins = pinned ?? lockPins(locked, entry.id, label);
  const staged = join(partialDir(options.modelsDir), `${entry.id}.from-${randomUUID()}`);
  try {
    for (const file of wantedFiles(entry, pins)) await fetchFromSource(source, entry, file, join(staged, file.path), options);
    if (entry.piper) {
      // Only the published bytes are taken from the source; earshot derives its additions again.
      const model = join(staged, entry.piper.model);
      const size = entry.files.find((f) => f.name === entry.piper!.model)!.size;
      if ((await stat(model)).size > size) await truncate(model, size);
    }
    await finishInstall(entry, staged, {
      modelsDir: options.modelsDir,
      lock,
      downloads: {},
      from: label,
      pins: trusted ? pins : undefined,
      signal: options.signal,
      emit: options.onEvent,
      onVerified: (file, sha256) =>
        options.onEvent?.({ type: 'verified', model: entry.id, file, sha256, trustedOnFirstUse: trusted, trustedSource: trusted ? label : undefined }),
    });
  } finally {
    await rm(staged, { recursive: true, force: true });
  }
}

/**
 * Installs models from a copied folder or a mirror. Every file is held to what the manifest pins for it; the
 * source's lock file only says which models it holds, and never adds a digest the manifest lacks: a model without
 * an upstream digest installs from a source only with `trustSource`. `entries` empty means everything the source
 * holds. Errors name the folder or URL, and leave nothing behind.
 */
export async function installFromSource(manifest: Manifest, entries: ModelEntry[], source: ModelSource, options: InstallFromSourceOptions): Promise<string[]> {
  const { modelsDir } = options;
  await mkdir(partialDir(modelsDir), { recursive: true });
  const release = await acquireRunLock(modelsDir);
  try {
    const sourceLock = await readSourceLock(source, options);
    const wanted = entries.length > 0 ? entries : manifest.models.filter((m) => sourceLock.models[m.id]?.role === m.role);
    if (wanted.length === 0) {
      throw new EarshotError('MODEL_MISSING', `${sourceLabel(source)} holds no model this manifest knows; export the models again with this version of earshot.`);
    }
    const lock = readLock(modelsDir);
    for (const entry of wanted) {
      const locked = sourceLock.models[entry.id];
      if (!locked || locked.role !== entry.role) {
        throw new EarshotError('MODEL_MISSING', `${sourceLabel(source)} does not hold ${entry.role} model ${entry.id}; on a connected machine run ${installCommand(entry)} and then --export again.`);
      }
      await installOneFromSource(entry, locked, source, lock, options);
    }
    return wanted.map((e) => e.id);
  } finally {
    await release();
  }
}
