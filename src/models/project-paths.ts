import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/** The folder holding earshot's package.json, found from this module's location (never process.cwd()). */
export function projectRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'earshot') {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('earshot: cannot find the package root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** `EARSHOT_MODELS_DIR` when set, else `<project root>/models`. */
export function defaultModelsDir(): string {
  const fromEnv = process.env.EARSHOT_MODELS_DIR;
  return fromEnv ? resolve(fromEnv) : join(projectRoot(), 'models');
}

/** `EARSHOT_MANIFEST` when set, else `<project root>/model-manifest.json`. */
export function defaultManifestPath(): string {
  const fromEnv = process.env.EARSHOT_MANIFEST;
  return fromEnv ? resolve(fromEnv) : join(projectRoot(), 'model-manifest.json');
}
