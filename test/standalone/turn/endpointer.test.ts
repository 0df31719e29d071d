import { describe, expect, it } from 'vitest';
import { Endpointer, type EndpointEvent } from '../../../src/turn/endpointer.js';
import type { EndpointingOptions } from '../../../src/turn/endpointing-options.js';
import { FRAME_MS, FRAME_SAMPLES } from '../../support/fake-engines.js';

const SPEECH = 0.9;
const QUIET = 0.05;

/** Feeds one 32 ms frame per probability; each frame's samples hold its index, so audio can be traced back. */
function feed(options: Partial<EndpointingOptions>, probabilities: readonly number[]) {
  const endpointer = new Endpointer(options);
  const events: (EndpointEvent & { frame: number })[] = [];
  probabilities.forEach((p, frame) => {
    for (const e of endpointer.push(new Float32Array(FRAME_SAMPLES).fill(frame), p)) events.push({ ...e, frame });
  });
  return { endpointer, events, ends: events.filter((e) => e.type === 'speech-end') };
}

const run = (n: number, p: number) => Array<number>(n).fill(p);
/** Frames of audio that make `ms` (ms is a multiple of 32 in these tests). */
const frames = (ms: number) => ms / FRAME_MS;
/** The frame indices an utterance's audio came from. */
const sourceFrames = (audio: Float32Array) => Array.from({ length: audio.length / FRAME_SAMPLES }, (_, i) => audio[i * FRAME_SAMPLES]);

describe('Endpointer', () => {
  it('ends a turn on the first frame whose silence reaches endSilenceMs, and not one frame earlier', () => {
    // 512 ms is exactly 16 frames.
    const options = { endSilenceMs: 512 };
    const short = feed(options, [...run(20, SPEECH), ...run(frames(512) - 1, QUIET), ...run(20, SPEECH), ...run(30, QUIET)]);
    expect(short.ends).toHaveLength(1);
    expect(short.ends[0]).toMatchObject({ startSample: 0, endSample: (20 + 15 + 20) * FRAME_SAMPLES, truncated: false });

    const exact = feed(options, [...run(20, SPEECH), ...run(frames(512), QUIET), ...run(20, SPEECH), ...run(30, QUIET)]);
    expect(exact.ends).toHaveLength(2);
    expect(exact.ends[0]).toMatchObject({ endSample: 20 * FRAME_SAMPLES, frame: 20 + 16 - 1 });
    expect(exact.ends[1].startSample).toBe((20 + 16) * FRAME_SAMPLES);
  });

  it('with the default 500 ms, 15 silent frames (480 ms) keep the turn open and the 16th (512 ms) ends it', () => {
    const held = feed({}, [...run(20, SPEECH), ...run(15, QUIET)]);
    expect(held.ends).toHaveLength(0);
    expect(held.endpointer.inSpeech).toBe(true);
    const ended = feed({}, [...run(20, SPEECH), ...run(16, QUIET)]);
    expect(ended.ends).toHaveLength(1);
    expect(ended.endpointer.inSpeech).toBe(false);
  });

  it('starts a turn only once speech has lasted minSpeechMs; a shorter blip starts nothing', () => {
    // minSpeechMs 256 = 8 frames.
    const blip = feed({ minSpeechMs: 256 }, [...run(5, QUIET), ...run(7, SPEECH), ...run(40, QUIET)]);
    expect(blip.events).toEqual([]);
    expect(blip.endpointer.inSpeech).toBe(false);

    const word = feed({ minSpeechMs: 256 }, [...run(5, QUIET), ...run(8, SPEECH), ...run(40, QUIET)]);
    expect(word.events.map((e) => [e.type, e.frame])).toEqual([
      ['speech-start', 5 + 8 - 1],
      ['speech-end', 5 + 8 + 16 - 1],
    ]);
    expect(word.events[0]).toMatchObject({ startSample: 5 * FRAME_SAMPLES });
  });

  it('uses hysteresis: a soft frame continues speech but does not start it', () => {
    const soft = 0.4;
    const neverStarts = feed({}, [...run(20, soft), ...run(20, QUIET)]);
    expect(neverStarts.events).toEqual([]);

    // 20 soft frames inside speech are not a pause, although 16 quiet ones would be.
    const continued = feed({}, [...run(10, SPEECH), ...run(20, soft), ...run(5, SPEECH), ...run(20, QUIET)]);
    expect(continued.ends).toHaveLength(1);
    expect(continued.ends[0].endSample).toBe(35 * FRAME_SAMPLES);
  });

  it('keeps preRollMs of audio from before the onset, trailing silence up to the decision after it', () => {
    const { ends } = feed({ preRollMs: 300 }, [...run(30, QUIET), ...run(20, SPEECH), ...run(16, QUIET)]);
    expect(ends).toHaveLength(1);
    const [end] = ends;
    expect(end.startSample).toBe(30 * FRAME_SAMPLES);
    const source = sourceFrames(end.audio);
    // At least 300 ms of pre-roll, less than a frame more than that: 10 frames (320 ms) of 32 ms.
    expect(source.slice(0, 10)).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
    expect(source.slice(10)).toEqual(Array.from({ length: 36 }, (_, i) => 30 + i));
  });

  it('gives the audio before the stream began no pre-roll it never heard', () => {
    const { ends } = feed({ preRollMs: 300 }, [...run(2, QUIET), ...run(10, SPEECH), ...run(16, QUIET)]);
    expect(sourceFrames(ends[0].audio)[0]).toBe(0);
    expect(ends[0].audio.length).toBe(28 * FRAME_SAMPLES);
  });

  it('keeps a dropped blip as pre-roll of the speech that follows it', () => {
    // Blip frames 10-12, forgotten once 250 ms (8 frames) of silence follow; speech then starts at frame 22.
    const { ends } = feed({ preRollMs: 300 }, [...run(10, QUIET), ...run(3, SPEECH), ...run(9, QUIET), ...run(20, SPEECH), ...run(16, QUIET)]);
    expect(ends).toHaveLength(1);
    expect(ends[0].startSample).toBe(22 * FRAME_SAMPLES);
    expect(sourceFrames(ends[0].audio).slice(0, 10)).toEqual([12, 13, 14, 15, 16, 17, 18, 19, 20, 21]);
  });

  it('cuts an utterance at maxUtteranceMs, marks it truncated, and the speech going on starts the next one', () => {
    // 1024 ms = 32 frames.
    const { events, ends } = feed({ maxUtteranceMs: 1024, preRollMs: 0 }, [...run(40, SPEECH), ...run(16, QUIET)]);
    expect(ends).toHaveLength(2);
    expect(ends[0]).toMatchObject({ startSample: 0, endSample: 32 * FRAME_SAMPLES, truncated: true, frame: 31 });
    expect(ends[0].audio.length).toBe(32 * FRAME_SAMPLES);
    expect(ends[1]).toMatchObject({ startSample: 32 * FRAME_SAMPLES, endSample: 40 * FRAME_SAMPLES, truncated: false });
    // Nothing of the speech is lost between the two utterances.
    const heard = [...sourceFrames(ends[0].audio), ...sourceFrames(ends[1].audio)];
    expect(heard.slice(0, 40)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(events.filter((e) => e.type === 'speech-start').map((e) => e.startSample)).toEqual([0, 32 * FRAME_SAMPLES]);
  });

  it('speech that stops one frame before maxUtteranceMs ends by silence, not truncated', () => {
    const { ends } = feed({ maxUtteranceMs: 1024, preRollMs: 0 }, [...run(31, SPEECH), ...run(16, QUIET)]);
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ truncated: false, frame: 31 + 16 - 1 });
  });

  it('reports where the open utterance stands', () => {
    const endpointer = new Endpointer();
    const frame = new Float32Array(FRAME_SAMPLES);
    for (let i = 0; i < 10; i++) endpointer.push(frame, SPEECH);
    endpointer.push(frame, QUIET);
    expect(endpointer.inSpeech).toBe(true);
    expect(endpointer.lastSpeechSample).toBe(10 * FRAME_SAMPLES);
    expect(endpointer.samplePosition).toBe(11 * FRAME_SAMPLES);
  });

  it('reset() drops the open turn: silence after it ends nothing', () => {
    const endpointer = new Endpointer();
    const frame = new Float32Array(FRAME_SAMPLES);
    for (let i = 0; i < 10; i++) endpointer.push(frame, SPEECH);
    endpointer.reset();
    expect(endpointer.inSpeech).toBe(false);
    const later = Array.from({ length: 30 }, () => endpointer.push(frame, QUIET)).flat();
    expect(later).toEqual([]);
  });
});
