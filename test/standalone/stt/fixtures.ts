import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeScriptedWhisperModel, type ScriptedWhisperShape } from '../../fixtures/models/whisper-ggml.js';
import { packageRoot } from '../../../src/util/package-root.js';

export const STT_CACHE = join(packageRoot(), '.cache', 'test', 'stt');

export const SCRIPT = 'Hello world, this is earshot.';

/** Writes (once per cache) a scripted whisper model that transcribes any audio as `SCRIPT`. */
export async function scriptedModel(shape: ScriptedWhisperShape, script: string = SCRIPT): Promise<{ path: string; text: string }> {
  const slug = script.replace(/[^a-z]+/gi, '-').toLowerCase().slice(0, 40);
  const path = join(STT_CACHE, `scripted-${shape}-${slug}.bin`);
  if (existsSync(path)) return { path, text: script.split(/\s+/).filter(Boolean).join(' ') };
  const model = await writeScriptedWhisperModel({ path, script, shape });
  return { path: model.path, text: model.text };
}
