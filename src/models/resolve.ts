import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { EarshotError } from '../errors.js';
import { modelPath } from './install-layout.js';
import { findModel, installCommand, loadManifest } from './manifest.js';
import type { ModelEntry, ModelRole } from './manifest-schema.js';
import { defaultModelsDir } from './project-paths.js';

export type { ModelRole } from './manifest-schema.js';

export interface ResolvedModel {
  /** The manifest id (the short name), or the path itself when a path was given. */
  id: string;
  role: ModelRole;
  /** stt: ggml .bin; llm: .gguf; tts: the voice folder (.onnx, tokens.txt, perhaps espeak-ng-data/); vad: .onnx. */
  path: string;
}

export interface ResolveOptions {
  /** Where models are installed. Default: env EARSHOT_MODELS_DIR, else `<project root>/models`. */
  modelsDir?: string;
  /** Preset whose model fills in a missing `name`. Default: the manifest's defaultPreset ("small"). */
  preset?: string;
  /** Manifest to read. Default: env EARSHOT_MANIFEST, else the project's model-manifest.json. */
  manifestPath?: string;
}

function looksLikePath(name: string): boolean {
  return name.includes('/') || name.includes('\\') || /\.(bin|gguf|onnx)$/i.test(name);
}

/** A voice needs its model and tokens; espeak-ng-data may come from the system (Piper's own voices ship none). */
function voiceFolderComplete(dir: string): boolean {
  try {
    const names = readdirSync(dir);
    return names.some((n) => n.endsWith('.onnx')) && names.includes('tokens.txt');
  } catch {
    return false;
  }
}

function present(role: ModelRole, path: string): boolean {
  if (role === 'tts') return voiceFolderComplete(path);
  try {
    return statSync(path).isFile() && statSync(path).size > 0;
  } catch {
    return false;
  }
}

function bundledPath(entry: ModelEntry): string | undefined {
  if (!entry.bundled) return undefined;
  try {
    const require = createRequire(import.meta.url);
    const pkgJson = require.resolve(`${entry.bundled.package}/package.json`);
    const path = join(pkgJson, '..', entry.bundled.file);
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Turns a model name as users type it (`base.en`, `3b`, `en_US-amy-medium`) into the installed file or folder.
 * `name` undefined picks the preset's model. A path to an existing file or folder is accepted as is.
 * Throws EarshotError MODEL_MISSING (with the exact fetch command) or BAD_OPTION (listing valid names).
 */
export function resolveModel(role: ModelRole, name: string | undefined, options: ResolveOptions = {}): ResolvedModel {
  if (name !== undefined && looksLikePath(name)) {
    const path = isAbsolute(name) ? name : resolvePath(name);
    if (present(role, path)) return { id: name, role, path };
    throw new EarshotError('MODEL_MISSING', `The ${role} model ${path} does not exist or is incomplete; pass a model name or an existing path.`);
  }
  const manifest = loadManifest(options.manifestPath);
  const presetName = options.preset ?? manifest.defaultPreset;
  let id = name;
  if (id === undefined) {
    const preset = manifest.presets[presetName];
    if (!preset) {
      throw new EarshotError('BAD_OPTION', `Unknown preset "${presetName}". Valid presets: ${Object.keys(manifest.presets).join(', ')}`);
    }
    id = preset.models[role] ?? manifest.models.find((m) => m.role === role)?.id;
    if (id === undefined) throw new EarshotError('BAD_OPTION', `The manifest defines no ${role} model yet.`);
  }
  const entry = findModel(manifest, role, id);
  const path = modelPath(options.modelsDir ?? defaultModelsDir(), entry);
  if (present(role, path)) return { id: entry.id, role, path };
  const bundled = bundledPath(entry);
  if (bundled) return { id: entry.id, role, path: bundled };
  throw new EarshotError('MODEL_MISSING', `The ${role} model ${entry.id} (${entry.label}) is not installed; run: ${installCommand(entry)}`);
}
