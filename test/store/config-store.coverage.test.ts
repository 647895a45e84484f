// Edges of ConfigStore the main suite does not reach: option checks, a store without
// artifacts, cold-start cancellation, late artifact writes, rolling back an unchanged
// candidate, and several pinned generations.
import { describe, expect, it } from 'vitest';
import {
  ConfigStore,
  ArgumentError,
  ConfigurationError,
  MemoryArtifactStore,
  ReloadError,
  TransactionStateError,
  type ArtifactWriter,
  type Participant,
} from '../../src/index.js';
import { rejection } from '../helpers/rejection.js';

const schema = {
  type: 'object',
  properties: { port: { type: 'integer', default: 8080 } },
  additionalProperties: false,
} as const;
type Config = { port: number };

describe('ConfigStore.create option checks', () => {
  const prepare = (): { derived: number } => ({ derived: 1 });

  it.each([
    ['an empty name', [{ name: '', prepare }]],
    ['a name that is not a string', [{ name: 7 as unknown as string, prepare }]],
    ['two participants with one name', [{ name: 'a', prepare }, { name: 'a', prepare }]],
    ['a participant without prepare', [{ name: 'a' } as unknown as Participant<Config>]],
  ])('refuses %s with ERR_ARGUMENT before anything runs', async (_what, participants) => {
    const error = await rejection(ConfigStore.create({ schema, initial: {}, participants }));
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error).toMatchObject({ code: 'ERR_ARGUMENT' });
  });

  it('rejects the cold start with ERR_ABORTED when the signal is already aborted', async () => {
    const error = await rejection(ConfigStore.create({ schema, initial: {}, signal: AbortSignal.abort() }));
    expect(error).toBeInstanceOf(ReloadError);
    expect(error).toMatchObject({ code: 'ERR_ABORTED' });
  });

  it('starts normally with a signal that does not abort', async () => {
    const store = await ConfigStore.create({ schema, initial: {}, signal: new AbortController().signal });
    expect(store.load().config.port).toBe(8080);
  });
});

describe('ConfigStore without an artifact store', () => {
  it('refuses collectGarbage with ERR_NOT_CONFIGURED', async () => {
    const store = await ConfigStore.create({ schema, initial: {} });
    const error = await rejection(store.collectGarbage({ dryRun: true }));
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error).toMatchObject({ code: 'ERR_NOT_CONFIGURED' });
  });

  it('rejects a reload whose participant writes an artifact, with the ERR_NOT_CONFIGURED cause', async () => {
    const writer: Participant<Config, 'writer'> = {
      name: 'writer',
      prepare: async (ctx) => {
        await ctx.artifacts.put('a', 'x');
        return {};
      },
    };
    const error = await rejection(ConfigStore.create({ schema, initial: {}, participants: [writer] }));
    expect(error).toMatchObject({ code: 'ERR_PREPARE' });
    expect((error as ReloadError).cause).toBeInstanceOf(ConfigurationError);
    expect((error as ReloadError).cause).toMatchObject({ code: 'ERR_NOT_CONFIGURED' });
  });
});

describe('artifact writes after prepare', () => {
  it('refuses a write through a writer kept past its prepare with ERR_TXN_STATE', async () => {
    let kept: ArtifactWriter | undefined;
    const keeper: Participant<Config, 'keeper'> = {
      name: 'keeper',
      prepare: (ctx) => {
        kept = ctx.artifacts;
        return {};
      },
    };
    const artifacts = new MemoryArtifactStore();
    await ConfigStore.create({ schema, initial: {}, participants: [keeper], artifacts });
    const error = await rejection(kept!.put('late', 'x'));
    expect(error).toBeInstanceOf(TransactionStateError);
    expect(error).toMatchObject({ code: 'ERR_TXN_STATE' });
    expect(await artifacts.list()).toEqual([]);
  });
});

describe('rolling back an unchanged candidate', () => {
  it('ends the transaction, keeps the live snapshot and counts an abort', async () => {
    const store = await ConfigStore.create({ schema, initial: { port: 1 } });
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
    const store = await ConfigStore.create({ schema, initial: { port: 1 } });
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
