// file() and directory() (DESIGN.md §5.2) on real temp directories: every read reads
// the files again, a conf.d merges its files in name order as one consistent set, the
// origins name the file and position, and watching reports each real change once.
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArgumentError, ConfigStore, defaults, directory, file, layered, type ChangeEvent, type ConfigSource } from '../../../src/index.js';
import { rejection } from '../../helpers/rejection.js';
import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.js';

const signal = new AbortController().signal;

/** Counts the calls of a watch, and waits for them. */
function changeCounter(): { onChange: () => void; count: () => number; until: (count: number, timeoutMs?: number) => Promise<void> } {
  let calls = 0;
  const waiters: (() => void)[] = [];
  return {
    onChange: () => {
      calls++;
      for (const wake of waiters.splice(0)) wake();
    },
    count: () => calls,
    until: async (count, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (calls < count) {
        if (Date.now() > deadline) throw new Error(`waited for ${count} change(s), saw ${calls}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

const settle = (ms = 400): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('file()', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('txconfig-file-layer-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('reads the whole file on every read, and locates a value by line and column when asked', async () => {
    const path = join(dir, 'config.json');
    await writeFile(path, '{\n  "server": {\n    "port": 8080\n  }\n}\n');
    const source = file(path);
    const first = await source.read({ signal });
    expect(first.value).toStrictEqual({ server: { port: 8080 } });
    expect(first.origins?.explain('/server/port')).toStrictEqual({ layer: 'file', origin: { file: path, line: 3, column: 13 }, shadowed: [] });
    expect(first.origins?.explain('/server/host')).toBeUndefined();
    await writeFile(path, '{"server":{"port":9090}}');
    expect((await source.read({ signal })).value).toStrictEqual({ server: { port: 9090 } });
  });

  it('an optional file that is missing is an empty layer; a required one is ERR_FILE_NOT_FOUND', async () => {
    expect((await file(join(dir, 'none.json'), { optional: true }).read({ signal })).value).toStrictEqual({});
    await expect(file(join(dir, 'none.json')).read({ signal })).rejects.toMatchObject({ code: 'ERR_FILE_NOT_FOUND' });
  });

  it('takes the format from the extension, or from `format`; an unknown extension without it is refused', async () => {
    const path = join(dir, 'config.conf');
    await writeFile(path, '{"a":1}');
    expect((await file(path, { format: 'json' }).read({ signal })).value).toStrictEqual({ a: 1 });
    expect(() => file(path)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT', argument: 'format' }) as Error);
    expect(() => file(path, { format: 'ini' as 'json' })).toThrow(ArgumentError);
    expect(() => file('')).toThrow(expect.objectContaining({ argument: 'path' }) as Error);
  });

  it('keeps the hostile-input rules of readConfigFile: unsafe keys, size limit', async () => {
    const path = join(dir, 'config.json');
    await writeFile(path, '{"a":{"__proto__":{"polluted":1}}}');
    await expect(file(path).read({ signal })).rejects.toMatchObject({ code: 'ERR_UNSAFE_KEY' });
    await writeFile(path, JSON.stringify({ a: 'x'.repeat(100) }));
    await expect(file(path, { maxBytes: 50 }).read({ signal })).rejects.toMatchObject({ code: 'ERR_FILE_TOO_LARGE' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('watching: an editor save (write and rename) is reported once, the same bytes again not at all', async () => {
    const path = join(dir, 'config.json');
    await writeFile(path, '{"a":1}');
    const source = file(path);
    await source.read({ signal });
    const changes = changeCounter();
    const stop = source.watch?.(changes.onChange);
    try {
      await settle();
      expect(changes.count()).toBe(0);
      await writeFile(join(dir, '.config.json.swp'), '{"a":2}');
      await rename(join(dir, '.config.json.swp'), path);
      await changes.until(1);
      await source.read({ signal });
      await writeFile(path, '{"a":2}');
      await settle();
      expect(changes.count()).toBe(1);
    } finally {
      stop?.();
    }
  });

  it('watching: after a failed read, the bytes of the last good read put back are a change', async () => {
    const path = join(dir, 'config.json');
    await writeFile(path, '{"a":1}');
    const source = file(path);
    await source.read({ signal });
    const changes = changeCounter();
    const stop = source.watch?.(changes.onChange);
    try {
      await settle();
      await writeFile(path, '{"a":');
      await changes.until(1);
      await expect(source.read({ signal })).rejects.toMatchObject({ code: 'ERR_PARSE' });
      await writeFile(path, '{"a":1}');
      await changes.until(2);
    } finally {
      stop?.();
    }
  });
});

describe('directory()', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('txconfig-confd-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('merges its files in name order, a later file overriding an earlier one; dot files, other extensions and sub-directories are not read', async () => {
    await writeFile(join(dir, '20-b.json'), '{"server":{"port":2},"b":true}');
    await writeFile(join(dir, '10-a.json'), '{"server":{"port":1,"host":"a"}}');
    await writeFile(join(dir, '.30-hidden.json'), '{"server":{"port":3}}');
    await writeFile(join(dir, '40-notes.txt'), 'not config');
    await mkdir(join(dir, '50-dir.json'));
    const reading = await directory(dir).read({ signal });
    expect(reading.value).toStrictEqual({ server: { port: 2, host: 'a' }, b: true });
    expect(reading.origins?.explain('/server/port')).toStrictEqual({
      layer: 'directory',
      origin: { file: join(dir, '20-b.json'), line: 1, column: 19 },
      shadowed: [{ layer: 'directory', origin: { file: join(dir, '10-a.json'), line: 1, column: 19 }, value: 1 }],
    });
  });

  it('reads only the names `pattern` matches', async () => {
    await writeFile(join(dir, 'a.json'), '{"a":1}');
    await writeFile(join(dir, 'b.json'), '{"b":1}');
    expect((await directory(dir, { pattern: /^b\./g }).read({ signal })).value).toStrictEqual({ b: 1 });
  });

  it('a missing directory is ERR_FILE_NOT_FOUND, or an empty layer when optional; a bad file fails the read naming it', async () => {
    await expect(directory(join(dir, 'none')).read({ signal })).rejects.toMatchObject({ code: 'ERR_FILE_NOT_FOUND' });
    expect((await directory(join(dir, 'none'), { optional: true }).read({ signal })).value).toStrictEqual({});
    await writeFile(join(dir, 'bad.json'), '{"a":');
    const error = await rejection(directory(dir).read({ signal }));
    expect(error).toMatchObject({ code: 'ERR_PARSE', path: join(dir, 'bad.json') });
    expect(() => directory(dir, { pattern: '*.json' as unknown as RegExp })).toThrow(expect.objectContaining({ argument: 'pattern' }) as Error);
  });

  it('watching: a file added, changed and removed is reported; an event that changed nothing is not', async () => {
    const source = directory(dir);
    await source.read({ signal });
    const changes = changeCounter();
    const stop = source.watch?.(changes.onChange);
    try {
      await writeFile(join(dir, '.swap'), 'x');
      await settle();
      expect(changes.count()).toBe(0);
      await writeFile(join(dir, '10-a.json'), '{"a":1}');
      await changes.until(1);
      await source.read({ signal });
      await writeFile(join(dir, '10-a.json'), '{"a":2}');
      await changes.until(2);
      await source.read({ signal });
      await rm(join(dir, '10-a.json'));
      await changes.until(3);
    } finally {
      stop?.();
    }
  });

  it('watching: a change made between the last read and the start of the watch is reported at once', async () => {
    const source = directory(dir);
    await source.read({ signal });
    await writeFile(join(dir, '10-a.json'), '{"a":1}');
    const changes = changeCounter();
    const stop = source.watch?.(changes.onChange);
    try {
      // Sooner than the 5-second safety poll would notice it.
      await changes.until(1, 4_000);
      expect(changes.count()).toBe(1);
    } finally {
      stop?.();
    }
  });

  it('a Kubernetes ConfigMap swap of several files is read whole: never half of one version and half of the other', async () => {
    // conf.d/a.json -> ..data/a.json, ..data -> ..v1/, swapped to ..v2/ by one rename.
    const write = async (version: number): Promise<void> => {
      const stamp = join(dir, `..v${version}`);
      await mkdir(stamp);
      await writeFile(join(stamp, 'a.json'), JSON.stringify({ a: version }));
      await writeFile(join(stamp, 'b.json'), JSON.stringify({ b: version }));
      await symlink(`..v${version}`, join(dir, '..data_tmp'));
      await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    await write(0);
    await symlink('..data/a.json', join(dir, 'a.json'));
    await symlink('..data/b.json', join(dir, 'b.json'));
    const source = directory(dir);
    const stop = new AbortController();
    const swaps = (async () => {
      for (let version = 1; !stop.signal.aborted && version < 400; version++) {
        await write(version);
        await rm(join(dir, `..v${version - 1}`), { recursive: true });
      }
    })();
    try {
      for (let read = 0; read < 40; read++) {
        let value: Record<string, unknown>;
        try {
          value = (await source.read({ signal })).value as Record<string, unknown>;
        } catch (error) {
          // A read that met the directory changing five times in a row says so; never a mix.
          expect(error).toMatchObject({ code: 'ERR_FILE_ACCESS' });
          continue;
        }
        expect(value.a).toBe(value.b);
      }
    } finally {
      stop.abort();
      await swaps;
    }
  });
});

describe('a store on layered files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('txconfig-layered-store-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  const schema = {
    type: 'object',
    properties: { port: { type: 'integer' }, host: { type: 'string' }, debug: { type: 'boolean' } },
    additionalProperties: false,
  } as const;

  it('applies a conf.d file and the main file changed together as one generation', async () => {
    const main = join(dir, 'daemon.json');
    const confd = join(dir, 'conf.d');
    await mkdir(confd);
    await writeFile(main, '{"port":1}');
    await writeFile(join(confd, '10-host.json'), '{"host":"a"}');
    const source: ConfigSource = layered([defaults({ debug: false }), file(main), directory(confd)], { debounceMs: 100 });
    const store = await ConfigStore.create({ schema, source });
    const events: ChangeEvent[] = [];
    store.subscribe((event) => {
      events.push(event);
    });
    try {
      await settle(300);
      await writeFile(main, '{"port":2}');
      await writeFile(join(confd, '10-host.json'), '{"host":"b"}');
      const deadline = Date.now() + 10_000;
      while (store.load().config.host !== 'b' && Date.now() < deadline) await settle(50);
      await settle();
      expect(store.load().config).toStrictEqual({ debug: false, port: 2, host: 'b' });
      expect(events.map((event) => event.snapshot.generation)).toStrictEqual([2]);
      expect(store.explain('/host')).toMatchObject({ layer: 'directory', origin: { file: join(confd, '10-host.json') } });
    } finally {
      await store.close();
    }
  });

  it('applies a Kubernetes ConfigMap swap of a directory holding several files once, never half', async () => {
    const confd = join(dir, 'conf.d');
    await mkdir(confd);
    const version = async (port: number, host: string): Promise<void> => {
      const stamp = join(confd, `..${port}`);
      await mkdir(stamp);
      await writeFile(join(stamp, '10-port.json'), JSON.stringify({ port }));
      await writeFile(join(stamp, '20-host.json'), JSON.stringify({ host }));
      await symlink(`..${port}`, join(confd, '..data_tmp'));
      await rename(join(confd, '..data_tmp'), join(confd, '..data'));
    };
    await version(1, 'a');
    await symlink('..data/10-port.json', join(confd, '10-port.json'));
    await symlink('..data/20-host.json', join(confd, '20-host.json'));
    const store = await ConfigStore.create({ schema, source: layered([directory(confd)]) });
    const seen: unknown[] = [];
    store.subscribe((event) => {
      seen.push(event.snapshot.config);
    });
    try {
      await settle(300);
      await version(2, 'b');
      const deadline = Date.now() + 10_000;
      while (seen.length === 0 && Date.now() < deadline) await settle(50);
      await settle();
      expect(seen).toStrictEqual([{ port: 2, host: 'b' }]);
    } finally {
      await store.close();
    }
  });

  it('a failed read of any layer is a rejected reload in status(), and the live config stays', async () => {
    const main = join(dir, 'daemon.json');
    await writeFile(main, '{"port":1}');
    const store = await ConfigStore.create({ schema, source: layered([file(main), directory(join(dir, 'conf.d'), { optional: true })]) });
    const live = store.load();
    await writeFile(main, '{"port":');
    const result = await store.refresh();
    expect(result.status).toBe('rejected');
    expect(store.load()).toBe(live);
    expect(store.status().lastError).toMatchObject({ code: 'ERR_LOAD', causeCode: 'ERR_PARSE' });
    await store.close();
  });
});
