import { EarshotError } from '../errors.js';
import type { LockedModel } from './lock-file.js';
import type { DigestAlgorithm, ModelEntry } from './manifest-schema.js';
import { PIPER_TOKENS_FILE, type PiperFiles } from './piper-voice-files.js';
import { normalizeModelPath } from './safe-path.js';

/** What one installed file must be. */
export type FilePin =
  /** The whole file has this digest (and this size, when known exactly). */
  | { kind: 'digest'; algorithm: DigestAlgorithm; value: string; size?: number }
  /** A Piper model: its first `size` bytes are the published file, the rest the metadata earshot derives. */
  | { kind: 'piper-model'; algorithm: DigestAlgorithm; value: string; size: number; piper: PiperFiles }
  /** tokens.txt, derived from the voice's pinned config. */
  | { kind: 'piper-tokens'; piper: PiperFiles; modelBytes: number };

/**
 * Every file `entry` installs, by path in its folder, with what the manifest pins for it; undefined when the entry
 * has files without an upstream digest (trusted on first use).
 */
export function manifestPins(entry: ModelEntry): Map<string, FilePin> | undefined {
  if (entry.files.some((f) => !f.digest)) return undefined;
  const pins = new Map<string, FilePin>();
  for (const file of entry.files) {
    const digest = file.digest!;
    if (file.archive) {
      for (const [path, pin] of Object.entries(file.archive.files ?? {})) {
        pins.set(path, { kind: 'digest', algorithm: 'sha256', value: pin.sha256, size: pin.size });
      }
    } else if (entry.piper?.model === file.name) {
      pins.set(file.name, { kind: 'piper-model', ...digest, size: file.size, piper: entry.piper });
    } else {
      pins.set(file.name, { kind: 'digest', ...digest, size: file.sizeApproximate ? undefined : file.size });
    }
  }
  if (entry.piper) {
    const model = entry.files.find((f) => f.name === entry.piper!.model)!;
    pins.set(PIPER_TOKENS_FILE, { kind: 'piper-tokens', piper: entry.piper, modelBytes: model.size });
  }
  return pins;
}

/**
 * The files a lock file records for a model, as pins. A path that could leave the model folder is refused with
 * one line naming `where` (the lock file's folder or URL).
 */
export function lockPins(locked: LockedModel, id: string, where: string): Map<string, FilePin> {
  const pins = new Map<string, FilePin>();
  for (const [path, file] of Object.entries(locked.files)) {
    const safe = normalizeModelPath(path);
    if (safe === undefined || safe !== path) {
      throw new EarshotError('VERIFY_FAILED', `${where} lists the path ${JSON.stringify(path)} for ${id}, which is not a plain path inside the model folder; nothing was installed.`);
    }
    pins.set(safe, { kind: 'digest', algorithm: 'sha256', value: file.sha256, size: file.size });
  }
  return pins;
}
