import { buildWhisperAddon } from '../scripts/build-whisper-addon.js';
import { generateTestModels } from './support/test-models.js';

/** Runs once before all test files: the whisper addon (cached build) and the generated models. */
export default async function setup(): Promise<void> {
  await buildWhisperAddon({ quiet: true });
  await generateTestModels();
}
