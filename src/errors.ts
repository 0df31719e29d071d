/**
 * Errors a user can cause (missing model, bad WAV, no device, bad flag). Each carries a one-line message
 * that already says how to fix it; the CLI prints `message` alone and exits non-zero, the library throws it.
 */
export type EarshotErrorCode =
  | 'MODEL_MISSING'
  | 'MODEL_CORRUPT'
  | 'BAD_AUDIO'
  | 'BAD_OPTION'
  | 'NO_DEVICE'
  /** A native addon that is built at install time is missing or does not load (fix: npm run build:native). */
  | 'NATIVE_MISSING'
  | 'DOWNLOAD_FAILED'
  /** A write ran out of room (no space left, a quota). */
  | 'DISK_FULL'
  | 'VERIFY_FAILED'
  | 'ABORTED'
  /** An engine call ran past its deadline (see EngineHangError). */
  | 'ENGINE_HUNG';

export class EarshotError extends Error {
  readonly code: EarshotErrorCode;
  constructor(code: EarshotErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EarshotError';
    this.code = code;
  }
}

/** The engines the watchdog keeps an eye on: speech to text, the chat model, the voice. */
export type WatchedEngine = 'stt' | 'llm' | 'tts';

/**
 * An engine call that ran past its deadline: a transcription, the wait for the LLM's first or next token, or a
 * sentence's synthesis. The native call may still be running (or never return); the caller has given up on it.
 */
export class EngineHangError extends EarshotError {
  constructor(
    readonly engine: WatchedEngine,
    /** The deadline that passed, ms. */
    readonly deadlineMs: number,
    message: string,
  ) {
    super('ENGINE_HUNG', message);
    this.name = 'EngineHangError';
  }
}

export function isEngineHang(e: unknown): e is EngineHangError {
  return e instanceof EngineHangError;
}

export function isEarshotError(e: unknown): e is EarshotError {
  return e instanceof EarshotError;
}

/** The `npm run fetch-models` line that installs a model of the given role, for "missing model" messages. */
export function fetchHint(role: string, name?: string): string {
  return name ? `npm run fetch-models -- --${role} ${name}` : 'npm run fetch-models';
}

/** The first line of an error's message (native libraries and tools write whole reports), for a one-line error. */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  return new DOMException('The operation was aborted', 'AbortError');
}

export function isAbortError(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AbortError' || (e as { code?: string }).code === 'ABORT_ERR');
}
