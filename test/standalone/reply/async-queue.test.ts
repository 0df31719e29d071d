import { describe, expect, it } from 'vitest';
import { AsyncQueue } from '../../../src/reply/async-queue.js';

async function drain<T>(queue: AsyncQueue<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of queue) out.push(item);
  return out;
}

describe('AsyncQueue', () => {
  it('yields items in the order they were pushed, those pushed before and after the consumer started', async () => {
    const queue = new AsyncQueue<number>();
    queue.push(1);
    queue.push(2);
    const consumed = drain(queue);
    await Promise.resolve();
    queue.push(3);
    await new Promise((r) => setTimeout(r, 5));
    queue.push(4);
    queue.close();
    expect(await consumed).toEqual([1, 2, 3, 4]);
  });

  it('a waiting consumer gets each item as it is pushed, not at close', async () => {
    const queue = new AsyncQueue<string>();
    const seen: string[] = [];
    const consumer = (async () => {
      for await (const s of queue) seen.push(s);
    })();
    queue.push('a');
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual(['a']);
    queue.push('b');
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual(['a', 'b']);
    queue.close();
    await consumer;
  });

  it('close() lets the consumer take what is queued, then ends its loop', async () => {
    const queue = new AsyncQueue<number>();
    queue.push(1);
    queue.push(2);
    queue.close();
    expect(await drain(queue)).toEqual([1, 2]);
    expect(await drain(queue)).toEqual([]);
  });

  it('close() ends a consumer that is waiting on an empty queue', async () => {
    const queue = new AsyncQueue<number>();
    const consumed = drain(queue);
    await new Promise((r) => setTimeout(r, 0));
    queue.close();
    expect(await consumed).toEqual([]);
  });

  it('ignores pushes after close()', async () => {
    const queue = new AsyncQueue<number>();
    queue.push(1);
    queue.close();
    queue.push(2);
    expect(await drain(queue)).toEqual([1]);
  });

  it('a consumer that breaks out early leaves the rest queued', async () => {
    const queue = new AsyncQueue<number>();
    for (const n of [1, 2, 3]) queue.push(n);
    for await (const n of queue) if (n === 1) break;
    queue.close();
    expect(await drain(queue)).toEqual([2, 3]);
  });
});
