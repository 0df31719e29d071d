import type { Transcript } from '../stt/stt-engine.js';
import { withDefaults } from '../util/with-defaults.js';

/** Which transcripts count as nothing said. Whisper invents words for noise and near-silence. */
export interface TranscriptFilterOptions {
  /** Segments whose no-speech probability is at or above this are dropped. Default: 0.6. */
  maxNoSpeechProb: number;
  /**
   * Whole transcripts (compared without case and punctuation) that whisper is known to hallucinate. They are
   * dropped only when the audio is doubtful (see the two options below), so a user can still say "thank you".
   */
  phantoms: readonly string[];
  /** A phantom is dropped when any segment's no-speech probability reaches this. Default: 0.2. */
  phantomNoSpeechProb: number;
  /** ...or when the utterance's RMS level is below this (0..1). Default: 0.01 (about -40 dBFS). */
  phantomMaxRms: number;
}

export const defaultTranscriptFilterOptions: Readonly<TranscriptFilterOptions> = Object.freeze({
  maxNoSpeechProb: 0.6,
  phantoms: Object.freeze([
    'you',
    'thank you',
    'thanks for watching',
    'thank you for watching',
    'bye',
    'blank audio',
    'silence',
    'music',
    'inaudible',
  ]),
  phantomNoSpeechProb: 0.2,
  phantomMaxRms: 0.01,
});

const normalize = (s: string) =>
  s
    .toLowerCase()
    .replace(/[\[\]()*_♪.,!?'"-]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/** The words a user said, or '' when the transcript is empty, a bracketed non-speech tag, or a known phantom. */
export function meaningfulText(t: Transcript, audioRms: number, options: Partial<TranscriptFilterOptions> = {}): string {
  const o = withDefaults(defaultTranscriptFilterOptions, options);
  const kept = t.segments.length > 0 ? t.segments.filter((s) => (s.noSpeechProb ?? 0) < o.maxNoSpeechProb) : [];
  const text = (t.segments.length > 0 ? kept.map((s) => s.text).join(' ') : t.text)
    .replace(/\[[^\]]*\]|\([^)]*\)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const bare = normalize(text);
  if (bare.length === 0) return '';
  const doubtful =
    audioRms < o.phantomMaxRms || t.segments.some((s) => (s.noSpeechProb ?? 0) >= o.phantomNoSpeechProb);
  if (doubtful && o.phantoms.includes(bare)) return '';
  return text;
}
