/** Captions of what the user is saying while they say it. Durations are in milliseconds of audio. */
export interface PartialTranscriptOptions {
  /** Transcribe the open utterance while it is being spoken. Default: true. */
  enabled: boolean;
  /**
   * Audio between the starts of two partial transcripts, and before the first; at most one is in flight, so on
   * a slow machine they come less often. Default: 500.
   */
  intervalMs: number;
}

export const defaultPartialTranscriptOptions: Readonly<PartialTranscriptOptions> = Object.freeze({
  enabled: true,
  intervalMs: 500,
});
