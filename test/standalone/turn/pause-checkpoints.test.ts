import { describe, expect, it } from 'vitest';
import { Endpointer } from '../../../src/turn/endpointer.js';
import { PauseCheckpoints, type CheckpointEvent } from '../../../src/turn/pause-checkpoints.js';
import { defaultTurnEndOptions } from '../../../src/turn/turn-end-options.js';
import type { TurnEndModel } from '../../../src/turn/turn-end-model.js';

const FRAME = 512; // 32 ms

/** A turn-end model answering from a list, one answer per call (a stand-in for the ONNX model's verdicts). */
function scripted(answers: (number | Error)[]): TurnEndModel & { calls: number } {
  const model = {
    calls: 0,
    predict: () => {
      const a = answers[Math.min(model.calls++, answers.length - 1)];
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    },
    dispose: () => Promise.resolve(),
  };
  return model;
}

/** Feeds `ms` of frames at speech probability `p`; returns what the endpointer and check points said. */
async function feed(e: Endpointer, c: PauseCheckpoints, ms: number, p: number, live = false) {
  const out: { endpoint: string[]; checkpoint: CheckpointEvent['type'][]; atMs: number[] } = { endpoint: [], checkpoint: [], atMs: [] };
  for (let t = 0; t < ms; t += 32) {
    const events = e.push(new Float32Array(FRAME), p);
    for (const cp of await c.afterFrame(e, live)) {
      out.checkpoint.push(cp.type);
      out.atMs.push(e.silentMs);
      if (cp.type === 'complete') events.push(...e.endNow());
    }
    out.endpoint.push(...events.map((ev) => ev.type));
  }
  return out;
}

describe('pause check points', () => {
  it('live, reports a pause once at 200 ms, and "resumed" when speech comes back', async () => {
    const e = new Endpointer();
    const c = new PauseCheckpoints({ pauseAfterMs: 200, turnEnd: { ...defaultTurnEndOptions, mode: 'silence' } }, undefined, () => {});
    expect((await feed(e, c, 640, 0.9, true)).endpoint).toEqual(['speech-start']);
    const pause = await feed(e, c, 320, 0.1, true);
    expect(pause.checkpoint).toEqual(['pause']);
    expect(pause.atMs[0]).toBeGreaterThanOrEqual(200);
    expect(pause.atMs[0]).toBeLessThan(232);
    expect((await feed(e, c, 96, 0.9, true)).checkpoint).toEqual(['resumed']);
    const end = await feed(e, c, 640, 0.1, true);
    expect(end.checkpoint).toEqual(['pause']);
    expect(end.endpoint).toEqual(['speech-end']);
  });

  it('behind real time (a file), reports no pause: the end of the turn is already in the queue', async () => {
    const e = new Endpointer();
    const c = new PauseCheckpoints({ pauseAfterMs: 200, turnEnd: { ...defaultTurnEndOptions, mode: 'silence' } }, undefined, () => {});
    await feed(e, c, 640, 0.9);
    const end = await feed(e, c, 640, 0.1);
    expect(end.checkpoint).toEqual([]);
    expect(end.endpoint).toEqual(['speech-end']);
  });

  it('a "complete" verdict ends the turn at the check point; "incomplete" makes it wait incompleteSilenceMs', async () => {
    const complete = new Endpointer();
    const yes = scripted([0.9]);
    const c1 = new PauseCheckpoints({ pauseAfterMs: undefined, turnEnd: defaultTurnEndOptions }, yes, () => {});
    await feed(complete, c1, 640, 0.9);
    const r1 = await feed(complete, c1, 320, 0.1);
    expect(r1.checkpoint).toEqual(['complete']);
    expect(r1.endpoint).toEqual(['speech-end']);
    expect(yes.calls).toBe(1);

    const incomplete = new Endpointer();
    const no = scripted([0.1]);
    const c2 = new PauseCheckpoints({ pauseAfterMs: undefined, turnEnd: defaultTurnEndOptions }, no, () => {});
    await feed(incomplete, c2, 640, 0.9);
    expect((await feed(incomplete, c2, 1400, 0.1)).endpoint).toEqual([]);
    expect((await feed(incomplete, c2, 200, 0.1)).endpoint).toEqual(['speech-end']);
    expect(no.calls).toBe(1);
  });

  it('live, the ears do not wait for the model: its verdict applies at the first frame after it is known, unless speech came back', async () => {
    let answer!: (p: number) => void;
    const slow: TurnEndModel = { predict: () => new Promise((r) => (answer = r)), dispose: () => Promise.resolve() };
    const e = new Endpointer();
    const c = new PauseCheckpoints({ pauseAfterMs: undefined, turnEnd: defaultTurnEndOptions }, slow, () => {});
    const frame = async (p: number) => {
      const events = e.push(new Float32Array(FRAME), p);
      const cps = await c.afterFrame(e, true);
      if (cps.some((x) => x.type === 'complete')) events.push(...e.endNow());
      return events.map((x) => x.type);
    };
    for (let i = 0; i < 20; i++) await frame(0.9);
    for (let i = 0; i < 7; i++) expect(await frame(0.1)).toEqual([]); // 224 ms: the model is asked, frames go on
    answer(0.9);
    await Promise.resolve();
    expect(await frame(0.1)).toEqual(['speech-end']);

    // A verdict that arrives after the user spoke again is about a pause that no longer exists.
    for (let i = 0; i < 20; i++) await frame(0.9);
    for (let i = 0; i < 7; i++) await frame(0.1);
    await frame(0.9);
    answer(0.95);
    await Promise.resolve();
    expect(await frame(0.1)).toEqual([]);
  });

  it('a model that fails leaves the pause to the silence rule and reports the error', async () => {
    const e = new Endpointer();
    const errors: Error[] = [];
    const c = new PauseCheckpoints({ pauseAfterMs: undefined, turnEnd: defaultTurnEndOptions }, scripted([new Error('boom')]), (err) => errors.push(err));
    await feed(e, c, 640, 0.9);
    const r = await feed(e, c, 600, 0.1);
    expect(r.endpoint).toEqual(['speech-end']);
    expect(errors.map((x) => x.message)).toEqual(['boom']);
  });
});
