import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BargeIn, type BargeInEvent } from '../../../src/turn/barge-in.js';
import { defaultInterruptionOptions, type InterruptionOptions } from '../../../src/turn/interruption-options.js';

const options: InterruptionOptions = { ...defaultInterruptionOptions, confirmSpeechMs: 700, falseInterruptionTimeoutMs: 1500 };

/** A BargeIn whose actions are recorded in order; `speaking` is what userSpeaking() answers. */
function setup() {
  const calls: string[] = [];
  const reports: BargeInEvent[] = [];
  const user = { speaking: false };
  const bargeIn = new BargeIn(
    options,
    {
      pause: () => calls.push('pause'),
      resume: () => calls.push('resume'),
      cut: () => calls.push('cut'),
      userSpeaking: () => user.speaking,
    },
    (e) => reports.push(e),
  );
  /** The actions taken so far, once the fake clock has run `ms` further. */
  const after = (ms: number) => {
    vi.advanceTimersByTime(ms);
    return [...calls];
  };
  return { bargeIn, calls, reports, user, after };
}

describe('BargeIn', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('pauses at the onset and cuts once the speech has lasted confirmSpeechMs, not a millisecond before', () => {
    const { bargeIn, calls, reports } = setup();
    bargeIn.onSpeechStart(10_000);
    expect(calls).toEqual(['pause']);
    expect(bargeIn.pending).toBe(true);
    bargeIn.onSpeech(10_000 + 699);
    expect(calls).toEqual(['pause']);
    expect(bargeIn.wasCut).toBe(false);
    bargeIn.onSpeech(10_000 + 700);
    expect(calls).toEqual(['pause', 'cut']);
    expect(bargeIn.wasCut).toBe(true);
    expect(reports.map((r) => r.action)).toEqual(['pause', 'cut']);
  });

  it('reports each action at the moment it was taken', () => {
    const { bargeIn, reports } = setup();
    const t0 = performance.now();
    bargeIn.onSpeechStart(0);
    vi.advanceTimersByTime(300);
    bargeIn.onTranscript(true);
    expect(reports.map((r) => Math.round(r.at - t0))).toEqual([0, 300]);
  });

  it('resumes when the transcript of the sound holds no words', () => {
    const { bargeIn, calls, after } = setup();
    bargeIn.onSpeechStart(0);
    expect(bargeIn.onTranscript(false)).toBe(false);
    expect(calls).toEqual(['pause', 'resume']);
    expect(bargeIn.pending).toBe(false);
    // The timer was cleared with the decision: nothing more happens later.
    expect(after(10_000)).toEqual(['pause', 'resume']);
  });

  it('cuts when the transcript holds words, however short the speech', () => {
    const { bargeIn, calls, after } = setup();
    bargeIn.onSpeechStart(0);
    bargeIn.onSpeech(200);
    expect(bargeIn.onTranscript(true)).toBe(true);
    expect(calls).toEqual(['pause', 'cut']);
    expect(after(10_000)).toEqual(['pause', 'cut']);
  });

  it('resumes by itself falseInterruptionTimeoutMs after the pause when nothing decided it', () => {
    const { bargeIn, after } = setup();
    bargeIn.onSpeechStart(0);
    expect(after(1499)).toEqual(['pause']);
    expect(after(1)).toEqual(['pause', 'resume']);
    expect(bargeIn.pending).toBe(false);
  });

  it('re-arms the timer while the user is still speaking, and resumes one period after they stop', () => {
    const { bargeIn, user, after } = setup();
    user.speaking = true;
    bargeIn.onSpeechStart(0);
    expect(after(1500)).toEqual(['pause']);
    expect(after(1500)).toEqual(['pause']);
    user.speaking = false;
    expect(after(1499)).toEqual(['pause']);
    expect(after(1)).toEqual(['pause', 'resume']);
  });

  it('a second onset while held neither pauses again nor restarts the confirm window', () => {
    const { bargeIn, calls } = setup();
    bargeIn.onSpeechStart(0);
    bargeIn.onSpeechStart(500);
    expect(calls).toEqual(['pause']);
    bargeIn.onSpeech(700);
    expect(calls).toEqual(['pause', 'cut']);
  });

  it('after a cut, neither the timer nor a late transcript undo it', () => {
    const { bargeIn, calls } = setup();
    bargeIn.onSpeechStart(0);
    bargeIn.onSpeech(800);
    vi.advanceTimersByTime(5000);
    bargeIn.onTranscript(false);
    bargeIn.onSpeech(2000);
    expect(calls).toEqual(['pause', 'cut']);
    expect(bargeIn.wasCut).toBe(true);
  });

  it('reset() forgets a hold: its timer never fires and the next onset pauses again', () => {
    const { bargeIn, calls, after } = setup();
    bargeIn.onSpeechStart(0);
    bargeIn.reset();
    expect(bargeIn.pending).toBe(false);
    expect(after(5000)).toEqual(['pause']);
    bargeIn.onSpeechStart(6000);
    expect(calls).toEqual(['pause', 'pause']);
  });

  it('speech without an onset over a reply does nothing', () => {
    const { bargeIn, after } = setup();
    bargeIn.onSpeech(5000);
    expect(after(5000)).toEqual([]);
  });
});
