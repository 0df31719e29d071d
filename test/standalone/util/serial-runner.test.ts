import { describe, expect, it } from 'vitest';
import { SerialRunner } from '../../../src/util/serial-runner.js';

/** A task that records when it starts and ends, and finishes when told to. */
function gatedTask(log: string[], name: string) {
  let release!: (v: string) => void;
  const done = new Promise<string>((r) => (release = r));
  return {
    task: async () => {
      log.push(`${name}:start`);
      const v = await done;
      log.push(`${name}:end`);
      return v;
    },
    release: () => release(name),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('SerialRunner', () => {
  it('runs tasks one at a time, in order, each with its own result', async () => {
    const log: string[] = [];
    const runner = new SerialRunner();
    const a = gatedTask(log, 'a');
    const b = gatedTask(log, 'b');
    const pa = runner.run(a.task);
    const pb = runner.run(b.task);
    await tick();
    expect(log).toEqual(['a:start']);
    b.release();
    await tick();
    expect(log).toEqual(['a:start']);
    a.release();
    expect(await pa).toBe('a');
    expect(await pb).toBe('b');
    expect(log).toEqual(['a:start', 'a:end', 'b:start', 'b:end']);
  });

  it('a failing task rejects its own promise only; the next one still runs', async () => {
    const runner = new SerialRunner();
    const failed = runner.run(async () => {
      throw new Error('boom');
    });
    const next = runner.run(async () => 7);
    await expect(failed).rejects.toThrow('boom');
    expect(await next).toBe(7);
  });

  it('skips a queued task whose signal aborted before its turn', async () => {
    const log: string[] = [];
    const runner = new SerialRunner();
    const a = gatedTask(log, 'a');
    const pa = runner.run(a.task);
    const ac = new AbortController();
    const pb = runner.run(async () => log.push('b ran'), ac.signal);
    ac.abort();
    await expect(pb).rejects.toMatchObject({ name: 'AbortError' });
    a.release();
    await pa;
    await runner.idle();
    expect(log).toEqual(['a:start', 'a:end']);
  });

  it('settles a running task at once on abort, but starts the next only after it has returned', async () => {
    const log: string[] = [];
    const runner = new SerialRunner();
    const a = gatedTask(log, 'a');
    const ac = new AbortController();
    const pa = runner.run(a.task, ac.signal);
    const pb = runner.run(async () => log.push('b'));
    await tick();
    ac.abort(new Error('stop'));
    await expect(pa).rejects.toThrow('stop');
    await tick();
    expect(log).toEqual(['a:start']);
    a.release();
    await pb;
    expect(log).toEqual(['a:start', 'a:end', 'b']);
  });

  it('rejects at once, running nothing, when the signal is already aborted', async () => {
    const runner = new SerialRunner();
    let ran = false;
    await expect(runner.run(async () => (ran = true), AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
    await runner.idle();
    expect(ran).toBe(false);
  });
});
