import { join, resolve } from 'node:path';
import { packageRoot } from '../util/package-root.js';

/** `EARSHOT_MODELS_DIR` when set, else `<project root>/models`. */
export function defaultModelsDir(): string {
  const fromEnv = process.env.EARSHOT_MODELS_DIR;
  return fromEnv ? resolve(fromEnv) : join(packageRoot(), 'models');
}

/** `EARSHOT_MANIFEST` when set, else `<project root>/model-manifest.json`. */
export function defaultManifestPath(): string {
  const fromEnv = process.env.EARSHOT_MANIFEST;
  return fromEnv ? resolve(fromEnv) : join(packageRoot(), 'model-manifest.json');
}
