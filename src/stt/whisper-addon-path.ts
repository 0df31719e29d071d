import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** File name of the compiled addon, as produced by native/whisper/CMakeLists.txt. */
export const WHISPER_ADDON_FILE = 'earshot_whisper.node';

/**
 * The earshot package root: the nearest folder above this module whose package.json is named "earshot".
 * Walking up (rather than a fixed `../..`) keeps this right both from src/ under tsx and from dist/ after tsc.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const name: unknown = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
      if (name === 'earshot') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the earshot package root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** Where scripts/build-whisper-addon.ts builds the addon (CMake build tree) under the package root. */
export function whisperAddonBuildDir(root: string = packageRoot()): string {
  return join(root, 'build', 'whisper');
}

/** Absolute path of the built whisper addon (it may not exist yet); cmake-js puts it in the Release folder. */
export function whisperAddonPath(root: string = packageRoot()): string {
  return join(whisperAddonBuildDir(root), 'Release', WHISPER_ADDON_FILE);
}
