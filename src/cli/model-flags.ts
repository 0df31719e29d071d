import { existsSync, readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { defaultAgentOptions, type AgentModels, type AgentOptions } from '../agent/agent-options.js';
import { EarshotError, isEarshotError } from '../errors.js';
import { loadManifest } from '../models/manifest.js';
import { missingPresetLine } from '../models/preset-summary.js';
import { resolveModel, type ModelRole } from '../models/resolve.js';
import { withAgentSection, type AgentSection } from './config-sections.js';

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
  turn: 'smart-turn' | 'silence';
  turnModel?: string;
  sttWindow: 'full' | 'fit';
  speculation: boolean;
  /** The config file's `agent` section (--config): what has no flag. */
  agent?: AgentSection;
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
    .addOption(new Option('--gpu <mode>', 'whisper and the LLM on a GPU when one is found, or CPU only').choices(['auto', 'off']).default('auto'))
    .addOption(
      new Option('--turn <mode>', "end of turn: 'smart-turn' (a turn model judges each pause) or 'silence' (500 ms of silence)")
        .choices(['smart-turn', 'silence'])
        .default('smart-turn'),
    )
    .option('--turn-model <file>', 'Smart Turn v3 ONNX file (default: the preset\'s, from models/)')
    .addOption(new Option('--stt-window <mode>', "whisper's encoder window: 'full' 30 s or 'fit' to the utterance").choices(['full', 'fit']).default('full'))
    .option('--no-speculation', 'do not prepare the reply during the pause before the turn ends')
    .option('--threads <n>', 'CPU threads for each of STT, LLM and TTS (default: STT all cores, LLM one fewer, TTS the rest)', parsePositiveInt)
    .option('--language <code>', "speech language (ISO code) or 'auto'", defaultAgentOptions.language);
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new EarshotError('BAD_OPTION', `expected a whole number of 1 or more, got "${value}"`);
  return n;
}

/**
 * Explicit files win; otherwise names (or the preset's defaults) are looked up under models/. A model named on
 * the command line that is missing gets its own fetch command; the preset's models that are missing (a first
 * run) are named together in one line, with their size and the one command that gets them all.
 */
export function resolveModelFlags(flags: ModelFlags): AgentModels {
  const fromPreset: string[] = [];
  const byName = (role: ModelRole, name: string | undefined) => {
    try {
      return resolveModel(role, name, { preset: flags.preset }).path;
    } catch (e) {
      if (name !== undefined || !isEarshotError(e) || e.code !== 'MODEL_MISSING') throw e;
      fromPreset.push(role);
      return undefined;
    }
  };
  const voiceIsDir = flags.voice !== undefined && (flags.voice.includes('/') || existsSync(flags.voice));
  const models: AgentModels = {
    stt: flags.sttModel ?? byName('stt', flags.stt),
    llm: flags.llmModel ?? byName('llm', flags.llm),
    voice: voiceIsDir ? flags.voice : byName('tts', flags.voice),
    vad: flags.vadModel,
    espeakData: flags.espeakData,
  };
  if (fromPreset.length > 0) throw presetMissing(flags, fromPreset);
  return models;
}

function presetMissing(flags: ModelFlags, roles: string[]): EarshotError {
  const manifest = loadManifest();
  const preset = flags.preset ?? manifest.defaultPreset;
  const models = manifest.presets[preset].models;
  // `npm run fetch-models` also gets the turn model; name it too when it is missing, so the size is the download's.
  const turnMissing = flags.turn !== 'silence' && !flags.turnModel && byRoleMissing('turn', preset);
  const ids = [...roles, ...(turnMissing ? ['turn'] : [])].map((role) => models[role as ModelRole]!).filter(Boolean);
  return new EarshotError('MODEL_MISSING', missingPresetLine(manifest, preset, ids));
}

function byRoleMissing(role: ModelRole, preset: string): boolean {
  try {
    resolveModel(role, undefined, { preset });
    return false;
  } catch (e) {
    if (isEarshotError(e) && e.code === 'MODEL_MISSING') return true;
    throw e;
  }
}

/**
 * The turn model the flags ask for. Unlike the other models it is optional: when it is not installed, `notice`
 * gets one line and turns end by silence.
 */
function resolveTurnModel(flags: ModelFlags, notice: (line: string) => void): string | undefined {
  if (flags.turn === 'silence') return undefined;
  if (flags.turnModel) return flags.turnModel;
  try {
    return resolveModel('turn', undefined, { preset: flags.preset }).path;
  } catch (e) {
    if (!isEarshotError(e) || e.code !== 'MODEL_MISSING') throw e;
    notice(`${e.message.replace(/\.$/, '')}; turns end by silence until then`);
    return undefined;
  }
}

type SharedAgentOptions = Pick<
  AgentOptions,
  'models' | 'systemPrompt' | 'gpu' | 'threads' | 'language' | 'turnEnd' | 'sttWindow' | 'speculation' | 'onNotice'
> &
  AgentSection;

/**
 * The agent options every command takes from the shared flags: models, prompt, GPU, threads, language, turn
 * taking, and the config file's `agent` section under them. `notice` receives one-line notices (a turn model that
 * is missing or broken).
 */
export function agentOptionsFromFlags(flags: ModelFlags, notice: (line: string) => void): SharedAgentOptions {
  return withAgentSection<SharedAgentOptions>({
    models: { ...resolveModelFlags(flags), turn: resolveTurnModel(flags, notice) },
    systemPrompt: readSystemPrompt(flags.systemPrompt),
    gpu: flags.gpu,
    threads: flags.threads,
    language: flags.language,
    turnEnd: { mode: flags.turn },
    sttWindow: flags.sttWindow,
    speculation: { enabled: flags.speculation },
    onNotice: notice,
  }, flags.agent);
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
