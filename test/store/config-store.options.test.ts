// ConfigStore: what it refuses before anything runs (options, arguments, schemas it must
// handle with care) and what it needs set up (an artifact store).

import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  ConfigStore,
  ConfigurationError,
  MemoryArtifactStore,
  ReloadError,
  TransactionStateError,
  type ArtifactWriter,
  type Participant,
} from '../../src/index.js';
import { rejection } from '../helpers/rejection.js';
import { unhandledRejections } from '../helpers/unhandled-rejections.js';
import { portSchema, recording, serverSchema, sleep, type PortConfig } from '../helpers/store-fixtures.js';

const create = (initial: unknown = {}, participants: ReturnType<typeof recording>[] = []) =>
  ConfigStore.create({ schema: serverSchema, initial, participants });

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

describe('schemas the validator must await or walk with care', () => {
  const asyncSchema = {
    $async: true,
    type: 'object',
    properties: { port: { type: 'integer', minimum: 1, default: 8080 } },
    additionalProperties: false,
  } as const;

  it('validates an $async JSON Schema: a config that fails it is rejected, never applied, with no unhandled rejection', async () => {
    using unhandled = unhandledRejections();
    const store = await ConfigStore.create({ schema: asyncSchema, initial: {} });
    expect(store.load().config).toEqual({ port: 8080 });
    const live = store.load();
    const error = (await rejection(store.reload({ port: 0 }))) as ReloadError;
    expect(error.code).toBe('ERR_VALIDATION');
    expect(error.issues.map((issue) => issue.path)).toEqual(['/port']);
    expect(store.load()).toBe(live);
    expect(await rejection(ConfigStore.create({ schema: asyncSchema, initial: { port: 'x' } }))).toMatchObject({ code: 'ERR_VALIDATION' });
    await sleep(10);
    expect(unhandled.reasons).toEqual([]);
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

describe('bad options to create, and to the other methods of the store', () => {
  it.each<[string, unknown, string]>([
    ['no options at all', undefined, 'options'],
    ['artifacts that are not an artifact store', { schema: serverSchema, initial: {}, artifacts: {} }, 'artifacts'],
    ['a signal that is not an AbortSignal', { schema: serverSchema, initial: {}, signal: 'now' }, 'signal'],
  ])('refuses %s with ERR_ARGUMENT', async (_what, options, argument) => {
    const error = await rejection(ConfigStore.create(options as Parameters<typeof ConfigStore.create>[0]));
    expect(error).toMatchObject({ name: 'ArgumentError', code: 'ERR_ARGUMENT', argument });
  });

  it('refuses a recipe that is not a function when it is staged, not when it runs', async () => {
    const store = await create();
    const txn = await store.begin();
    expect(() => txn.update(5 as never)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT', argument: 'recipe' }) as Error);
    await txn.abort();
  });

  it('refuses collectGarbage({ dryRun }) that is not a boolean', async () => {
    const store = await ConfigStore.create({ schema: serverSchema, initial: {}, artifacts: new MemoryArtifactStore() });
    await expect(store.collectGarbage({ dryRun: 'x' as unknown as boolean })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', argument: 'dryRun' });
  });
});
