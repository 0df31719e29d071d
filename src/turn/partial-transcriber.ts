import { PIPELINE_SAMPLE_RATE } from '../audio/pcm.js';
import { isAbortError } from '../errors.js';
import type { SttEngine } from '../stt/stt-engine.js';
import type { PartialTranscriptOptions } from './partial-transcript-options.js';
import type { OpenUtterance } from './endpointer.js';
import { transcribeUtterance } from './transcribe-utterance.js';
import type { TranscriptFilterOptions } from './transcript-filter.js';

export interface PartialTranscriberHooks {
  /** What the user has said so far in the open utterance (phantoms filtered out, repeats dropped). */
  partial(text: string): void;
  error(error: Error): void;
}

/**
 * Transcribes the utterance still being spoken, about every `intervalMs` of its audio, with whisper's window
 * cut to the audio's length so each pass costs a fraction of a full one. At most one is in flight; the end of
 * the utterance supersedes it: it is aborted (so the final transcription waits as little as possible) and
 * whatever it would have said is dropped.
 */
export class PartialTranscriber {
  private readonly intervalSamples: number;
  private inFlight: AbortController | undefined;
  private nextAtSample = 0;
  private last = '';

  constructor(
    private readonly stt: SttEngine,
    private readonly options: PartialTranscriptOptions,
    private readonly hearing: { language: string; filter: TranscriptFilterOptions },
    private readonly hooks: PartialTranscriberHooks,
  ) {
    this.intervalSamples = Math.round((options.intervalMs / 1000) * PIPELINE_SAMPLE_RATE);
  }

  /** A frame of the open utterance `open` was heard: starts a partial if one is due and none is running. */
  heard(open: OpenUtterance): void {
    if (!this.options.enabled || this.inFlight) return;
    const due = Math.max(this.nextAtSample, open.startSample + this.intervalSamples);
    if (open.endSample < due) return;
    this.nextAtSample = open.endSample + this.intervalSamples;
    const controller = new AbortController();
    this.inFlight = controller;
    transcribeUtterance(this.stt, open.audio(), { ...this.hearing, signal: controller.signal, shortWindow: true })
      .then(({ words }) => {
        if (controller.signal.aborted || words.length === 0 || words === this.last) return;
        this.last = words;
        this.hooks.partial(words);
      })
      .catch((e: unknown) => {
        if (!isAbortError(e)) this.hooks.error(e as Error);
      })
      .finally(() => {
        if (this.inFlight === controller) this.inFlight = undefined;
      });
  }

  /** The utterance ended, or was dropped: the partial in flight is superseded. */
  end(): void {
    this.inFlight?.abort();
    this.inFlight = undefined;
    this.nextAtSample = 0;
    this.last = '';
  }
}
