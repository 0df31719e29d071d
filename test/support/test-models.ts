import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_SCRIPTED_REPLY, writeScriptedLlama } from '../fixtures/models/gguf-llama.js';
import { writeTestVoice } from '../fixtures/models/piper-voice.js';
import { writeScriptedWhisperModel } from '../fixtures/models/whisper-ggml.js';

/** What the generated whisper model hears in any audio. */
export const SCRIPTED_TRANSCRIPT = 'What is the capital of France?';
/** What the second whisper model hears in any audio: a non-speech tag, as whisper writes for a cough. */
export const NO_WORDS_TRANSCRIPT = '(coughs)';
/** What the generated chat model answers to anything. */
export const SCRIPTED_REPLY = DEFAULT_SCRIPTED_REPLY;
/** Debian's espeak-ng-data, for the generated voice (which ships none). */
export const SYSTEM_ESPEAK_DATA = '/usr/lib/x86_64-linux-gnu/espeak-ng-data';

export const TEST_MODEL_DIR = join(process.cwd(), '.cache', 'test-models');

export const testModels = {
  stt: join(TEST_MODEL_DIR, 'whisper-scripted-micro.bin'),
  sttNoWords: join(TEST_MODEL_DIR, 'whisper-scripted-no-words.bin'),
  llm: join(TEST_MODEL_DIR, 'llama-scripted.gguf'),
  llmEndless: join(TEST_MODEL_DIR, 'llama-scripted-endless.gguf'),
  voice: join(TEST_MODEL_DIR, 'voice-test'),
  espeakData: SYSTEM_ESPEAK_DATA,
} as const;

/**
 * Generates every test model (a few seconds); called once from the vitest global setup. Each file is written
 * beside its final name and renamed into place: llama.cpp and whisper.cpp mmap their models, and rewriting a
 * file another test process has mapped kills that process with SIGBUS.
 */
export async function generateTestModels(): Promise<void> {
  const staging = join(TEST_MODEL_DIR, `.staging-${process.pid}`);
  await mkdir(staging, { recursive: true });
  const staged = (p: string) => join(staging, p.slice(TEST_MODEL_DIR.length + 1));
  try {
    await Promise.all([
      writeScriptedWhisperModel({ path: staged(testModels.stt), script: SCRIPTED_TRANSCRIPT, shape: 'micro' }),
      writeScriptedWhisperModel({ path: staged(testModels.sttNoWords), script: NO_WORDS_TRANSCRIPT, shape: 'micro' }),
      writeScriptedLlama({ path: staged(testModels.llm), reply: SCRIPTED_REPLY }),
      writeScriptedLlama({ path: staged(testModels.llmEndless), reply: SCRIPTED_REPLY, neverEnd: true }),
      writeTestVoice({ dir: staged(testModels.voice) }),
    ]);
    for (const p of [testModels.stt, testModels.sttNoWords, testModels.llm, testModels.llmEndless]) await rename(staged(p), p);
    await mkdir(testModels.voice, { recursive: true });
    for (const f of await readdir(staged(testModels.voice))) {
      await rename(join(staged(testModels.voice), f), join(testModels.voice, f));
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

export function testModelsReady(): boolean {
  return Object.values(testModels).every((p) => existsSync(p));
}

/** The CLI flags that point earshot at the generated models (any of them swapped, e.g. the endless LLM), CPU only. */
export function modelFlags(m: { stt: string; llm: string; voice: string } = testModels): string[] {
  return ['--stt-model', m.stt, '--llm-model', m.llm, '--voice', m.voice, '--espeak-data', testModels.espeakData, '--gpu', 'off'];
}
