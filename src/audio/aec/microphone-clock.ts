import { slotAt } from './reference-timeline.js';

/** Arrival times late by more than this for LATE_FOR_MS mean samples were lost: the clock is set again. */
const LATE_SLOTS = slotAt(50);
const LATE_FOR_MS = 1000;

/**
 * Places microphone samples on the performance.now() clock at 16 kHz, where the played reference lies. The
 * microphone's own sample count is the truth; arrival times only anchor it. Arrival jitter only ever makes a
 * frame late, so the earliest arrival shows where the samples really are.
 */
export class MicrophoneClock {
  /** Clock slot of sample 0. */
  private offset: number | undefined;
  private count = 0;
  private lateSince: number | undefined;

  /** Samples placed so far. */
  get samples(): number {
    return this.count;
  }

  /**
   * Slot of the first sample of the next `length` samples, whose last arrived at `endAt`. While `settling`,
   * an earlier arrival moves the anchor; once a filter has learnt the echo on this clock, small moves would
   * only misalign it (what is left of the clock's error is part of the delay it models). Arrivals late by
   * more than 50 ms for a second mean samples were lost, and the clock is set again.
   */
  place(endAt: number, length: number, settling: boolean): number {
    const measured = slotAt(endAt) - length;
    this.offset ??= measured - this.count;
    const late = measured - (this.offset + this.count);
    if (late < 0 && settling) this.offset += late;
    if (late > LATE_SLOTS) {
      this.lateSince ??= endAt;
      if (endAt - this.lateSince > LATE_FOR_MS) {
        this.offset += late;
        this.lateSince = undefined;
      }
    } else {
      this.lateSince = undefined;
    }
    const start = this.offset + this.count;
    this.count += length;
    return start;
  }

  /** Where the next frame would start, without placing it. */
  peek(endAt: number, length: number): number {
    return this.offset === undefined ? slotAt(endAt) - length : this.offset + this.count;
  }
}
