import { describe, expect, it } from 'vitest';
import { ReloadError } from '../../src/index.js';
import { ReloadQueue } from '../../src/transaction/reload-queue.js';

describe('ReloadQueue', () => {
  it('hands the slot to waiters in arrival order, never to a newcomer first', async () => {
    const queue = new ReloadQueue();
    const release = await queue.acquire();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) =>
      queue.acquire().then((next) => {
        order.push(n);
        next();
      }),
    );
    expect(queue.waiting).toBe(3);
    release();
    release();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    const again = await queue.acquire();
    again();
  });

  it('removes an aborted waiter from the line with ERR_ABORTED', async () => {
    const queue = new ReloadQueue();
    const release = await queue.acquire();
    const controller = new AbortController();
    const aborted = queue.acquire(controller.signal);
    const next = queue.acquire();
    controller.abort();
    const error = await aborted.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReloadError);
    expect((error as ReloadError).code).toBe('ERR_ABORTED');
    expect(queue.waiting).toBe(1);
    release();
    (await next)();
    await expect(queue.acquire(AbortSignal.abort())).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });
});
