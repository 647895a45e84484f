import { describe, expect, it } from 'vitest';
import { ConfigStore, ReloadError, TransactionStateError, isTxConfigError } from '../../src/index.js';
import { recording, serverSchema, type Journal } from '../helpers/store-fixtures.js';

const create = (participants: ReturnType<typeof recording>[] = []) => ConfigStore.create({ schema: serverSchema, initial: {}, participants });

describe('Transaction', () => {
  it('applies staged set and update steps in order during prepare', async () => {
    const store = await create();
    const txn = await store.begin();
    txn.set({ port: 10, tags: ['a'] }).update((draft) => {
      draft.port += 1;
      draft.tags.push('b');
    });
    expect(txn.state).toBe('open');
    const prepared = await txn.prepare();
    expect(txn.state).toBe('prepared');
    expect(prepared.snapshot.config).toMatchObject({ port: 11, tags: ['a', 'b'], debug: false });
    expect(prepared.snapshot.generation).toBe(2);
    expect(Object.isFrozen(prepared.snapshot)).toBe(true);
    expect(store.load().generation).toBe(1);
    prepared.commit();
    expect(txn.state).toBe('committed');
    expect(store.load().config.port).toBe(11);
  });

  it('throws ERR_TXN_STATE on misuse: update after prepare, commit twice, prepare twice', async () => {
    const store = await create();
    const txn = await store.begin();
    txn.set({ port: 5 });
    const prepared = await txn.prepare();
    const misuse = [() => txn.update(() => undefined), () => txn.set({})];
    for (const call of misuse) {
      expect(call).toThrow(TransactionStateError);
    }
    await expect(txn.prepare()).rejects.toMatchObject({ code: 'ERR_TXN_STATE' });
    prepared.commit();
    let caught: unknown;
    try {
      prepared.commit();
    } catch (error) {
      caught = error;
    }
    expect(isTxConfigError(caught) && caught.code).toBe('ERR_TXN_STATE');
    await expect(prepared.rollback()).rejects.toBeInstanceOf(TransactionStateError);
  });

  it('rolls back a prepared transaction in reverse order and frees the slot', async () => {
    const journal: Journal = [];
    const store = await create([recording('a', journal), recording('b', journal)]);
    const live = store.load();
    journal.length = 0;
    const txn = await store.begin();
    txn.set({ port: 77 });
    const prepared = await txn.prepare();
    await prepared.rollback();
    expect(journal).toEqual(['a.prepare', 'b.prepare', 'b.rollback', 'a.rollback']);
    expect(store.load()).toBe(live);
    expect(txn.state).toBe('aborted');
    expect(() => prepared.commit()).toThrow(TransactionStateError);
    expect((await store.reload({ port: 78 })).status).toBe('applied');
  });

  it('reports rollback hook failures from an explicit rollback, after running them all', async () => {
    const journal: Journal = [];
    const store = await create([recording('a', journal, { failRollback: true }), recording('b', journal)]);
    journal.length = 0;
    const txn = await store.begin();
    txn.set({ port: 1 });
    const prepared = await txn.prepare();
    const error = (await prepared.rollback().catch((e: unknown) => e)) as ReloadError;
    expect(error).toBeInstanceOf(ReloadError);
    expect(error.code).toBe('ERR_ROLLBACK');
    expect(error.failures).toMatchObject([{ participant: 'a', phase: 'rollback' }]);
    expect(journal).toEqual(['a.prepare', 'b.prepare', 'b.rollback', 'a.rollback']);
  });

  it('shows a failed rollback in the status: a participant may be left half undone', async () => {
    const journal: Journal = [];
    const store = await create([recording('a', journal, { failRollback: true })]);
    const txn = await store.begin();
    txn.set({ port: 1 });
    await (await txn.prepare()).rollback().catch(() => undefined);
    const status = store.status();
    expect(status.lastReloadSuccessful).toBe(false);
    expect(status.lastError?.code).toBe('ERR_ROLLBACK');
    expect(status.counters.aborted).toBe(1);
  });

  it('shows a failed rollback of an abort by signal in the status, with ERR_ROLLBACK', async () => {
    const journal: Journal = [];
    const controller = new AbortController();
    let armed = false;
    const store = await create([recording('a', journal, { failRollback: true, onPrepare: () => {
      if (armed) controller.abort();
    } })]);
    armed = true;
    const txn = await store.begin({ signal: controller.signal });
    txn.set({ port: 1 });
    const error = (await txn.prepare().catch((e: unknown) => e)) as ReloadError;
    expect(error.code).toBe('ERR_ROLLBACK');
    expect(error.failures.map((f) => f.phase)).toEqual(['prepare', 'rollback']);
    expect(store.status()).toMatchObject({ lastReloadSuccessful: false, lastError: { code: 'ERR_ROLLBACK' } });
  });

  it('shows an abort() of a prepared transaction whose rollback throws in the status', async () => {
    const journal: Journal = [];
    const store = await create([recording('a', journal, { failRollback: true })]);
    const txn = await store.begin();
    txn.set({ port: 1 });
    await txn.prepare();
    await expect(txn.abort()).rejects.toMatchObject({ code: 'ERR_ROLLBACK' });
    expect(store.status()).toMatchObject({ lastReloadSuccessful: false, lastError: { code: 'ERR_ROLLBACK' } });
  });

  it('aborts when disposed with await using before it ended', async () => {
    const journal: Journal = [];
    const store = await create([recording('a', journal)]);
    journal.length = 0;
    {
      await using txn = await store.begin();
      txn.set({ port: 2 });
      await txn.prepare();
    }
    expect(journal).toEqual(['a.prepare', 'a.rollback']);
    expect(store.load().generation).toBe(1);
    const next = await store.begin();
    await next.abort();
    await next.abort();
    expect(next.state).toBe('aborted');
  });

  it('grants the slot strictly first come, first served', async () => {
    const store = await create();
    const first = await store.begin();
    const order: string[] = [];
    const second = store.begin().then(async (txn) => {
      order.push('second');
      await txn.abort();
    });
    const third = store.begin().then(async (txn) => {
      order.push('third');
      await txn.abort();
    });
    await first.abort();
    await Promise.all([second, third]);
    expect(order).toEqual(['second', 'third']);
  });

  it('refuses artifact writes with ERR_NOT_CONFIGURED when the store has no artifact store', async () => {
    const error = await ConfigStore.create({
      schema: serverSchema,
      initial: {},
      participants: [{ name: 'w', prepare: async (ctx) => ({ derived: await ctx.artifacts.put('x', 'y') }) }],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReloadError);
    expect((error as ReloadError).code).toBe('ERR_PREPARE');
    expect((error as ReloadError).failures[0]).toMatchObject({ participant: 'w', error: { code: 'ERR_NOT_CONFIGURED' } });
  });

  it('freezes derived state and keys it by participant name', async () => {
    const store = await ConfigStore.create({
      schema: serverSchema,
      initial: { port: 3 },
      participants: [
        { name: 'listen', prepare: (ctx) => ({ derived: { address: `127.0.0.1:${ctx.config.port}`, list: [1] } }) },
        { name: 'none', prepare: () => ({}) },
      ],
    });
    const { derived } = store.load();
    expect(derived).toEqual({ listen: { address: '127.0.0.1:3', list: [1] } });
    expect(Object.isFrozen(derived.listen.list)).toBe(true);
  });
});

describe('Transaction: the event loop during a long prepare', () => {
  /** A store whose one participant records whether a setImmediate queued before the reload has run by the time it prepares. */
  async function watching() {
    const seen: boolean[] = [];
    let turned = false;
    const store = await ConfigStore.create({
      schema: { type: 'object', properties: { routes: { type: 'object', additionalProperties: { type: 'string' } } }, required: ['routes'] },
      initial: { routes: {} },
      participants: [
        {
          name: 'watch',
          prepare: () => {
            seen.push(turned);
            return { derived: null };
          },
        },
      ],
    });
    const arm = (): void => {
      turned = false;
      setImmediate(() => {
        turned = true;
      });
    };
    // The cold start's preparation is not one of the reloads watched.
    return { store, arm, turned: () => seen.slice(1) };
  }

  it('reconciles a whole value (a parsed file) on a later turn, and walks a large one in slices', async () => {
    const { store, arm, turned } = await watching();
    const routes: Record<string, string> = {};
    for (let index = 0; index < 50_000; index++) routes[`/r${index}`] = `u${index}`;
    arm();
    await store.reload({ routes });
    arm();
    await store.reload({ routes: { ...routes, '/r7': 'changed' } });
    expect(turned()).toEqual([true, true]);
  });

  it('stops a long prepare at the next turn it takes once the signal aborted', async () => {
    const { store } = await watching();
    const live = store.load();
    const routes: Record<string, string> = {};
    for (let index = 0; index < 200_000; index++) routes[`/r${index}`] = `u${index}`;
    // The last member tells whether the walk got to the end.
    let reads = 0;
    Object.defineProperty(routes, '/zzz', {
      enumerable: true,
      get: () => {
        reads++;
        return 'last';
      },
    });
    const controller = new AbortController();
    // Runs in the turn after the one the reload takes before it walks the new value: the
    // walk (200k members, tens of ms) has started and paused by then.
    setImmediate(() => {
      setImmediate(() => {
        controller.abort(new Error('stop'));
      });
    });
    const error = await store.reload({ routes }, { signal: controller.signal }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(ReloadError);
    expect((error as ReloadError).code).toBe('ERR_ABORTED');
    expect(store.load()).toBe(live);
    expect(reads).toBe(0);
  });
});
