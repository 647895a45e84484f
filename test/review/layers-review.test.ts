// Review of the layered sources (DESIGN.md §5.2, docs/layers.md): each test states the
// documented behaviour; the ones marked `it.fails` show where the code does not hold it.
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

  // file.ts watch -> watchConfigFile -> new PathWatch(dirname) throws ERR_FILE_NOT_FOUND;
  // layered.watch does not catch it, and the store's #watchSource runs after the commit.
  it.fails('create() with an optional file() whose directory does not exist yet starts, with the file as an empty layer', async () => {
    const store = await ConfigStore.create({ schema: portSchema, source: layered([defaults({ port: 1 }), file(join(dir, 'not-yet', 'config.json'), { optional: true })]) });
    try {
      expect(store.load().config).toStrictEqual({ port: 1 });
    } finally {
      await store.close();
    }
  });

  it.fails('create() with an optional directory() whose parent does not exist yet starts, with the directory as an empty layer', async () => {
    const store = await ConfigStore.create({ schema: portSchema, source: layered([defaults({ port: 1 }), directory(join(dir, 'not-yet', 'conf.d'), { optional: true })]) });
    try {
      expect(store.load().config).toStrictEqual({ port: 1 });
    } finally {
      await store.close();
    }
  });

  // directory.ts keeps lastState at the last *successful* read: after a failed read the
  // 5-second poll (and the check at the start of a watch) reports a change every time.
  it.fails('a conf.d with a broken file is not re-read every 5 seconds while nothing changes', async () => {
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

  it.fails('a directory watch started after a failed read reports nothing when nothing changed since that read', async () => {
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

  // directory.ts check(): `if (checking) return;` drops an event that arrives while a
  // check runs; that check may have stat'd the file before the change, so the change
  // waits for the 5-second poll.
  it.fails('a directory watch reports a change made while a check of the directory is running, without waiting for the poll', async () => {
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

  // directory.ts: the check started by watch() is not cancelled by stop().
  it.fails('a directory watch never calls onChange after it was stopped', async () => {
    await writeFile(join(dir, '10-a.json'), '{"port":1}');
    let calls = 0;
    const stop = directory(dir).watch?.(() => {
      calls++;
    });
    stop?.();
    await sleep(300);
    expect(calls).toBe(0);
  });

  // layered.ts: only a defaults() given directly is exempt; one inside a nested layered() is
  // counted as a setting of the inner layer.
  it.fails("defaults() never conflicts, also inside a nested layered() under conflicts: 'reject'", async () => {
    const source = layered([layered([defaults({ port: 8080 }), env({ prefix: 'APP_', environment: {} })]), argv(['--port=9090'])], { conflicts: 'reject' });
    expect((await source.read({ signal })).value).toStrictEqual({ port: '9090' });
  });

  // text-conversion.ts resolveRef: a `$ref` that is not a JSON Pointer fragment ('#port')
  // resolves to the root schema; a percent-encoded one is not decoded.
  it.fails("a variable under a `$ref` to a plain-name fragment ('#port') is converted by the referenced type", async () => {
    const schema = { type: 'object', properties: { port: { $ref: '#port' } }, definitions: { port: { $id: '#port', type: 'integer' } } } as const;
    const store = await ConfigStore.create({ schema, source: layered([env({ prefix: 'APP_', environment: { APP_PORT: '8080' } })]) });
    try {
      expect(store.load().config).toStrictEqual({ port: 8080 });
    } finally {
      await store.close();
    }
  });

  it.fails('a variable under a percent-encoded `$ref` is converted by the referenced type', async () => {
    const schema = { type: 'object', properties: { port: { $ref: '#/$defs/the%20port' } }, $defs: { 'the port': { type: 'integer' } } } as const;
    const store = await ConfigStore.create({ schema, source: layered([env({ prefix: 'APP_', environment: { APP_PORT: '8080' } })]) });
    try {
      expect(store.load().config).toStrictEqual({ port: 8080 });
    } finally {
      await store.close();
    }
  });

  // layer-stack.ts explainStack: a winner that is a JSON text above the path lists nothing
  // below it, though the file set the same path (and explain('/server') lists it).
  it.fails('explain() of a value set by a JSON text lists, as shadowed, the lower layer that set the same path', async () => {
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

  // defaults.ts: copyJson refuses the key first, naming the input `reload()`; the
  // refuseUnsafeKeys pass that names `defaults()` never runs.
  it.fails('defaults() refuses an unsafe key with an UnsafeKeyError whose path names defaults()', () => {
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
