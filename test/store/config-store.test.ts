import { createHash } from 'node:crypto';
import { applyPatches, produce, setAutoFreeze } from 'immer';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ArgumentError,
  ConfigStore,
  ConfigurationError,
  MemoryArtifactStore,
  ReloadError,
  TransactionStateError,
  ValidationError,
  type ArtifactWriter,
  type Participant,
  type Snapshot,
} from '../../src/index.js';
import { rejection } from '../helpers/rejection.js';
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

const portSchema = {
  type: 'object',
  properties: { port: { type: 'integer', default: 8080 } },
  additionalProperties: false,
} as const;
type PortConfig = { port: number };

describe('ConfigStore.create option checks', () => {
  const prepare = (): { derived: number } => ({ derived: 1 });

  it.each([
    ['an empty name', [{ name: '', prepare }]],
    ['a name that is not a string', [{ name: 7 as unknown as string, prepare }]],
    ['two participants with one name', [{ name: 'a', prepare }, { name: 'a', prepare }]],
    ['a participant without prepare', [{ name: 'a' } as unknown as Participant<PortConfig>]],
  ])('refuses %s with ERR_ARGUMENT before anything runs', async (_what, participants) => {
    const error = await rejection(ConfigStore.create({ schema: portSchema, initial: {}, participants }));
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error).toMatchObject({ code: 'ERR_ARGUMENT' });
  });

  it('rejects the cold start with ERR_ABORTED when the signal is already aborted', async () => {
    const error = await rejection(ConfigStore.create({ schema: portSchema, initial: {}, signal: AbortSignal.abort() }));
    expect(error).toBeInstanceOf(ReloadError);
    expect(error).toMatchObject({ code: 'ERR_ABORTED' });
  });

  it('starts normally with a signal that does not abort', async () => {
    const store = await ConfigStore.create({ schema: portSchema, initial: {}, signal: new AbortController().signal });
    expect(store.load().config.port).toBe(8080);
  });
});

describe('ConfigStore without an artifact store', () => {
  it('refuses collectGarbage with ERR_NOT_CONFIGURED', async () => {
    const store = await ConfigStore.create({ schema: portSchema, initial: {} });
    const error = await rejection(store.collectGarbage({ dryRun: true }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'ERR_NOT_CONFIGURED' });
  });

  it('rejects a reload whose participant writes an artifact, with the ERR_NOT_CONFIGURED cause', async () => {
    const writer: Participant<PortConfig, 'writer'> = {
      name: 'writer',
      prepare: async (ctx) => {
        await ctx.artifacts.put('a', 'x');
        return {};
      },
    };
    const error = await rejection(ConfigStore.create({ schema: portSchema, initial: {}, participants: [writer] }));
    expect(error).toMatchObject({ code: 'ERR_PREPARE' });
    expect((error as ReloadError).cause).toBeInstanceOf(ConfigurationError);
    expect((error as ReloadError).cause).toMatchObject({ code: 'ERR_NOT_CONFIGURED' });
  });
});

describe('artifact writes after prepare', () => {
  it('refuses a write through a writer kept past its prepare with ERR_TXN_STATE', async () => {
    let kept: ArtifactWriter | undefined;
    const keeper: Participant<PortConfig, 'keeper'> = {
      name: 'keeper',
      prepare: (ctx) => {
        kept = ctx.artifacts;
        return {};
      },
    };
    const artifacts = new MemoryArtifactStore();
    await ConfigStore.create({ schema: portSchema, initial: {}, participants: [keeper], artifacts });
    const error = await rejection(kept!.put('late', 'x'));
    expect(error).toBeInstanceOf(TransactionStateError);
    expect(error).toMatchObject({ code: 'ERR_TXN_STATE' });
    expect(await artifacts.list()).toEqual([]);
  });
});

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

describe('schemas the validator must await or walk with care', () => {
  const asyncSchema = {
    $async: true,
    type: 'object',
    properties: { port: { type: 'integer', minimum: 1, default: 8080 } },
    additionalProperties: false,
  } as const;

  it('validates an $async JSON Schema: a config that fails it is rejected, never applied, with no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      const store = await ConfigStore.create({ schema: asyncSchema, initial: {} });
      expect(store.load().config).toEqual({ port: 8080 });
      const live = store.load();
      const error = (await rejection(store.reload({ port: 0 }))) as ReloadError;
      expect(error.code).toBe('ERR_VALIDATION');
      expect(error.issues.map((issue) => issue.path)).toEqual(['/port']);
      expect(store.load()).toBe(live);
      expect((await rejection(ConfigStore.create({ schema: asyncSchema, initial: { port: 'x' } })))).toMatchObject({ code: 'ERR_VALIDATION' });
      await sleep(10);
    } finally {
      process.off('unhandledRejection', listener);
    }
    expect(unhandled).toEqual([]);
  });

  it('refuses an object whose prototype chain has no constructor with ERR_VALIDATION at its path', async () => {
    const store = await create();
    const live = store.load();
    const orphan = Object.create(Object.create(null) as object) as Record<string, unknown>;
    const error = (await rejection(store.reload({ upstreams: { a: orphan } } as never))) as ReloadError;
    expect(error.code).toBe('ERR_VALIDATION');
    expect(error.issues.map((issue) => issue.path)).toEqual(['/upstreams/a']);
    expect(store.load()).toBe(live);
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

describe('bad arguments to the store', () => {
  it.each<[string, (store: Awaited<ReturnType<typeof create>>) => unknown, string]>([
    ['requestReload without a function', (store) => store.requestReload(42 as never), 'load'],
    ['subscribe without a function', (store) => store.subscribe(42 as never), 'listener'],
    ['onClose without a function', (store) => store.onClose(42 as never), 'hook'],
  ])('refuses %s synchronously with ERR_ARGUMENT, changing nothing', async (_what, call, argument) => {
    const store = await create();
    expect(() => call(store)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT', argument }) as Error);
    expect(store.status()).toMatchObject({ lastReloadSuccessful: true, counters: { attempted: 1 } });
    await store.close();
  });

  it.each<[string, Parameters<Awaited<ReturnType<typeof create>>['begin']>[0], string]>([
    ['a signal that is not an AbortSignal', { signal: {} as AbortSignal }, 'signal'],
    ['a force that is not a boolean', { force: 'yes' as unknown as boolean }, 'force'],
  ])('refuses a reload with %s with ERR_ARGUMENT, before it counts as an attempt', async (_what, options, argument) => {
    const store = await create();
    await expect(store.reload({ port: 2 }, options)).rejects.toMatchObject({ code: 'ERR_ARGUMENT', argument });
    expect(store.status()).toMatchObject({ lastReloadSuccessful: true, counters: { attempted: 1 } });
  });

  it('refuses a synchronize timeout past what a Node timer can wait, instead of timing out at once', async () => {
    const store = await create();
    using pin = store.pin();
    await store.reload({ port: 2 });
    await expect(store.synchronize({ timeoutMs: 3e9 })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', argument: 'timeoutMs' });
    await expect(store.synchronize({ signal: {} as AbortSignal })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', argument: 'signal' });
    expect(pin.released).toBe(false);
  });
});

describe('a subscriber that returns a thenable', () => {
  it('counts its rejection as a listener error, with no unhandled rejection, even when it is not a native promise', async () => {
    const store = await create();
    const unhandled: unknown[] = [];
    const listener = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      store.subscribe(() => ({ then: (_resolve: unknown, reject: (error: unknown) => void) => { reject(new Error('late')); } }) as unknown as Promise<void>);
      await store.reload({ port: 2 });
      await sleep(10);
    } finally {
      process.off('unhandledRejection', listener);
    }
    expect(unhandled).toEqual([]);
    expect(store.status().listenerErrors).toBe(1);
  });
});

afterEach(() => {
  setAutoFreeze(true);
});
