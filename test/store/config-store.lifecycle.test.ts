// ConfigStore over its life: rollbacks and pins across generations, the failed state
// after a commit hook failed, derived state, close() and the races around it.

import { describe, expect, it } from 'vitest';
import {
  ConfigStore,
  ReloadError,
  TransactionStateError,
  type Participant,
} from '../../src/index.js';
import { rejection } from '../helpers/rejection.js';
import { unhandledRejections } from '../helpers/unhandled-rejections.js';
import { deferred, portSchema, recording, serverSchema, sleep, type Journal, type ServerConfig } from '../helpers/store-fixtures.js';

const create = (initial: unknown = {}, participants: ReturnType<typeof recording>[] = []) =>
  ConfigStore.create({ schema: serverSchema, initial, participants });

describe('rolling back an unchanged candidate', () => {
  it('ends the transaction, keeps the live snapshot and counts an abort', async () => {
    const store = await ConfigStore.create({ schema: portSchema, initial: { port: 1 } });
    const live = store.load();
    const txn = await store.begin();
    txn.set({ port: 1 });
    const prepared = await txn.prepare();
    expect(prepared.isUnchanged).toBe(true);
    await prepared.rollback();
    expect(txn.state).toBe('aborted');
    expect(store.load()).toBe(live);
    expect(store.status().counters.aborted).toBe(1);
    await expect(prepared.rollback()).rejects.toBeInstanceOf(TransactionStateError);
    // The slot is free again.
    await store.reload({ port: 2 });
    expect(store.load().generation).toBe(2);
  });
});

describe('several pinned generations', () => {
  it('reports them in order and waits in synchronize until the last old one is released', async () => {
    const store = await ConfigStore.create({ schema: portSchema, initial: { port: 1 } });
    const second = await (async () => {
      const first = store.pin();
      await store.reload({ port: 2 });
      return { first, second: store.pin() };
    })();
    // Pin generation 2 a second time: a generation is reported once.
    const again = store.pin();
    await store.reload({ port: 3 });
    expect(store.status().pinnedGenerations).toEqual([1, 2]);

    let synchronized = false;
    const waiting = store.synchronize({ timeoutMs: 5_000 }).then(() => {
      synchronized = true;
    });
    second.first.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(synchronized).toBe(false);
    expect(store.status().pinnedGenerations).toEqual([2]);
    second.second.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(synchronized).toBe(false);
    again.release();
    await waiting;
    expect(synchronized).toBe(true);
    expect(store.status().pinnedGenerations).toEqual([]);
  });
});

describe('after a commit hook failed', () => {
  async function failingOnce() {
    const journal: Journal = [];
    let failNow = false;
    const store = await create({}, [
      recording('a', journal),
      recording('b', journal, {
        onCommit: () => {
          if (failNow) throw new Error('b broke');
        },
      }),
    ]);
    failNow = true;
    await store.reload({ port: 4321 });
    failNow = false;
    journal.length = 0;
    return { store, journal };
  }

  it('stays failed when the same config is reloaded: unchanged runs no hook and proves nothing', async () => {
    const { store, journal } = await failingOnce();
    const live = store.load();
    const result = await store.reload({ port: 4321 });
    expect(result.status).toBe('unchanged');
    expect(journal).toEqual([]);
    expect(store.load()).toBe(live);
    expect(store.status()).toMatchObject({ lastReloadSuccessful: false, lastError: { code: 'ERR_COMMIT' } });
  });

  it('retries with force: the participants prepare and commit again, a new generation, and the status is healthy', async () => {
    const { store, journal } = await failingOnce();
    const before = store.load();
    const result = await store.reload({ port: 4321 }, { force: true });
    expect(result.status).toBe('applied');
    expect(journal).toEqual(['a.prepare', 'b.prepare', 'a.commit', 'b.commit']);
    expect(store.load().generation).toBe(before.generation + 1);
    expect(store.load().digest).toBe(before.digest);
    expect(store.load().config).toBe(before.config);
    expect(result.patches).toEqual([]);
    expect(store.status().lastReloadSuccessful).toBe(true);
  });

  it('becomes healthy again after any reload whose hooks all succeed', async () => {
    const { store } = await failingOnce();
    await store.reload({ port: 4322 });
    expect(store.status().lastReloadSuccessful).toBe(true);
  });
});

describe('derived state', () => {
  it('stores a participant named __proto__ as an own member: no name can become the prototype of snapshot.derived', async () => {
    const proto: Participant<ServerConfig, '__proto__', { polluted: boolean }> = {
      name: '__proto__',
      prepare: () => ({ derived: { polluted: true } }),
    };
    const store = await ConfigStore.create({ schema: serverSchema, initial: {}, participants: [proto] });
    const derived = store.load().derived as Record<string, unknown>;
    expect(Object.getPrototypeOf(derived)).toBe(Object.prototype);
    expect(Object.hasOwn(derived, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(derived, '__proto__')?.value).toEqual({ polluted: true });
    expect(derived.polluted).toBeUndefined();
    expect(Object.isFrozen(derived)).toBe(true);
  });

  it("gives each participant its own previous derived state, and undefined at cold start", async () => {
    const seen: unknown[] = [];
    const counter: Participant<ServerConfig, 'counter', { reloads: number }> = {
      name: 'counter',
      prepare: ({ previousDerived }) => {
        seen.push(previousDerived);
        return { derived: { reloads: (previousDerived?.reloads ?? 0) + 1 } };
      },
    };
    const store = await ConfigStore.create({ schema: serverSchema, initial: {}, participants: [counter] });
    await store.reload({ port: 2 });
    await store.reload({ port: 3 });
    expect(seen).toEqual([undefined, { reloads: 1 }, { reloads: 2 }]);
    expect(store.load().derived.counter.reloads).toBe(3);
  });
});

describe('close', () => {
  it('stops the registered triggers in reverse order, waits for the running reload, then closes participants in reverse order', async () => {
    const journal: string[] = [];
    const hold = deferred();
    const closing = (name: string): Participant<ServerConfig> => ({
      name,
      prepare: async ({ config }) => {
        if (config.port === 2) await hold.promise;
        return { commit: () => void journal.push(`${name}.commit ${config.port}`) };
      },
      close: () => void journal.push(`${name}.close`),
    });
    const store = await ConfigStore.create({ schema: serverSchema, initial: {}, participants: [closing('a'), closing('b')] });
    store.onClose(() => void journal.push('trigger 1 stopped'));
    const unregister = store.onClose(() => void journal.push('never'));
    store.onClose(async () => {
      await sleep(1);
      journal.push('trigger 2 stopped');
    });
    unregister();
    journal.length = 0;
    const running = store.reload({ port: 2 });
    await sleep(5);
    const waiting = store.reload({ port: 3 }).catch((error: unknown) => {
      journal.push(`waiting ${(error as ReloadError).code}`);
    });
    const closed = store.close();
    expect(store.close()).toBe(closed);
    await sleep(5);
    // The waiting reload is refused first, in the turn close() was called.
    expect(journal).toEqual(['waiting ERR_CLOSED', 'trigger 2 stopped', 'trigger 1 stopped']);
    hold.resolve();
    await closed;
    await Promise.all([running, waiting]);
    expect(journal).toEqual(['waiting ERR_CLOSED', 'trigger 2 stopped', 'trigger 1 stopped', 'a.commit 2', 'b.commit 2', 'b.close', 'a.close']);
    expect((await running).status).toBe('applied');
    expect(store.load().config.port).toBe(2);
  });

  it('refuses every later reload with ERR_CLOSED; requestReload resolves aborted; reads keep working', async () => {
    const store = await create({ port: 5 });
    await store.close();
    const error = await rejection(store.reload({ port: 6 }));
    expect(error).toBeInstanceOf(ReloadError);
    expect(error).toMatchObject({ code: 'ERR_CLOSED' });
    await expect(store.begin()).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    const result = await store.requestReload(() => ({ port: 6 }));
    expect(result).toMatchObject({ status: 'aborted', error: { code: 'ERR_CLOSED' } });
    expect(result.snapshot).toBe(store.load());
    expect(store.load().config.port).toBe(5);
    using pin = store.pin();
    expect(pin.snapshot.generation).toBe(1);
    let ran = false;
    store.onClose(() => {
      ran = true;
    });
    await sleep(1);
    expect(ran).toBe(true);
  });

  it('runs every clean-up even when some fail, and reports them all with ERR_CLOSED', async () => {
    const broken: Participant<ServerConfig> = {
      name: 'broken',
      prepare: () => ({}),
      close: () => {
        throw new Error('cannot close');
      },
    };
    const fine: string[] = [];
    const store = await ConfigStore.create({ schema: serverSchema, initial: {}, participants: [broken, { name: 'fine', prepare: () => ({}), close: () => void fine.push('closed') }] });
    store.onClose(() => {
      throw new Error('trigger stuck');
    });
    const error = (await rejection(store.close())) as ReloadError;
    expect(error.code).toBe('ERR_CLOSED');
    expect(error.failures.map((f) => `${f.participant ?? 'store'}.${f.phase}`)).toEqual(['store.close', 'broken.close']);
    expect(fine).toEqual(['closed']);
  });
});

describe('close, in the race with a reload that ends while clean-ups run', () => {
  it('never lets a reload that was waiting commit, even when the running one ends during an async clean-up', async () => {
    const hold = deferred();
    const gated: Participant<ServerConfig> = {
      name: 'gated',
      prepare: async ({ config }) => {
        if (config.port === 2) await hold.promise;
        return {};
      },
    };
    const store = await ConfigStore.create({ schema: serverSchema, initial: {}, participants: [gated] });
    store.onClose(async () => {
      hold.resolve();
      await sleep(30);
    });
    const running = store.reload({ port: 2 });
    await sleep(5);
    const waiting = rejection(store.reload({ port: 3 }));
    await store.close();
    expect((await running).status).toBe('applied');
    expect(await waiting).toMatchObject({ code: 'ERR_CLOSED' });
    expect(store.load().config.port).toBe(2);
  });
});

describe('the cold start', () => {
  it('closes the store it does not return when a commit hook failed, so participants release what they hold', async () => {
    const closed: string[] = [];
    const holder: Participant<ServerConfig> = { name: 'holder', prepare: () => ({}), close: () => void closed.push('holder') };
    const broken: Participant<ServerConfig> = {
      name: 'broken',
      prepare: () => ({
        commit: () => {
          throw new Error('cannot switch');
        },
      }),
    };
    const error = await rejection(ConfigStore.create({ schema: serverSchema, initial: {}, participants: [holder, broken] }));
    expect(error).toMatchObject({ code: 'ERR_COMMIT' });
    expect(closed).toEqual(['holder']);
  });
});

describe('a signal that fires while a real failure rolls back', () => {
  it('keeps the failure a rejection: ERR_PREPARE in the error and the status, not a clean abort', async () => {
    let armed = false;
    const slowRollback: Participant<ServerConfig> = { name: 'slow', prepare: () => ({ rollback: () => sleep(50) }) };
    const failing: Participant<ServerConfig> = {
      name: 'failing',
      prepare: () => {
        if (armed) throw new Error('refused');
        return {};
      },
    };
    const store = await ConfigStore.create({ schema: serverSchema, initial: {}, participants: [slowRollback, failing] });
    armed = true;
    const error = (await rejection(store.reload({ port: 2 }, { signal: AbortSignal.timeout(20) }))) as ReloadError;
    expect(error.code).toBe('ERR_PREPARE');
    expect(store.status()).toMatchObject({ lastReloadSuccessful: false, lastError: { code: 'ERR_PREPARE' }, counters: { rejected: 1, aborted: 0 } });
  });
});

describe('a subscriber that returns a thenable', () => {
  it('counts its rejection as a listener error, with no unhandled rejection, even when it is not a native promise', async () => {
    const store = await create();
    using unhandled = unhandledRejections();
    store.subscribe(() => ({ then: (_resolve: unknown, reject: (error: unknown) => void) => { reject(new Error('late')); } }) as unknown as Promise<void>);
    await store.reload({ port: 2 });
    await sleep(10);
    expect(unhandled.reasons).toEqual([]);
    expect(store.status().listenerErrors).toBe(1);
  });
});
