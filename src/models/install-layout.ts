import { join } from 'node:path';
import type { ModelEntry, ModelFile } from './manifest-schema.js';

/** Where a model lives: `<modelsDir>/<role>/<id>/`. Mirrors and exports use the same layout. */
export function modelDir(modelsDir: string, entry: Pick<ModelEntry, 'role' | 'id'>): string {
  return join(modelsDir, entry.role, entry.id);
}

/** The path resolveModel hands to an engine (a file, or the voice folder for TTS). */
export function modelPath(modelsDir: string, entry: ModelEntry): string {
  return entry.path === '.' ? modelDir(modelsDir, entry) : join(modelDir(modelsDir, entry), entry.path);
}

/** Scratch space for unfinished downloads; kept across runs so a rerun can resume. */
export function partialDir(modelsDir: string): string {
  return join(modelsDir, '.partial');
}

export function partialFile(modelsDir: string, entry: Pick<ModelEntry, 'id'>, file: Pick<ModelFile, 'name'>): string {
  return join(partialDir(modelsDir), `${entry.id}--${file.name}.part`);
}
