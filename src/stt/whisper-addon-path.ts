import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';

/** File name of the compiled addon, as produced by native/whisper/CMakeLists.txt. */
export const WHISPER_ADDON_FILE = 'earshot_whisper.node';

/** Where scripts/build-whisper-addon.ts builds the addon (CMake build tree) under the package root. */
export function whisperAddonBuildDir(root: string = packageRoot()): string {
  return join(root, 'build', 'whisper');
}

/** Absolute path of the built whisper addon (it may not exist yet); cmake-js puts it in the Release folder. */
export function whisperAddonPath(root: string = packageRoot()): string {
  return join(whisperAddonBuildDir(root), 'Release', WHISPER_ADDON_FILE);
}
