import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TurnClock } from '../../../src/agent/turn-metrics.js';

describe('TurnClock', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('measures every stage from the end of speech: the endpoint wait plus the time since the decision', () => {
    const clock = new TurnClock(512, performance.now());
    vi.advanceTimersByTime(100);
    clock.mark('transcript');
    vi.advanceTimersByTime(50);
    clock.mark('firstToken');
    vi.advanceTimersByTime(25);
    expect(clock.now()).toBe(687);
    const { ms } = clock.finish();
    expect(ms).toEqual({ endpoint: 512, transcript: 612, firstToken: 662, firstSentence: undefined, firstAudio: undefined, total: 687 });
  });

  it('keeps only the first mark of each stage', () => {
    const clock = new TurnClock(0, performance.now());
    vi.advanceTimersByTime(10);
    clock.mark('firstAudio');
    vi.advanceTimersByTime(500);
    clock.mark('firstAudio');
    clock.mark('firstAudio', performance.now() + 1000);
    expect(clock.has('firstAudio')).toBe(true);
    expect(clock.has('firstToken')).toBe(false);
    expect(clock.finish().ms.firstAudio).toBe(10);
  });

  it('marks a stage at a given performance.now() time, relative to the decision', () => {
    const declaredAt = performance.now();
    const clock = new TurnClock(500, declaredAt);
    vi.advanceTimersByTime(300);
    clock.mark('transcript', declaredAt + 120);
    expect(clock.finish().ms.transcript).toBe(620);
  });

  it('a decision made before the clock was built counts from the decision, not from the clock', () => {
    const declaredAt = performance.now();
    vi.advanceTimersByTime(40);
    const clock = new TurnClock(500, declaredAt);
    clock.mark('transcript');
    expect(clock.finish().ms.transcript).toBe(540);
  });

  it('an unmarked transcript stage is the endpoint itself', () => {
    const clock = new TurnClock(480, performance.now());
    expect(clock.finish().ms.transcript).toBe(480);
  });

  it('rounds to a tenth of a millisecond', () => {
    const clock = new TurnClock(512.3456, performance.now());
    expect(clock.finish().ms.endpoint).toBe(512.3);
  });

  it('reports compute and the overhead left once every stage of the first audio is accounted for', () => {
    const clock = new TurnClock(500, performance.now());
    clock.compute.stt = 200;
    vi.advanceTimersByTime(200);
    clock.mark('transcript');
    clock.compute.llmToFirstSentence = 300;
    clock.compute.ttsFirstSentence = 100;
    vi.advanceTimersByTime(430);
    clock.mark('firstAudio');
    const { compute, ms } = clock.finish();
    expect(ms.firstAudio).toBe(1130);
    expect(compute).toEqual({ stt: 200, llmToFirstSentence: 300, ttsFirstSentence: 100, overhead: 30 });
  });

  it('reports no overhead for a turn without audio', () => {
    const clock = new TurnClock(500, performance.now());
    clock.compute.llmToFirstSentence = 300;
    clock.compute.ttsFirstSentence = 100;
    expect(clock.finish().compute.overhead).toBeUndefined();
  });
});
