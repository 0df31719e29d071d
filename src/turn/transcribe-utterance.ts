import { rms } from '../audio/pcm.js';
import type { SttEngine, Transcript } from '../stt/stt-engine.js';
import { meaningfulText, type TranscriptFilterOptions } from './transcript-filter.js';

export interface HeardUtterance {
  /** The words the user said; '' when whisper heard nothing or only a phantom. */
  words: string;
  /** Whisper's own transcript, before the phantom filter. */
  transcript: Transcript;
}

/**
 * What a user utterance said: whisper's transcript with its phantoms (non-speech tags, stock phrases from
 * quiet audio) removed. Aborting `signal` stops the transcription.
 */
export async function transcribeUtterance(
  stt: SttEngine,
  audio: Float32Array,
  options: { signal?: AbortSignal; language: string; filter: TranscriptFilterOptions; shortWindow?: boolean },
): Promise<HeardUtterance> {
  const transcript = await stt.transcribe(audio, { signal: options.signal, language: options.language, shortWindow: options.shortWindow });
  return { words: meaningfulText(transcript, rms(audio), options.filter), transcript };
}
