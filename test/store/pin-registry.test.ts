import { describe, expect, it } from 'vitest';
import { ConfigStore, SynchronizeError } from '../../src/index.js';
import { serverSchema, sleep } from '../helpers/store-fixtures.js';

const create = () => ConfigStore.create({ schema: serverSchema, initial: {} });

describe('pins and synchronize', () => {
  it('keeps the pinned snapshot and reports its generation in the status', async () => {
    const store = await create();
    const pin = store.pin();
    await store.reload({ port: 2 });
    expect(pin.snapshot.generation).toBe(1);
    expect(store.status().pinnedGenerations).toEqual([1]);
    pin.release();
    pin.release();
    expect(pin.released).toBe(true);
    expect(store.status().pinnedGenerations).toEqual([]);
  });

  it('releases a pin at the end of a using block', async () => {
    const store = await create();
    {
      using pin = store.pin();
      expect(pin.released).toBe(false);
      expect(store.status().pinnedGenerations).toEqual([1]);
    }
    expect(store.status().pinnedGenerations).toEqual([]);
  });

  it('resolves synchronize once every older pin is released, not before', async () => {
    const store = await create();
    const old = store.pin();
    await store.reload({ port: 2 });
    const current = store.pin();
    let done = false;
    const sync = store.synchronize().then(() => (done = true));
    await sleep(5);
    expect(done).toBe(false);
    old.release();
    await sync;
    expect(done).toBe(true);
    current.release();
  });

  it('resolves at once when nothing older is pinned', async () => {
    const store = await create();
    using pin = store.pin();
    await expect(store.synchronize()).resolves.toBeUndefined();
    expect(pin.snapshot).toBe(store.load());
  });

  it('gives up with ERR_SYNC_TIMEOUT naming the stuck generations', async () => {
    const store = await create();
    const stuck = store.pin();
    await store.reload({ port: 2 });
    const error = await store.synchronize({ timeoutMs: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SynchronizeError);
    expect((error as SynchronizeError).code).toBe('ERR_SYNC_TIMEOUT');
    expect((error as SynchronizeError).pinnedGenerations).toEqual([1]);
    stuck.release();
  });

  it('gives up with ERR_ABORTED when its signal aborts', async () => {
    const store = await create();
    const stuck = store.pin();
    await store.reload({ port: 2 });
    const controller = new AbortController();
    const sync = store.synchronize({ signal: controller.signal, timeoutMs: Infinity });
    controller.abort();
    await expect(sync).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await expect(store.synchronize({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    stuck.release();
  });
});

describe('synchronize arguments', () => {
  it.each([Number.NaN, -1, '5' as unknown as number])('refuses timeoutMs %s with ERR_ARGUMENT instead of waiting for ever', async (timeoutMs) => {
    const store = await create();
    using pin = store.pin();
    await store.reload({ port: 3 });
    await expect(store.synchronize({ timeoutMs })).rejects.toMatchObject({ name: 'ArgumentError', code: 'ERR_ARGUMENT', argument: 'timeoutMs' });
    expect(pin.released).toBe(false);
  });
});
