import { envNumber } from '../util/env-number.js';

/**
 * The agent's watchdog over its engines. An engine call that runs past its deadline (a transcription, the
 * wait for the LLM's first or next token, a sentence's synthesis) aborts the turn; the agent says `apology`,
 * reloads that engine and carries on. `maxConsecutiveFailures` such failures with no answered turn between
 * them emit 'fatal': the host should exit non-zero so a service manager restarts it (the CLI exits 1).
 *
 * The deadlines are far above what any model earshot lists needs on a slow laptop: they catch a native call
 * that is stuck, not a slow machine. They start when the call is made, so a call queued behind another one
 * (conversations sharing engines in `earshot serve`) counts its wait.
 */
export interface WatchdogOptions {
  /** Watch the engines at all. Default: true. */
  enabled: boolean;
  /** Longest one transcription may take, ms, plus `sttTimeoutMsPerAudioSecond` per second of audio. Default: 60000 (env EARSHOT_STT_TIMEOUT_MS). */
  sttTimeoutMs: number;
  /** See `sttTimeoutMs`. Default: 5000. */
  sttTimeoutMsPerAudioSecond: number;
  /** Longest wait from asking the LLM to its first piece of text (prompt evaluation included), ms. Default: 60000 (env EARSHOT_LLM_FIRST_TOKEN_TIMEOUT_MS). */
  llmFirstTokenTimeoutMs: number;
  /** Longest wait between two pieces of the LLM's text, ms; a tool call running in between does not count. Default: 20000 (env EARSHOT_LLM_TOKEN_TIMEOUT_MS). */
  llmNextTokenTimeoutMs: number;
  /** Longest one sentence's synthesis may take, ms, plus `ttsTimeoutMsPerChar` per character. Default: 30000 (env EARSHOT_TTS_TIMEOUT_MS). */
  ttsTimeoutMs: number;
  /** See `ttsTimeoutMs`. Default: 100. */
  ttsTimeoutMsPerChar: number;
  /** Engine failures in a row (no answered turn between) that end the agent with 'fatal'. Default: 3. */
  maxConsecutiveFailures: number;
  /** What the agent says after a failed turn (it joins the history as the assistant's reply). Default: APOLOGY. */
  apology: string;
}

export const APOLOGY = 'Sorry, I lost my train of thought. Could you say that again?';

/** The defaults, with the deadlines the environment sets (read now: a service sets them in its unit). */
export function defaultWatchdogOptions(): WatchdogOptions {
  return {
    enabled: true,
    sttTimeoutMs: envNumber('EARSHOT_STT_TIMEOUT_MS', 60_000),
    sttTimeoutMsPerAudioSecond: 5_000,
    llmFirstTokenTimeoutMs: envNumber('EARSHOT_LLM_FIRST_TOKEN_TIMEOUT_MS', 60_000),
    llmNextTokenTimeoutMs: envNumber('EARSHOT_LLM_TOKEN_TIMEOUT_MS', 20_000),
    ttsTimeoutMs: envNumber('EARSHOT_TTS_TIMEOUT_MS', 30_000),
    ttsTimeoutMsPerChar: 100,
    maxConsecutiveFailures: 3,
    apology: APOLOGY,
  };
}
