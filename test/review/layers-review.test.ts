// Cases a review of the layered sources found (DESIGN.md §5.2, docs/layers.md), each a
// documented behaviour the first version did not hold; all fixed, kept as regressions.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigStore, argv, defaults, directory, env, file, layered } from '../../src/index.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

const signal = new AbortController().signal;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('layers review', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('txconfig-layers-review-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  const portSchema = { type: 'object', properties: { port: { type: 'integer' } } } as const;

  // A watch that cannot start yet (its directory is missing) tries again instead of
  // failing create() after the cold start committed.
  it('create() with an optional file() whose directory does not exist yet starts, with the file as an empty layer', async () => {
    const store = await ConfigStore.create({ schema: portSchema, source: layered([defaults({ port: 1 }), file(join(dir, 'not-yet', 'config.json'), { optional: true })]) });
    try {
      expect(store.load().config).toStrictEqual({ port: 1 });
    } finally {
      await store.close();
    }
  });

  it('create() with an optional directory() whose parent does not exist yet starts, with the directory as an empty layer', async () => {
    const store = await ConfigStore.create({ schema: portSchema, source: layered([defaults({ port: 1 }), directory(join(dir, 'not-yet', 'conf.d'), { optional: true })]) });
    try {
      expect(store.load().config).toStrictEqual({ port: 1 });
    } finally {
      await store.close();
    }
  });

  // The directory's state is the one the last read used, failed or not: the 5-second poll
  // and the check at the start of a watch compare with it.
  it('a conf.d with a broken file is not re-read every 5 seconds while nothing changes', async () => {
    await writeFile(join(dir, '10-a.json'), '{"port":1}');
    const store = await ConfigStore.create({ schema: portSchema, source: layered([directory(dir)]) });
    try {
      await sleep(300);
      await writeFile(join(dir, '10-a.json'), '{"port":');
      const deadline = Date.now() + 5_000;
      while (store.status().counters.rejected === 0 && Date.now() < deadline) await sleep(50);
      expect(store.status().counters.rejected).toBe(1);
      await sleep(11_000);
      // Nothing changed since the failed reload: no further reload.
      expect(store.status().counters.rejected).toBe(1);
    } finally {
      await store.close();
    }
  }, 30_000);

  it('a directory watch started after a failed read reports nothing when nothing changed since that read', async () => {
    await writeFile(join(dir, '10-a.json'), '{"port":1}');
    const source = directory(dir);
    await source.read({ signal });
    await writeFile(join(dir, '10-a.json'), '{"port":');
    await expect(source.read({ signal })).rejects.toMatchObject({ code: 'ERR_PARSE' });
    let calls = 0;
    const stop = source.watch?.(() => {
      calls++;
    });
    try {
      await sleep(400);
      expect(calls).toBe(0);
    } finally {
      stop?.();
    }
  });

  // An event that arrives while a check runs gets a check of its own after it: the running
  // one may have looked at the file before the change.
  it('a directory watch reports a change made while a check of the directory is running, without waiting for the poll', async () => {
    for (let index = 0; index < 2000; index++) await writeFile(join(dir, `${String(index).padStart(4, '0')}.json`), '{}');
    const source = directory(dir);
    await source.read({ signal });
    let calls = 0;
    // The watch starts with a check of the 2000 files (about 100 ms of stat calls).
    const stop = source.watch?.(() => {
      calls++;
    });
    try {
      await sleep(20);
      // The first file in name order, stat'd by that check already.
      await writeFile(join(dir, '0000.json'), '{"changed":true}');
      const deadline = Date.now() + 2_500;
      while (calls === 0 && Date.now() < deadline) await sleep(50);
      expect(calls).toBeGreaterThan(0);
    } finally {
      stop?.();
    }
  }, 30_000);

  // A check in flight when the watch stops reports nothing.
  it('a directory watch never calls onChange after it was stopped', async () => {
    await writeFile(join(dir, '10-a.json'), '{"port":1}');
    let calls = 0;
    const stop = directory(dir).watch?.(() => {
      calls++;
    });
    stop?.();
    await sleep(300);
    expect(calls).toBe(0);
  });

  // A value that came from a defaults() inside a nested layered() is exempt too.
  it("defaults() never conflicts, also inside a nested layered() under conflicts: 'reject'", async () => {
    const source = layered([layered([defaults({ port: 8080 }), env({ prefix: 'APP_', environment: {} })]), argv(['--port=9090'])], { conflicts: 'reject' });
    expect((await source.read({ signal })).value).toStrictEqual({ port: '9090' });
  });

  // A `$ref` to a plain-name fragment ('#port') finds its `$anchor`; a percent-encoded one
  // is decoded.
  it("a variable under a `$ref` to a plain-name fragment ('#port') is converted by the referenced type", async () => {
    const schema = { type: 'object', properties: { port: { $ref: '#port' } }, definitions: { port: { $id: '#port', type: 'integer' } } } as const;
    const store = await ConfigStore.create({ schema, source: layered([env({ prefix: 'APP_', environment: { APP_PORT: '8080' } })]) });
    try {
      expect(store.load().config).toStrictEqual({ port: 8080 });
    } finally {
      await store.close();
    }
  });

  it('a variable under a percent-encoded `$ref` is converted by the referenced type', async () => {
    const schema = { type: 'object', properties: { port: { $ref: '#/$defs/the%20port' } }, $defs: { 'the port': { type: 'integer' } } } as const;
    const store = await ConfigStore.create({ schema, source: layered([env({ prefix: 'APP_', environment: { APP_PORT: '8080' } })]) });
    try {
      expect(store.load().config).toStrictEqual({ port: 8080 });
    } finally {
      await store.close();
    }
  });

  // A winner that is a JSON text above the path still lists what it replaced below it.
  it('explain() of a value set by a JSON text lists, as shadowed, the lower layer that set the same path', async () => {
    const path = join(dir, 'config.json');
    await writeFile(path, '{"server":{"port":1}}');
    const schema = { type: 'object', properties: { server: { type: 'object', properties: { port: { type: 'integer' } } } } } as const;
    const store = await ConfigStore.create({ schema, source: layered([file(path), env({ prefix: 'APP_', environment: { APP_SERVER: '{"port":2}' } })]) });
    try {
      const explained = store.explain('/server/port');
      expect(explained).toMatchObject({ value: 2, layer: 'env', origin: { env: 'APP_SERVER' } });
      expect(explained.shadowed).toMatchObject([{ layer: 'file', origin: { file: path }, value: 1 }]);
    } finally {
      await store.close();
    }
  });

  // The copy refuses the key; the error names defaults(), the input it came from.
  it('defaults() refuses an unsafe key with an UnsafeKeyError whose path names defaults()', () => {
    let thrown: unknown;
    try {
      defaults(JSON.parse('{"a":{"constructor":1}}') as Record<string, unknown>);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'ERR_UNSAFE_KEY', key: 'constructor', pointer: '/a', path: 'defaults()' });
  });

  // Behaviour checked and found right (kept as plain tests).
  it('text conversion never writes into the objects of defaults() or of a reading', async () => {
    const base = defaults({ server: { port: 1, host: 'h' } });
    const store = await ConfigStore.create({
      schema: { type: 'object', properties: { server: { type: 'object', properties: { port: { type: 'integer' }, host: { type: 'string' } } } } },
      source: layered([base, env({ prefix: 'APP_', environment: { APP_SERVER__PORT: '2' } })]),
    });
    try {
      expect(store.load().config).toStrictEqual({ server: { port: 2, host: 'h' } });
      expect((await base.read({ signal })).value).toStrictEqual({ server: { port: 1, host: 'h' } });
      expect(store.explain('/server/port')).toMatchObject({ layer: 'env', shadowed: [{ layer: 'defaults', value: 1 }] });
    } finally {
      await store.close();
    }
  });

  it('an optional directory that appears later (its parent exists) is read by the watch', async () => {
    const confd = join(dir, 'conf.d');
    const store = await ConfigStore.create({ schema: portSchema, source: layered([defaults({ port: 1 }), directory(confd, { optional: true })], { debounceMs: 20 }) });
    try {
      await sleep(200);
      await mkdir(confd);
      await writeFile(join(confd, '10.json'), '{"port":2}');
      const deadline = Date.now() + 8_000;
      while (store.load().config.port !== 2 && Date.now() < deadline) await sleep(50);
      expect(store.load().config).toStrictEqual({ port: 2 });
    } finally {
      await store.close();
    }
  }, 20_000);
});
