import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runToolCall } from '../../../src/tools/run-tool-call.js';
import type { Tool } from '../../../src/tools/tool.js';
import { ToolRegistry } from '../../../src/tools/tool-registry.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function registry(...tools: Tool[]): ToolRegistry {
  return new ToolRegistry(tools);
}

const run = (r: ToolRegistry, name: string, args: unknown, signal = new AbortController().signal, timeoutMs = 1000) =>
  runToolCall(r, name, args, { signal, timeoutMs });

describe('runToolCall', () => {
  it('runs the handler with checked arguments and hands its result to the model', async () => {
    let seen: unknown;
    const r = registry({
      name: 'hours',
      description: 'Hours.',
      parameters: z.object({ day: z.string().transform((d) => d.toLowerCase()) }),
      handler: (args) => {
        seen = args;
        return { open: '10:00' };
      },
    });
    const out = await run(r, 'hours', { day: 'Sunday' });
    expect(seen).toEqual({ day: 'sunday' });
    expect(out).toMatchObject({ status: 'ok', forModel: { open: '10:00' }, args: { day: 'sunday' } });
    expect(out.say).toBeUndefined();
  });

  it('speaks `say` at once when the handler answers { say, result }, and only then', async () => {
    const r = registry(
      { name: 'a', description: 'A.', handler: () => ({ say: 'Calling someone now.', result: { queued: true } }) },
      { name: 'b', description: 'B.', handler: () => ({ say: 'not speech', other: 1 }) },
    );
    expect(await run(r, 'a', {})).toMatchObject({ status: 'ok', say: 'Calling someone now.', forModel: { queued: true } });
    expect(await run(r, 'b', {})).toMatchObject({ status: 'ok', say: undefined, forModel: { say: 'not speech', other: 1 } });
  });

  it('reports an unknown tool, bad arguments, a throw and a value that is not JSON to the model, never throwing', async () => {
    const r = registry(
      { name: 'hours', description: 'Hours.', parameters: z.object({ day: z.enum(['monday']) }), handler: () => 'ok' },
      { name: 'boom', description: 'Fails.', handler: () => Promise.reject(new Error('database offline\nstack...')) },
      { name: 'sync_boom', description: 'Fails at once.', handler: () => { throw new TypeError('bad'); } },
      { name: 'big', description: 'Not JSON.', handler: () => ({ n: 1n }) },
    );
    const unknown = await run(r, 'nope', {});
    expect(unknown).toMatchObject({ status: 'unknown-tool', error: 'there is no tool named "nope" (the tools are: hours, boom, sync_boom, big)' });
    expect(unknown.forModel).toEqual({ error: expect.stringMatching(/^there is no tool named "nope".*Tell the user briefly/) });
    expect(await run(r, 'hours', { day: 'sunday' })).toMatchObject({ status: 'invalid-arguments', error: expect.stringContaining('the arguments do not fit hours: day:') });
    expect(await run(r, 'boom', {})).toMatchObject({ status: 'failed', error: 'boom failed: database offline' });
    expect(await run(r, 'sync_boom', {})).toMatchObject({ status: 'failed', error: 'sync_boom failed: bad' });
    expect(await run(r, 'big', {})).toMatchObject({ status: 'failed', error: 'big returned a value that cannot be written as JSON' });
  });

  it('aborts a slow handler at its timeout (the tool may set its own) and does not wait for one that ignores its signal', async () => {
    let aborted = false;
    const r = registry(
      {
        name: 'slow',
        description: 'Slow.',
        timeoutMs: 100,
        handler: (_args, { signal }) =>
          new Promise((resolve) => {
            signal.addEventListener('abort', () => {
              aborted = true;
              resolve('late');
            });
          }),
      },
      { name: 'deaf', description: 'Never answers.', handler: () => new Promise(() => {}) },
    );
    const t0 = performance.now();
    expect(await run(r, 'slow', {}, undefined, 5000)).toMatchObject({ status: 'timeout', error: 'slow did not answer within 100 ms' });
    expect(aborted).toBe(true);
    expect(await run(r, 'deaf', {}, undefined, 150)).toMatchObject({ status: 'timeout' });
    expect(performance.now() - t0).toBeLessThan(4000);
  });

  it("passes the turn's signal: aborting the turn aborts the handler and ends the call as cancelled", async () => {
    const turn = new AbortController();
    let handlerSignal: AbortSignal | undefined;
    const r = registry({
      name: 'slow',
      description: 'Slow.',
      handler: async (_args, { signal }) => {
        handlerSignal = signal;
        await sleep(10_000);
      },
    });
    const call = run(r, 'slow', {}, turn.signal, 20_000);
    await sleep(50);
    turn.abort();
    expect(await call).toMatchObject({ status: 'cancelled' });
    expect(handlerSignal!.aborted).toBe(true);
  });
});
