import { join } from 'node:path';
import { EarshotError } from '../errors.js';
import { modelDir } from './install-layout.js';
import { LOCK_FILE_NAME, readLock } from './lock-file.js';
import { installCommand } from './manifest.js';
import type { Manifest } from './manifest-schema.js';
import { lockPins, manifestPins } from './model-pins.js';
import { verifyModelFolder, type FolderProblem } from './verify-model-folder.js';

export interface CheckProblem {
  model: string;
  /** The damaged or missing file. */
  path: string;
  problem: string;
  /** The command that replaces it. */
  fix: string;
}

export interface CheckResult {
  /** Installed files that matched. */
  verified: number;
  problems: CheckProblem[];
}

const MODEL_ID = /^[A-Za-z0-9._-]+$/;

/**
 * Re-hashes every installed file against the lock file and against what the manifest pins for it, and flags
 * anything in a model folder that should not be there (a link, an extra file). No network.
 */
export async function checkInstalled(manifest: Manifest, modelsDir: string, signal?: AbortSignal): Promise<CheckResult> {
  const lock = readLock(modelsDir);
  const result: CheckResult = { verified: 0, problems: [] };
  for (const [id, locked] of Object.entries(lock.models)) {
    const entry = manifest.models.find((m) => m.id === id && m.role === locked.role);
    const fix = entry ? installCommand(entry, ' --force') : `remove ${join(modelsDir, locked.role, id)} (not in this manifest)`;
    if (!MODEL_ID.test(id) || id === '.' || id === '..') {
      result.problems.push({ model: id, path: join(modelsDir, LOCK_FILE_NAME), problem: `names the model ${JSON.stringify(id)}`, fix: `delete ${join(modelsDir, LOCK_FILE_NAME)}` });
      continue;
    }
    const dir = modelDir(modelsDir, { role: locked.role, id });
    const report = (problems: FolderProblem[]) => {
      for (const p of problems) result.problems.push({ model: id, path: join(dir, p.file), problem: p.problem, fix });
    };
    let recorded;
    try {
      recorded = lockPins(locked, id, join(modelsDir, LOCK_FILE_NAME));
    } catch (e) {
      if (!(e instanceof EarshotError)) throw e;
      result.problems.push({ model: id, path: join(modelsDir, LOCK_FILE_NAME), problem: e.message, fix });
      continue;
    }
    const againstLock = await verifyModelFolder(dir, recorded, signal);
    report(againstLock.problems);
    const pins = entry && manifestPins(entry);
    if (!pins) {
      result.verified += againstLock.verified;
      continue;
    }
    // A lock file can be edited; the manifest is what every installed file is finally held to.
    const flagged = new Set(againstLock.problems.map((p) => p.file));
    const againstManifest = await verifyModelFolder(dir, pins, signal);
    report(againstManifest.problems.filter((p) => !flagged.has(p.file)));
    result.verified += againstManifest.verified;
  }
  return result;
}
