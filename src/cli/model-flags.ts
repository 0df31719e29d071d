import { existsSync, readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { defaultAgentOptions, type AgentModels, type AgentOptions } from '../agent/agent-options.js';
import { EarshotError } from '../errors.js';
import { resolveModel, type ModelRole } from '../models/resolve.js';

/** Flags every command that runs the agent shares: which models, and how they run. */
export interface ModelFlags {
  preset?: string;
  stt?: string;
  llm?: string;
  voice?: string;
  sttModel?: string;
  llmModel?: string;
  vadModel?: string;
  espeakData?: string;
  systemPrompt?: string;
  gpu: 'auto' | 'off';
  threads?: number;
  language: string;
}

export function addModelFlags(cmd: Command): Command {
  return cmd
    .option('--preset <name>', 'model set for a laptop class: tiny, small, medium or large (default: small)')
    .option('--stt <name>', 'whisper model by name from models/ (e.g. base.en)')
    .option('--llm <name>', 'chat model by name from models/ (e.g. 3b)')
    .option('--voice <name|dir>', 'voice by name from models/ (e.g. en_US-amy-medium), or a voice directory')
    .option('--stt-model <file>', 'whisper.cpp ggml model file (overrides --stt)')
    .option('--llm-model <file>', 'GGUF chat model file (overrides --llm)')
    .option('--vad-model <file>', 'Silero v5 ONNX file (default: the one bundled with earshot)')
    .option('--espeak-data <dir>', "espeak-ng-data folder, for a voice that has none (default: the voice's own, then the system's)")
    .option('--system-prompt <text|@file>', 'system prompt, or @path to read it from a file')
    .addOption(new Option('--gpu <mode>', 'LLM on GPU when one is found, or CPU only').choices(['auto', 'off']).default('auto'))
    .option('--threads <n>', 'CPU threads for each of STT, LLM and TTS (default: STT all cores, LLM one fewer, TTS the rest)', parsePositiveInt)
    .option('--language <code>', "speech language (ISO code) or 'auto'", defaultAgentOptions.language);
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new EarshotError('BAD_OPTION', `expected a whole number of 1 or more, got "${value}"`);
  return n;
}

/** Explicit files win; otherwise names (or the preset's defaults) are looked up under models/. */
export function resolveModelFlags(flags: ModelFlags): AgentModels {
  const byName = (role: ModelRole, name: string | undefined) => resolveModel(role, name, { preset: flags.preset }).path;
  const voiceIsDir = flags.voice !== undefined && (flags.voice.includes('/') || existsSync(flags.voice));
  return {
    stt: flags.sttModel ?? byName('stt', flags.stt),
    llm: flags.llmModel ?? byName('llm', flags.llm),
    voice: voiceIsDir ? flags.voice : byName('tts', flags.voice),
    vad: flags.vadModel,
    espeakData: flags.espeakData,
  };
}

/** The agent options every command takes from the shared flags: models, prompt, GPU, threads, language. */
export function agentOptionsFromFlags(flags: ModelFlags): Pick<AgentOptions, 'models' | 'systemPrompt' | 'gpu' | 'threads' | 'language'> {
  return {
    models: resolveModelFlags(flags),
    systemPrompt: readSystemPrompt(flags.systemPrompt),
    gpu: flags.gpu,
    threads: flags.threads,
    language: flags.language,
  };
}

export function readSystemPrompt(value: string | undefined): string | undefined {
  if (value === undefined || !value.startsWith('@')) return value;
  const path = value.slice(1);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    throw new EarshotError('BAD_OPTION', `cannot read the system prompt file ${path}; give --system-prompt "text" or @path-to-a-file`);
  }
}
