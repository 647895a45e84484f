import { describe, expect, it } from 'vitest';
import { RequestCoalescer } from '../../src/transaction/request-coalescer.js';
import { deferred } from '../helpers/store-fixtures.js';

describe('RequestCoalescer', () => {
  it('runs a burst during a run as exactly one more run, with the latest task', async () => {
    const coalescer = new RequestCoalescer<string>();
    const gate = deferred();
    const runs: string[] = [];
    const first = coalescer.run(async () => {
      runs.push('first');
      await gate.promise;
      return 'first';
    });
    const burst = Array.from({ length: 100 }, (_, i) =>
      coalescer.run(() => {
        runs.push(`burst ${i}`);
        return Promise.resolve(`burst ${i}`);
      }),
    );
    gate.resolve();
    expect(await first).toBe('first');
    const results = await Promise.all(burst);
    expect(runs).toEqual(['first', 'burst 99']);
    expect(new Set(results)).toEqual(new Set(['burst 99']));
  });

  it('starts a fresh run once idle', async () => {
    const coalescer = new RequestCoalescer<number>();
    expect(await coalescer.run(() => Promise.resolve(1))).toBe(1);
    expect(await coalescer.run(() => Promise.resolve(2))).toBe(2);
  });
});
