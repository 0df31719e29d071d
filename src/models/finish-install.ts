import { EarshotError } from '../errors.js';
import { OnnxFormatError } from '../tts/onnx-model-info.js';
import { PiperConfigError } from '../tts/piper-voice-config.js';
import { digestFolder } from './folder-digest.js';
import type { InstallEventHandler } from './install-events.js';
import { modelDir } from './install-layout.js';
import { writeLock, type LockFile, type LockedModel } from './lock-file.js';
import { installCommand } from './manifest.js';
import type { ModelEntry } from './manifest-schema.js';
import { manifestPins, type FilePin } from './model-pins.js';
import { swapIntoPlace } from './model-swap.js';
import { addPiperFiles } from './piper-voice-files.js';
import { verifyModelFolder } from './verify-model-folder.js';

export interface FinishInstallOptions {
  modelsDir: string;
  /** The lock file being updated; the entry is recorded in it and it is written. */
  lock: LockFile;
  /** What was downloaded, for trusted-on-first-use records; empty for installs from a copy or mirror. */
  downloads: LockedModel['downloads'];
  /** Where the files came from, as the user knows it (a URL, a folder), for the error line. */
  from: string;
  /** What the staged files must match. Default: the manifest's pins for the entry. */
  pins?: Map<string, FilePin>;
  signal?: AbortSignal;
  emit?: InstallEventHandler;
  /** Called for each file once all matched, before the folder moves into place. Default: none. */
  onVerified?: (path: string, sha256: string) => void;
}

/**
 * The last steps every install shares: make a Piper voice loadable, hold every staged file to its pin (no file
 * missing, none extra, no link), move the folder into place and record it in the lock file. The staged folder
 * is left for the caller to remove when this throws.
 */
export async function finishInstall(entry: ModelEntry, staged: string, options: FinishInstallOptions): Promise<void> {
  const refuse = (file: string, problem: string): EarshotError =>
    new EarshotError(
      'VERIFY_FAILED',
      `${file} of ${entry.id} from ${options.from} failed verification: ${problem}; nothing was installed. Copy the models again or run ${installCommand(entry)} online.`,
    );
  if (entry.piper) {
    const model = entry.files.find((f) => f.name === entry.piper!.model)!;
    try {
      await addPiperFiles(staged, entry.piper, model.size);
    } catch (e) {
      if (e instanceof PiperConfigError) throw refuse(entry.piper.config, e.reason);
      if (e instanceof OnnxFormatError) throw refuse(entry.piper.model, e.reason);
      throw e;
    }
  }
  const pins = options.pins ?? manifestPins(entry);
  const check = await verifyModelFolder(staged, pins, options.signal);
  const problem = check.problems[0];
  if (problem) throw refuse(problem.file, problem.problem);
  const files = await digestFolder(staged, options.signal);
  for (const [path, file] of Object.entries(files)) options.onVerified?.(path, file.sha256);
  const target = modelDir(options.modelsDir, entry);
  await swapIntoPlace(staged, target);
  options.lock.models[entry.id] = { role: entry.role, installedAt: new Date().toISOString(), files, downloads: options.downloads };
  await writeLock(options.modelsDir, options.lock);
  options.emit?.({ type: 'installed', model: entry.id, path: target });
}
