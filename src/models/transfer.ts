import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EarshotError } from '../errors.js';
import { checkInstalled } from './check-installed.js';
import { digestFile, sha256File } from './digest.js';
import { downloadFile, type DownloadOptions } from './http-download.js';
import type { InstallEventHandler } from './install-events.js';
import { modelDir, partialDir } from './install-layout.js';
import { LOCK_FILE_NAME, emptyLock, readLock, writeLock, type LockFile } from './lock-file.js';
import { installCommand } from './manifest.js';
import type { Manifest, ModelEntry } from './manifest-schema.js';
import { swapIntoPlace } from './model-swap.js';
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
  if (bad) throw new EarshotError('MODEL_CORRUPT', `Not exporting: ${bad.path} is ${bad.problem}; replace it with: ${bad.fix}`);
  const out: LockFile = emptyLock();
  for (const id of ids) {
    const locked = lock.models[id]!;
    const from = modelDir(modelsDir, { role: locked.role, id });
    const to = modelDir(dest, { role: locked.role, id });
    for (const rel of Object.keys(locked.files)) {
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
  onEvent?: InstallEventHandler;
}

function sourceLabel(source: ModelSource): string {
  return source.kind === 'dir' ? source.dir : source.url;
}

function joinUrl(base: string, rel: string): string {
  return `${base.replace(/\/+$/, '')}/${rel.split('/').map(encodeURIComponent).join('/')}`;
}

async function readSourceLock(source: ModelSource, modelsDir: string, options: InstallFromSourceOptions): Promise<LockFile> {
  if (source.kind === 'dir') {
    const lock = readLock(source.dir);
    if (Object.keys(lock.models).length === 0) {
      throw new EarshotError('MODEL_MISSING', `${source.dir} holds no ${LOCK_FILE_NAME}; make it with npm run fetch-models -- --export DIR on a machine that has the models.`);
    }
    return lock;
  }
  const scratch = join(partialDir(modelsDir), 'mirror');
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  await downloadFile([joinUrl(source.url, LOCK_FILE_NAME)], join(scratch, LOCK_FILE_NAME), `${LOCK_FILE_NAME} from the mirror`, options);
  return readLock(scratch);
}

/**
 * Installs models from a copied folder or a mirror, verifying every file against the source's lock file and, for
 * plain downloads, against the manifest's pinned digest. `entries` empty means everything the source holds.
 */
export async function installFromSource(manifest: Manifest, entries: ModelEntry[], source: ModelSource, options: InstallFromSourceOptions): Promise<string[]> {
  const { modelsDir } = options;
  await mkdir(partialDir(modelsDir), { recursive: true });
  const release = await acquireRunLock(modelsDir);
  try {
    const sourceLock = await readSourceLock(source, modelsDir, options);
    const wanted = entries.length > 0 ? entries : manifest.models.filter((m) => sourceLock.models[m.id]?.role === m.role);
    const lock = readLock(modelsDir);
    for (const entry of wanted) {
      const locked = sourceLock.models[entry.id];
      if (!locked || locked.role !== entry.role) {
        throw new EarshotError('MODEL_MISSING', `${sourceLabel(source)} does not hold ${entry.role} model ${entry.id}; on a connected machine run ${installCommand(entry)} and then --export again.`);
      }
      const staged = join(partialDir(modelsDir), `${entry.id}.from`);
      await rm(staged, { recursive: true, force: true });
      const srcDir = source.kind === 'dir' ? modelDir(source.dir, entry) : '';
      for (const [rel, expected] of Object.entries(locked.files)) {
        const to = join(staged, rel);
        await mkdir(dirname(to), { recursive: true });
        options.onEvent?.({ type: 'start', model: entry.id, file: rel, size: expected.size });
        if (source.kind === 'dir') {
          await copyFile(join(srcDir, rel), to).catch(() => {
            throw new EarshotError('MODEL_MISSING', `${join(srcDir, rel)} is missing from the copied folder; export it again.`);
          });
        } else {
          await downloadFile([joinUrl(source.url, `${entry.role}/${entry.id}/${rel}`)], to, `${rel} (${entry.role} ${entry.id}) from the mirror`, {
            ...options,
            onProgress: (received, total) => options.onEvent?.({ type: 'progress', model: entry.id, file: rel, received, total }),
          });
        }
        const got = await sha256File(to, options.signal);
        const pin = entry.files.find((f) => !f.archive && f.name === rel)?.digest;
        const pinFails = pin?.algorithm === 'sha256' && pin.value !== got.sha256;
        if (got.sha256 !== expected.sha256 || got.size !== expected.size || pinFails) {
          await rm(staged, { recursive: true, force: true });
          throw new EarshotError('VERIFY_FAILED', `${rel} of ${entry.id} from ${sourceLabel(source)} failed verification (sha256 ${got.sha256}); nothing was installed. Copy the folder again or run ${installCommand(entry)} online.`);
        }
        options.onEvent?.({ type: 'verified', model: entry.id, file: rel, sha256: got.sha256, trustedOnFirstUse: !pin });
      }
      await verifyNonSha256Pins(entry, staged, sourceLabel(source));
      await swapIntoPlace(staged, modelDir(modelsDir, entry));
      lock.models[entry.id] = { ...locked, installedAt: new Date().toISOString() };
      await writeLock(modelsDir, lock);
      options.onEvent?.({ type: 'installed', model: entry.id, path: modelDir(modelsDir, entry) });
    }
    return wanted.map((e) => e.id);
  } finally {
    await release();
  }
}

async function verifyNonSha256Pins(entry: ModelEntry, dir: string, from: string): Promise<void> {
  for (const file of entry.files) {
    if (file.archive || !file.digest || file.digest.algorithm === 'sha256') continue;
    if ((await digestFile(join(dir, file.name), file.digest.algorithm)) !== file.digest.value) {
      await rm(dir, { recursive: true, force: true });
      throw new EarshotError('VERIFY_FAILED', `${file.name} from ${from} does not match the manifest's ${file.digest.algorithm} pin; nothing was installed.`);
    }
  }
}
