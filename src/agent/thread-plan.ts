/** CPU threads each engine is given. */
export interface ThreadPlan {
  /** whisper.cpp: every core, because nothing else computes while a turn is transcribed. */
  stt: number;
  /**
   * llama.cpp: one core fewer than the machine has. Its worker threads spin-wait on each other after every op,
   * and TTS voices the previous sentence while the LLM writes the next; a thread per core then collapses to a
   * few tokens/s on a small machine.
   */
  llm: number;
  /** ONNX Runtime for the voice: the cores the LLM leaves free, at least one. */
  tts: number;
  /** Silero: one; a 32 ms frame takes well under a millisecond, and a second thread would only steal a core. */
  vad: number;
}

/**
 * Splits `cores` between the engines. `override` (the `threads` option, CLI `--threads`) gives every engine
 * but the VAD that many threads instead.
 */
export function planThreads(cores: number, override?: number): ThreadPlan {
  if (override !== undefined) return { stt: override, llm: override, tts: override, vad: 1 };
  const all = Math.max(1, Math.floor(cores));
  const llm = Math.max(1, all - 1);
  return { stt: all, llm, tts: Math.max(1, all - llm), vad: 1 };
}
