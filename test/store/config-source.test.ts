// A store created with a source (DESIGN.md §5.2): read at cold start through the same
// transaction as every reload, again on refresh() and on each change the source
// reports (bursts coalesced), closed with the store. The file source here is built from
// the package's own readConfigFile and watchConfigFile, on a real temp directory.
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArgumentError, ConfigStore, ConfigurationError, ReloadError, readConfigFile, watchConfigFile, type ConfigSource } from '../../src/index.js';
import { rejection } from '../helpers/rejection.js';
import { portSchema } from '../helpers/store-fixtures.js';

/** A source that reads `value()` and counts its reads, watches and closes. */
function memorySource(value: () => unknown): ConfigSource & { reads: number; signals: AbortSignal[]; changed: (() => void) | undefined; stopped: number; closed: number } {
  const source = {
    name: 'memory',
    reads: 0,
    signals: [] as AbortSignal[],
    changed: undefined as (() => void) | undefined,
    stopped: 0,
    closed: 0,
    read: async ({ signal }: { readonly signal: AbortSignal }) => {
      source.reads++;
      source.signals.push(signal);
      await Promise.resolve();
      return { value: value() };
    },
    watch: (onChange: () => void) => {
      source.changed = onChange;
      return () => {
        source.stopped++;
      };
    },
    close: async () => {
      source.closed++;
      await Promise.resolve();
    },
  };
  return source;
}

describe('ConfigStore with a source', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'txconfig-source-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the source at cold start, and refuses there what a reload would refuse, with the same error', async () => {
    let port: unknown = 8080;
    const source = memorySource(() => ({ port }));
    const store = await ConfigStore.create({ schema: portSchema, source });
    expect(store.load().config.port).toBe(8080);
    expect(source.reads).toBe(1);
    port = 'not a port';
    const onReload = await store.refresh();
    expect(onReload.status).toBe('rejected');
    const atStart = await rejection(ConfigStore.create({ schema: portSchema, source: memorySource(() => ({ port })) }));
    expect(atStart).toBeInstanceOf(ReloadError);
    expect((atStart as ReloadError).code).toBe('ERR_VALIDATION');
    expect(onReload.status === 'rejected' && onReload.error.code).toBe('ERR_VALIDATION');
    expect((atStart as ReloadError).failures.map((failure) => (failure.error as { issues?: unknown }).issues)).toEqual(onReload.status === 'rejected' ? onReload.error.failures.map((failure) => (failure.error as { issues?: unknown }).issues) : []);
  });

  it('refreshes: reads again and reloads; unchanged when the source is; ERR_LOAD when it cannot read, the live config kept', async () => {
    let port = 1;
    let fail = false;
    const source = memorySource(() => {
      if (fail) throw new Error('backend down');
      return { port };
    });
    const store = await ConfigStore.create({ schema: portSchema, source });
    port = 2;
    expect((await store.refresh()).status).toBe('applied');
    expect(store.load().config.port).toBe(2);
    expect((await store.refresh()).status).toBe('unchanged');
    fail = true;
    const live = store.load();
    const failed = await store.refresh();
    expect(failed.status).toBe('rejected');
    expect(failed.status === 'rejected' && failed.error.code).toBe('ERR_LOAD');
    expect(failed.status === 'rejected' && (failed.error.failures[0]?.error as Error).message).toBe('backend down');
    expect(store.load()).toBe(live);
    expect(store.status().lastReloadSuccessful).toBe(false);
  });

  it('reloads on each change the source reports, a burst coalesced, and stops watching and closes the source with the store', async () => {
    let port = 1;
    const source = memorySource(() => ({ port }));
    const store = await ConfigStore.create({ schema: portSchema, source });
    expect(source.changed).toBeTypeOf('function');
    port = 2;
    const applied = new Promise((resolve) => store.subscribe(resolve));
    for (let burst = 0; burst < 20; burst++) source.changed?.();
    await applied;
    await store.close();
    // The cold start, then at most one reload running and one more for the rest of the burst.
    expect(source.reads).toBeLessThanOrEqual(3);
    expect(store.load().config.port).toBe(2);
    expect(source.stopped).toBe(1);
    expect(source.closed).toBe(1);
    // Every read was given a signal that the close aborted.
    expect(source.signals.every((signal) => signal.aborted)).toBe(true);
  });

  it('works with a file source built from readConfigFile and watchConfigFile: a file replaced is one reload', async () => {
    const path = join(dir, 'config.json');
    await writeFile(path, JSON.stringify({ port: 1 }));
    const file: ConfigSource = {
      name: `file:${path}`,
      read: async ({ signal }) => ({ value: await readConfigFile(path, { signal }) }),
      watch: (onChange) => {
        const watcher = watchConfigFile(path, onChange, { debounceMs: 20 });
        return () => {
          void watcher.close();
        };
      },
    };
    const store = await ConfigStore.create({ schema: portSchema, source: file });
    const applied = new Promise((resolve) => store.subscribe(resolve));
    await writeFile(join(dir, 'next.json'), JSON.stringify({ port: 2 }));
    await rename(join(dir, 'next.json'), path);
    await applied;
    expect(store.load().config.port).toBe(2);
    expect(store.load().generation).toBe(2);
    await store.close();
  });

  it('gives ERR_LOAD at cold start when the source cannot read, or does not resolve to { value }, and closes the source', async () => {
    const failing = memorySource(() => {
      throw new Error('no such key');
    });
    const error = await rejection(ConfigStore.create({ schema: portSchema, source: failing }));
    expect(error).toBeInstanceOf(ReloadError);
    expect((error as ReloadError).code).toBe('ERR_LOAD');
    expect((error as ReloadError).failures[0]?.phase).toBe('load');
    expect(failing.closed).toBe(1);
    const shapeless: ConfigSource = { name: 'shapeless', read: async () => (await Promise.resolve(42)) as never };
    const wrong = await rejection(ConfigStore.create({ schema: portSchema, source: shapeless }));
    expect((wrong as ReloadError).code).toBe('ERR_LOAD');
    expect((wrong as ReloadError).failures[0]?.error).toBeInstanceOf(TypeError);
  });

  it('closes the source when the cold start fails after reading: refused, or a commit hook failed', async () => {
    const refused = memorySource(() => ({ port: 'x' }));
    expect(((await rejection(ConfigStore.create({ schema: portSchema, source: refused }))) as ReloadError).code).toBe('ERR_VALIDATION');
    expect(refused.closed).toBe(1);
    const committed = memorySource(() => ({ port: 1 }));
    const failingCommit = {
      name: 'failing-commit',
      prepare: () => ({
        derived: null,
        commit: () => {
          throw new Error('could not switch');
        },
      }),
    };
    const error = await rejection(ConfigStore.create({ schema: portSchema, source: committed, participants: [failingCommit] }));
    expect((error as ReloadError).code).toBe('ERR_COMMIT');
    expect(committed.closed).toBe(1);
    expect(committed.changed).toBeUndefined();
  });

  it('gives ERR_ABORTED when the cold start is cancelled while the source reads', async () => {
    const controller = new AbortController();
    const slow: ConfigSource = {
      name: 'slow',
      read: ({ signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => {
            reject(signal.reason as Error);
          });
        }),
    };
    const starting = ConfigStore.create({ schema: portSchema, source: slow, signal: controller.signal });
    controller.abort(new Error('shutting down'));
    const error = await rejection(starting);
    expect((error as ReloadError).code).toBe('ERR_ABORTED');
  });

  it('refuses a store with both initial and source, or neither, a source of the wrong shape, and refresh() without a source', async () => {
    const source = memorySource(() => ({ port: 1 }));
    for (const options of [{ schema: portSchema, initial: {}, source }, { schema: portSchema }, { schema: portSchema, source: { name: '', read: () => undefined } }, { schema: portSchema, source: { name: 'x' } }]) {
      const error = await rejection(ConfigStore.create(options as never));
      expect(error).toBeInstanceOf(ArgumentError);
    }
    expect(source.reads).toBe(0);
    const store = await ConfigStore.create({ schema: portSchema, initial: {} });
    expect(() => store.refresh()).toThrow(ConfigurationError);
    expect(() => store.refresh()).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONFIGURED' }) as Error);
  });

  it('accepts a source without watch or close: refresh() is then the only way to read again', async () => {
    let port = 1;
    const plain: ConfigSource = { name: 'plain', read: async () => ({ value: await Promise.resolve({ port }) }) };
    const store = await ConfigStore.create({ schema: portSchema, source: plain });
    port = 3;
    expect((await store.refresh()).status).toBe('applied');
    expect(store.load().config.port).toBe(3);
    await store.close();
  });
});
