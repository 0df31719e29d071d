import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { digestFile, sha256File } from './digest.js';
import { modelDir } from './install-layout.js';
import { readLock } from './lock-file.js';
import { installCommand } from './manifest.js';
import type { Manifest } from './manifest-schema.js';

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

/** Re-hashes every installed file against the lock file and, for plain downloads, the manifest's pin. No network. */
export async function checkInstalled(manifest: Manifest, modelsDir: string, signal?: AbortSignal): Promise<CheckResult> {
  const lock = readLock(modelsDir);
  const result: CheckResult = { verified: 0, problems: [] };
  for (const [id, locked] of Object.entries(lock.models)) {
    const entry = manifest.models.find((m) => m.id === id && m.role === locked.role);
    const fix = entry ? installCommand(entry, ' --force') : `remove ${join(modelsDir, locked.role, id)} (not in this manifest)`;
    const dir = modelDir(modelsDir, { role: locked.role, id });
    for (const [rel, expected] of Object.entries(locked.files)) {
      const path = join(dir, rel);
      if (!existsSync(path)) {
        result.problems.push({ model: id, path, problem: 'missing', fix });
        continue;
      }
      const got = await sha256File(path, signal);
      if (got.sha256 !== expected.sha256 || got.size !== expected.size) {
        result.problems.push({ model: id, path, problem: `sha256 mismatch (expected ${expected.sha256}, got ${got.sha256})`, fix });
        continue;
      }
      const pin = entry?.files.find((f) => !f.archive && f.name === rel)?.digest;
      if (pin && pin.algorithm !== 'sha256' && (await digestFile(path, pin.algorithm, signal)) !== pin.value) {
        result.problems.push({ model: id, path, problem: `${pin.algorithm} does not match the manifest's pin`, fix });
        continue;
      }
      if (pin && pin.algorithm === 'sha256' && got.sha256 !== pin.value) {
        result.problems.push({ model: id, path, problem: `sha256 does not match the manifest's pin`, fix });
        continue;
      }
      result.verified++;
    }
  }
  return result;
}
