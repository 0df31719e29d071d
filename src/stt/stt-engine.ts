export interface TranscriptSegment {
  text: string;
  startMs: number;
  endMs: number;
  /** Whisper's probability that the segment holds no speech (0..1), where the engine reports it. */
  noSpeechProb?: number;
}

export interface Transcript {
  /** The whole text, trimmed. Empty when nothing was said. */
  text: string;
  segments: TranscriptSegment[];
  /** Wall time of the transcription, ms. */
  computeMs: number;
}

/** The language spoken when none is named. */
export const DEFAULT_LANGUAGE = 'en';

export interface TranscribeOptions {
  /** Aborting stops decoding at the engine's next check point and rejects with an AbortError. */
  signal?: AbortSignal;
  /** ISO language code, or 'auto'. Default: 'en'. */
  language?: string;
  /**
   * Encode only as much of whisper's 30 s window as the audio fills (whisper.cpp's audio_ctx): on a few seconds
   * of audio several times faster, a little less accurate. Meant for partial transcripts. Default: false.
   */
  shortWindow?: boolean;
}

/** Speech to text. The model is loaded once by the factory and reused for every call. */
export interface SttEngine {
  /** Where it computes, for the startup line: 'cpu', or the GPU backend in use (e.g. 'cuda'). Default: unknown. */
  readonly backend?: string;
  /** `audio` is mono float32 at 16 kHz. */
  transcribe(audio: Float32Array, options?: TranscribeOptions): Promise<Transcript>;
  dispose(): Promise<void>;
}
