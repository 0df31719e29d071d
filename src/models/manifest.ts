import { readFileSync } from 'node:fs';
import { EarshotError } from '../errors.js';
import { parseManifest, type Manifest, type ModelEntry, type ModelFile, type ModelRole } from './manifest-schema.js';
import { defaultManifestPath } from './project-paths.js';

/** Reads and validates a manifest file (default: the project's model-manifest.json). Synchronous so resolveModel can be. */
export function loadManifest(path: string = defaultManifestPath()): Manifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new EarshotError('BAD_OPTION', `Model manifest not found at ${path}; restore model-manifest.json from the earshot repository.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new EarshotError('BAD_OPTION', `${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseManifest(json, path);
}

export function modelsOfRole(manifest: Manifest, role: ModelRole): ModelEntry[] {
  return manifest.models.filter((m) => m.role === role);
}

/** The flag that picks a model of this role, as users type it. */
export function roleFlag(role: ModelRole): string {
  return role === 'tts' ? '--voice' : `--${role}`;
}

/** The exact command that installs one model. */
export function installCommand(entry: Pick<ModelEntry, 'role' | 'id'>, extra = ''): string {
  return `npm run fetch-models -- ${roleFlag(entry.role)} ${entry.id}${extra}`;
}

/** Finds a model by its short name; an unknown name is a BAD_OPTION error that lists the valid ones. */
export function findModel(manifest: Manifest, role: ModelRole, name: string): ModelEntry {
  const entry = manifest.models.find((m) => m.role === role && m.id === name);
  if (entry) return entry;
  const valid = modelsOfRole(manifest, role).map((m) => m.id);
  const list = valid.length > 0 ? valid.join(', ') : '(none defined yet)';
  throw new EarshotError('BAD_OPTION', `Unknown ${role} model "${name}". Valid ${roleFlag(role)} names: ${list}`);
}

/** The preset's model names by role; an unknown preset is a BAD_OPTION error that lists the valid ones. */
export function presetModels(manifest: Manifest, preset: string): Partial<Record<ModelRole, string>> {
  const found = manifest.presets[preset];
  if (!found) {
    throw new EarshotError('BAD_OPTION', `Unknown preset "${preset}". Valid presets: ${Object.keys(manifest.presets).join(', ')}`);
  }
  return found.models;
}

/**
 * Most bytes a download of `file` may bring: its size plus a small margin, or a wider one when the manifest's size
 * is upstream's rounded figure. Anything larger is not the file the manifest describes.
 */
export function downloadCap(file: Pick<ModelFile, 'size' | 'sizeApproximate'>): number {
  return file.sizeApproximate ? Math.ceil(file.size * 1.05) + 1_000_000 : file.size + 64 * 1024;
}
