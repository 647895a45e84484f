import { createHash } from 'node:crypto';
import { applyPatches, produce, setAutoFreeze } from 'immer';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigStore,
  ReloadError,
  ValidationError,
  type Snapshot,
} from '../../src/index.js';

import { deferred, recording, serverSchema, sleep, type Journal, type ServerConfig } from '../helpers/store-fixtures.js';

const create = (initial: unknown = {}, participants: ReturnType<typeof recording>[] = []) =>
  ConfigStore.create({ schema: serverSchema, initial, participants });

function isDeeplyFrozen(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (!Object.isFrozen(value)) return false;
  return Object.values(value).every(isDeeplyFrozen);
}

function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${sortedJson(record[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

describe('guarantee 1: load() is a pointer read', () => {
  it('returns the very same object on every call between commits', async () => {
    const store = await create();
    const first = store.load();
    expect(store.load()).toBe(first);
    expect(store.load()).toBe(first);
    await store.reload((draft) => {
      draft.debug = true;
    });
    const second = store.load();
    expect(second).not.toBe(first);
    expect(store.load()).toBe(second);
  });

  it('returns synchronously, never a promise', async () => {
    const store = await create();
    const snap: unknown = store.load();
    expect(snap).not.toBeInstanceOf(Promise);
    expect((snap as Snapshot).generation).toBe(1);
  });
});

describe('guarantee 2: snapshots never change and share unchanged subtrees', () => {
  it('freezes every nested object and array, the derived state included', async () => {
    const journal: Journal = [];
    const store = await create({ upstreams: { a: { url: 'http://a' } }, tags: ['x'] }, [
      recording('p', journal, { derive: (c) => ({ nested: { tags: [...c.tags] } }) }),
    ]);
    const snap = store.load();
    expect(isDeeplyFrozen(snap)).toBe(true);
    expect(() => {
      (snap.config as { debug: boolean }).debug = true;
    }).toThrow(TypeError);
    expect(() => {
      (snap.config.tags as string[]).push('y');
    }).toThrow(TypeError);
    expect(() => {
      (snap.config.upstreams.a as { url: string }).url = 'evil';
    }).toThrow(TypeError);
  });

  it('shares unchanged subtrees when the reload is a whole new object parsed from text', async () => {
    const store = await create({ upstreams: { a: { url: 'http://a' }, b: { url: 'http://b', weight: 2 } }, tags: ['x', 'y'] });
    const before = store.load();
    const parsed = JSON.parse(JSON.stringify(before.config)) as ServerConfig;
    parsed.upstreams.b!.weight = 3;
    const result = await store.reload(parsed);
    const after = store.load();
    expect(result.status).toBe('applied');
    expect(after.config.tags).toBe(before.config.tags);
    expect(after.config.upstreams.a).toBe(before.config.upstreams.a);
    expect(after.config.upstreams.b).not.toBe(before.config.upstreams.b);
    expect(result.patches).toEqual([{ op: 'replace', path: ['upstreams', 'b', 'weight'], value: 3 }]);
  });

  it('produces patches that turn the previous config into the new one', async () => {
    const store = await create({ upstreams: { a: { url: 'http://a' } }, tags: ['x'] });
    const before = store.load();
    const next = { port: 9000, upstreams: { c: { url: 'http://c' } }, tags: ['x', 'y'] };
    const result = await store.reload(next);
    expect(applyPatches(before.config, result.patches)).toEqual(store.load().config);
  });

  it('never keeps or freezes the object the caller passed in', async () => {
    const store = await create();
    const next = { port: 9000, tags: ['a'] };
    await store.reload(next);
    expect(Object.isFrozen(next)).toBe(false);
    expect(Object.isFrozen(next.tags)).toBe(false);
    next.tags.push('b');
    expect(store.load().config.tags).toEqual(['a']);
  });

  it("never freezes the caller's objects that a recipe is applied to or puts in the config", async () => {
    const store = await create();
    const mine = { port: 9001, tags: ['x'], upstreams: { a: { url: 'http://a' } } };
    const transaction = (await store.begin()).set(mine).update((draft) => {
      draft.port = 9002;
    });
    (await transaction.prepare()).commit();
    const theirs = { b: { url: 'http://b' } };
    await store.reload((draft) => {
      draft.upstreams = theirs;
    });
    for (const object of [mine, mine.tags, mine.upstreams, mine.upstreams.a, theirs, theirs.b]) expect(Object.isFrozen(object)).toBe(false);
    expect(store.load().config).toMatchObject({ port: 9002, tags: ['x'], upstreams: { b: { url: 'http://b' } } });
    expect(isDeeplyFrozen(store.load().config)).toBe(true);
  });

  it('keeps exactly the value it validated: a getter is read once, with or without defaults', async () => {
    const limited = { type: 'object', properties: { port: { type: 'integer', maximum: 1000 } }, additionalProperties: false } as const;
    const standard = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value: unknown) => ({ value }),
      },
    } as const;
    for (const schema of [limited, serverSchema, standard]) {
      const store = await ConfigStore.create({ schema: schema as typeof limited, initial: {} });
      let reads = 0;
      const result = await store.reload({
        get port() {
          reads += 1;
          return reads === 1 ? 80 : 'not a port';
        },
      } as never);
      expect(result.status).toBe('applied');
      expect(store.load().config.port).toBe(80);
      expect(reads).toBe(1);
    }
  });

  it('stays frozen when the host application turns immer auto-freeze off', async () => {
    setAutoFreeze(false);
    try {
      const store = await create();
      await store.reload((draft) => {
        draft.tags.push('a');
      });
      expect(isDeeplyFrozen(store.load().config)).toBe(true);
      // The host's own immer really is unfrozen: the setting took effect there.
      expect(Object.isFrozen(produce({ a: 1 }, (d) => void (d.a = 2)))).toBe(false);
    } finally {
      setAutoFreeze(true);
    }
  });
});

describe('guarantee 3: a captured snapshot is a consistent view across awaits', () => {
  it('keeps every value of the captured generation while reloads commit', async () => {
    const store = await create({ port: 1000, tags: ['a'] });
    const seen: [number, number, string][] = [];
    const reader = (async () => {
      const snap = store.load();
      for (let i = 0; i < 20; i++) {
        seen.push([snap.generation, snap.config.port, snap.config.tags.join()]);
        await sleep(0);
      }
    })();
    for (let i = 1; i <= 10; i++) {
      await store.reload((draft) => {
        draft.port = 1000 + i;
        draft.tags = [`t${i}`];
      });
    }
    await reader;
    expect(store.load().generation).toBe(11);
    expect(new Set(seen.map((row) => row.join('|')))).toEqual(new Set(['1|1000|a']));
  });
});

describe('guarantee 4: transactions run one at a time, in arrival order', () => {
  it('loses no update when many reloads race', async () => {
    const store = await create();
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store
          .reload((draft) => {
            draft.count += 1;
            draft.tags.push(String(i));
          })
          .then((result) => order.push(result.snapshot.generation)),
      ),
    );
    const snap = store.load();
    expect(snap.config.count).toBe(50);
    expect(snap.config.tags).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
    expect(snap.generation).toBe(51);
  });

  it('starts each prepare from the previous commit', async () => {
    const journal: Journal = [];
    const bases: number[] = [];
    const store = await create({}, [recording('p', journal, { onPrepare: (ctx) => void bases.push(ctx.previous?.generation ?? 0) })]);
    await Promise.all([1, 2, 3].map((port) => store.reload({ port })));
    expect(bases).toEqual([0, 1, 2, 3]);
  });

  it('never lets two prepares overlap', async () => {
    let active = 0;
    let maxActive = 0;
    const store = await ConfigStore.create({
      schema: serverSchema,
      initial: {},
      participants: [
        {
          name: 'slow',
          async prepare() {
            active++;
            maxActive = Math.max(maxActive, active);
            await sleep(2);
            active--;
            return {};
          },
        },
      ],
    });
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.reload({ port: 2000 + i })));
    expect(maxActive).toBe(1);
  });
});

describe('guarantee 5: cold start is a reload from nothing', () => {
  it('rejects at start a config a reload would reject, with the same error', async () => {
    const bad = { port: 0, upstreams: { a: {} } };
    const atStart = await create(bad).catch((error: unknown) => error);
    const store = await create();
    const atReload = await store.reload(bad as never).catch((error: unknown) => error);
    expect(atStart).toBeInstanceOf(ReloadError);
    expect(atReload).toBeInstanceOf(ReloadError);
    expect((atStart as ReloadError).code).toBe('ERR_VALIDATION');
    expect((atStart as ReloadError).issues).toEqual((atReload as ReloadError).issues);
  });

  it('runs the participants at cold start with no previous snapshot', async () => {
    const journal: Journal = [];
    let previous: unknown = 'unset';
    const store = await create({}, [recording('p', journal, { onPrepare: (ctx) => void (previous = ctx.previous) })]);
    expect(previous).toBeNull();
    expect(journal).toEqual(['p.prepare', 'p.commit']);
    expect(store.load().generation).toBe(1);
    expect(store.load().derived).toEqual({ p: { port: 8080 } });
  });

  it('rejects the cold start when a commit hook throws', async () => {
    const error = await create({}, [recording('p', [], { failCommit: true })]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReloadError);
    expect((error as ReloadError).code).toBe('ERR_COMMIT');
  });
});

describe('guarantee 6: a failed prepare changes nothing', () => {
  it('rolls back every prepared participant in reverse order and keeps the very same live snapshot', async () => {
    const journal: Journal = [];
    const store = await create({}, [recording('a', journal), recording('b', journal), recording('c', journal, { onPrepare: (ctx) => {
      if (ctx.config.port === 666) throw new Error('c refuses 666');
    } })]);
    const live = store.load();
    journal.length = 0;
    const error = await store.reload({ port: 666 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReloadError);
    expect((error as ReloadError).code).toBe('ERR_PREPARE');
    expect(journal).toEqual(['a.prepare', 'b.prepare', 'c.prepare', 'b.rollback', 'a.rollback']);
    expect(store.load()).toBe(live);
    expect((error as ReloadError).failures).toMatchObject([{ participant: 'c', phase: 'prepare' }]);
  });

  it('names rollback failures too, and still rolls back the others', async () => {
    const journal: Journal = [];
    const store = await create({}, [recording('a', journal, { failRollback: true }), recording('b', journal), recording('c', journal, { onPrepare: (ctx) => {
      if (ctx.config.port === 666) throw new Error('no');
    } })]);
    journal.length = 0;
    const error = (await store.reload({ port: 666 }).catch((e: unknown) => e)) as ReloadError;
    expect(journal).toEqual(['a.prepare', 'b.prepare', 'c.prepare', 'b.rollback', 'a.rollback']);
    expect(error.failures.map((f) => `${f.participant}.${f.phase}`)).toEqual(['c.prepare', 'a.rollback']);
  });

  it('runs no participant when validation fails, and reports every issue with its path', async () => {
    const journal: Journal = [];
    const store = await create({}, [recording('a', journal)]);
    const live = store.load();
    journal.length = 0;
    const error = (await store.reload({ port: 'x', upstreams: { a: { weight: -1 } }, extra: 1 } as never).catch((e: unknown) => e)) as ReloadError;
    expect(error.code).toBe('ERR_VALIDATION');
    expect(error.cause).toBeInstanceOf(ValidationError);
    expect(error.issues.map((i) => i.path).sort()).toEqual(['/extra', '/port', '/upstreams/a/url', '/upstreams/a/weight']);
    expect(journal).toEqual([]);
    expect(store.load()).toBe(live);
  });

  it('rejects with ERR_ABORTED and rolls back when the signal aborts during prepare', async () => {
    const journal: Journal = [];
    const controller = new AbortController();
    const store = await create({}, [
      recording('a', journal),
      recording('b', journal, { onPrepare: (ctx) => {
        if (ctx.previous !== null) controller.abort(new Error('operator cancelled'));
      } }),
      recording('c', journal),
    ]);
    const live = store.load();
    journal.length = 0;
    const error = (await store.reload({ port: 1 }, { signal: controller.signal }).catch((e: unknown) => e)) as ReloadError;
    expect(error).toBeInstanceOf(ReloadError);
    expect(error.code).toBe('ERR_ABORTED');
    expect(journal).toEqual(['a.prepare', 'b.prepare', 'b.rollback', 'a.rollback']);
    expect(store.load()).toBe(live);
    expect(store.status().counters.aborted).toBe(1);
  });

  it('rejects with ERR_ABORTED when the signal aborts while waiting for the slot', async () => {
    const store = await create();
    const holder = await store.begin();
    const controller = new AbortController();
    const waiting = store.reload({ port: 2 }, { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await holder.abort();
    expect((await store.reload({ port: 3 })).snapshot.config.port).toBe(3);
  });

  it('reports a recipe that throws as ERR_PREPARE and keeps the live snapshot', async () => {
    const store = await create();
    const live = store.load();
    const error = (await store
      .reload(() => {
        throw new Error('recipe bug');
      })
      .catch((e: unknown) => e)) as ReloadError;
    expect(error.code).toBe('ERR_PREPARE');
    expect(error.failures[0]).toMatchObject({ participant: null, phase: 'update' });
    expect(store.load()).toBe(live);
  });

  it('refuses values JSON cannot carry, naming the path', async () => {
    const store = await create();
    const error = (await store.reload({ tags: [() => 1] } as never).catch((e: unknown) => e)) as ReloadError;
    expect(error.code).toBe('ERR_VALIDATION');
    const cyclic: Record<string, unknown> = { upstreams: {} };
    (cyclic.upstreams as Record<string, unknown>).self = cyclic;
    const cycle = (await store.reload(cyclic as never).catch((e: unknown) => e)) as ReloadError;
    expect(cycle.code).toBe('ERR_VALIDATION');
  });
});

describe('guarantee 7: commit is synchronous', () => {
  it('swaps and runs every commit hook before any other code runs', async () => {
    const journal: Journal = [];
    const seenByHooks: number[] = [];
    const holder: { store?: Awaited<ReturnType<typeof create>> } = {};
    const onCommit = (): void => {
      if (holder.store === undefined) return;
      seenByHooks.push(holder.store.load().generation);
      queueMicrotask(() => journal.push('microtask'));
    };
    const store = await create({}, [recording('a', journal, { onCommit }), recording('b', journal, { onCommit })]);
    holder.store = store;
    journal.length = 0;
    seenByHooks.length = 0;
    const txn = await store.begin();
    txn.set({ port: 1234 });
    const prepared = await txn.prepare();
    expect(store.load().generation).toBe(1);
    journal.length = 0;
    const result = prepared.commit();
    expect(result).not.toBeInstanceOf(Promise);
    expect(journal).toEqual(['a.commit', 'b.commit']);
    expect(seenByHooks).toEqual([2, 2]);
    await Promise.resolve();
    expect(journal).toEqual(['a.commit', 'b.commit', 'microtask', 'microtask']);
  });

  it('keeps the swap and runs the other hooks when one commit hook throws, and reports it', async () => {
    const journal: Journal = [];
    let failNow = false;
    const flaky = await create({}, [recording('a', journal), recording('b', journal, { onCommit: () => {
      if (failNow) throw new Error('b broke');
    } }), recording('c', journal)]);
    journal.length = 0;
    failNow = true;
    const result = await flaky.reload({ port: 4321 });
    expect(result.status).toBe('applied');
    expect(flaky.load().config.port).toBe(4321);
    expect(journal).toEqual(['a.prepare', 'b.prepare', 'c.prepare', 'a.commit', 'b.commit', 'c.commit']);
    expect(result.commitFailures).toMatchObject([{ participant: 'b', phase: 'commit' }]);
    const status = flaky.status();
    expect(status.lastReloadSuccessful).toBe(false);
    expect(status.counters.failed).toBe(1);
    expect(status.lastError?.code).toBe('ERR_COMMIT');
    failNow = false;
    await flaky.reload({ port: 4322 });
    expect(flaky.status().lastReloadSuccessful).toBe(true);
  });
});

describe('guarantee 8: generations grow, digests identify configs', () => {
  it('computes the digest as SHA-256 of canonical JSON with sorted keys', async () => {
    const store = await create({ upstreams: { z: { url: 'u', weight: 1 }, a: { url: 'v' } }, tags: ['b', 'a'] });
    const config = store.load().config;
    const expected = createHash('sha256').update(sortedJson(config)).digest('hex');
    expect(store.load().digest).toBe(expected);
  });

  it('treats a config equal to the live one as unchanged: no generation, no participant, no subscriber', async () => {
    const journal: Journal = [];
    const store = await create({ port: 10 }, [recording('p', journal)]);
    const live = store.load();
    const events: unknown[] = [];
    store.subscribe((event) => void events.push(event));
    journal.length = 0;
    const result = await store.reload({ tags: [], port: 10, upstreams: {}, debug: false });
    expect(result.status).toBe('unchanged');
    expect(result.snapshot).toBe(live);
    expect(store.load()).toBe(live);
    expect(journal).toEqual([]);
    expect(events).toEqual([]);
    expect(store.status().counters.unchanged).toBe(1);
  });

  it('only ever increases the generation, whatever happens', async () => {
    const store = await create();
    const generations: number[] = [store.load().generation];
    for (const next of [{ port: 1 }, { port: 1 }, { port: -5 }, { port: 2 }]) {
      await store.reload(next).catch(() => undefined);
      generations.push(store.load().generation);
    }
    expect(generations).toEqual([1, 2, 2, 2, 3]);
  });
});

describe('guarantee 9: bursts of requestReload coalesce', () => {
  it('runs at most one more reload for a burst during a running one', async () => {
    const gate = deferred();
    let loads = 0;
    const store = await create();
    const load = async (): Promise<ServerConfig> => {
      loads++;
      if (loads === 1) await gate.promise;
      return { port: 5000 + loads } as ServerConfig;
    };
    const first = store.requestReload(load);
    await sleep(1);
    const burst = Array.from({ length: 1000 }, () => store.requestReload(load));
    gate.resolve();
    const outcomes = await Promise.all([first, ...burst]);
    expect(loads).toBe(2);
    expect(outcomes[0].status).toBe('applied');
    expect(new Set(burst)).toHaveProperty('size', 1);
    expect(store.load().config.port).toBe(5002);
  });

  it('resolves to a rejected outcome, never rejects, and records it in the status', async () => {
    const store = await create();
    const live = store.load();
    const outcome = await store.requestReload(() => {
      throw new Error('file vanished');
    });
    expect(outcome.status).toBe('rejected');
    expect(outcome.error).toBeInstanceOf(ReloadError);
    expect(outcome.error?.code).toBe('ERR_LOAD');
    const invalid = await store.requestReload(() => ({ port: -1 }));
    expect(invalid).toMatchObject({ status: 'rejected', error: { code: 'ERR_VALIDATION' } });
    expect(store.load()).toBe(live);
    const status = store.status();
    expect(status.lastReloadSuccessful).toBe(false);
    expect(status.lastError?.code).toBe('ERR_VALIDATION');
    expect(status.counters.rejected).toBe(2);
  });
});

describe('subscribe', () => {
  it('calls listeners after commit with the patches, and isolates a listener that throws', async () => {
    const store = await create();
    const seen: number[] = [];
    store.subscribe(() => {
      throw new Error('listener bug');
    });
    store.subscribe(() => Promise.reject(new Error('async listener bug')));
    const unsubscribe = store.subscribe((event) => {
      seen.push(event.snapshot.generation);
      expect(event.previous?.generation).toBe(event.snapshot.generation - 1);
      expect(event.patches).toEqual([{ op: 'replace', path: ['port'], value: seen.length + 100 }]);
    });
    await store.reload({ port: 101 });
    await store.reload({ port: 102 });
    unsubscribe();
    await store.reload({ port: 103 });
    await sleep(0);
    expect(seen).toEqual([2, 3]);
    expect(store.status().listenerErrors).toBe(6);
    expect(store.load().config.port).toBe(103);
  });
});

describe('status', () => {
  it('counts every way a reload can end and tells success honestly', async () => {
    const store = await create();
    expect(store.status()).toMatchObject({ generation: 1, lastReloadSuccessful: true, counters: { attempted: 1, applied: 1 } });
    await store.reload({ port: 1 });
    await store.reload({ port: 1 });
    await store.reload({ port: 0 }).catch(() => undefined);
    const txn = await store.begin();
    await txn.abort();
    const status = store.status();
    expect(status.counters).toEqual({ attempted: 5, applied: 2, unchanged: 1, rejected: 1, failed: 0, aborted: 1 });
    expect(status.generation).toBe(2);
    expect(status.digest).toBe(store.load().digest);
    expect(status.lastReloadSuccessful).toBe(false);
    expect(status.lastError).toMatchObject({ code: 'ERR_VALIDATION', causeCode: 'ERR_VALIDATION' });
    expect(status.lastFailureAt).toBeGreaterThanOrEqual(status.lastSuccessAt!);
    expect(Object.isFrozen(status)).toBe(true);
  });
});

afterEach(() => {
  setAutoFreeze(true);
});
