import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeMetadataProps } from '../tts/onnx-metadata-props.js';
import { readOnnxModelInfo } from '../tts/onnx-model-info.js';
import { parsePiperConfig, piperMetadata, piperTokensText } from '../tts/piper-voice-config.js';

/** The two files Piper publishes per voice, by name inside the voice folder. */
export interface PiperFiles {
  model: string;
  config: string;
}

export const PIPER_TOKENS_FILE = 'tokens.txt';

/** What earshot adds to a published Piper voice so sherpa-onnx can load it. */
export interface PiperAdditions {
  tokens: string;
  /** metadata_props entries appended to the published .onnx (only keys it does not already carry). */
  metadataTail: Buffer;
}

/**
 * Derives the additions from the voice's config in `dir` and the first `modelBytes` bytes of its model (the
 * published file). Both inputs are pinned, so the additions are the same on every machine and can be checked by
 * deriving them again. Throws PiperConfigError or OnnxFormatError.
 */
export async function piperAdditions(dir: string, files: PiperFiles, modelBytes: number): Promise<PiperAdditions> {
  const config = parsePiperConfig(await readFile(join(dir, files.config), 'utf8'));
  const published = await readOnnxModelInfo(join(dir, files.model), { bytes: modelBytes });
  const missing = Object.entries(piperMetadata(config)).filter(([key]) => !Object.hasOwn(published.metadata, key));
  return { tokens: piperTokensText(config), metadataTail: encodeMetadataProps(Object.fromEntries(missing)) };
}

/** Makes a staged published voice (its model exactly `modelBytes` long) loadable: writes tokens.txt, appends the metadata. */
export async function addPiperFiles(dir: string, files: PiperFiles, modelBytes: number): Promise<void> {
  const additions = await piperAdditions(dir, files, modelBytes);
  await writeFile(join(dir, PIPER_TOKENS_FILE), additions.tokens);
  await appendFile(join(dir, files.model), additions.metadataTail);
}
