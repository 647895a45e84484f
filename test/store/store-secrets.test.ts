// A store with secrets publishes a keyed digest (DESIGN.md §5.3): equal configs have
// equal digests, a change of a secret alone is still a change, and no one without the
// key can test a guess of a secret against a published digest.
import { createHmac } from 'node:crypto';
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigStore, envSecrets, fileSecrets } from '../../src/index.js';
import { rejection } from '../helpers/rejection.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';
import { digestOf } from '../../src/json/canonical-json.js';
import { withReferences } from '../../src/store/store-secrets.js';

const schema = { type: 'object', properties: { db: { type: 'object', properties: { host: { type: 'string' }, password: { type: 'string' } } } } } as const;
const config = { db: { host: 'db.internal', password: 'correct horse battery staple' } };

describe('the digest of a store with secrets', () => {
  it('is the HMAC-SHA-256 of the tree hash under the digest key, so a guess cannot be tested without the key', async () => {
    const store = await ConfigStore.create({ schema, initial: config, sensitive: ['/db/password'], digestKey: 'fleet key' });
    const plain = digestOf(store.load().config);
    expect(store.load().digest).toBe(createHmac('sha256', 'fleet key').update(plain).digest('hex'));
    expect(store.load().digest).not.toBe(plain);
    expect(store.status().digest).toBe(store.load().digest);
    await store.close();
  });

  it('is equal for equal configs under one key, and differs between stores that drew their own keys', async () => {
    const keyed = await Promise.all([1, 2].map(() => ConfigStore.create({ schema, initial: config, sensitive: ['/db/password'], digestKey: new TextEncoder().encode('k') })));
    expect(keyed[0]?.load().digest).toBe(keyed[1]?.load().digest);
    const drawn = await Promise.all([1, 2].map(() => ConfigStore.create({ schema, initial: config, sensitive: ['/db/password'] })));
    expect(drawn[0]?.load().digest).not.toBe(drawn[1]?.load().digest);
    await Promise.all([...keyed, ...drawn].map((store) => store.close()));
  });

  it('still sees a change of a secret alone as a change, and an equal config as unchanged', async () => {
    const store = await ConfigStore.create({ schema, initial: config, sensitive: ['/db/password'] });
    expect((await store.reload({ db: { ...config.db } })).status).toBe('unchanged');
    expect((await store.reload({ db: { ...config.db, password: 'another' } })).status).toBe('applied');
    await store.close();
  });

  it('is the plain tree hash for a store without secrets', async () => {
    const store = await ConfigStore.create({ schema, initial: config });
    expect(store.load().digest).toBe(digestOf(store.load().config));
    await store.close();
  });

  it('refuses a bad digest key or resolver list', async () => {
    await expect(ConfigStore.create({ schema, initial: config, digestKey: '' })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', argument: 'digestKey' });
    await expect(ConfigStore.create({ schema, initial: config, secrets: [{ scheme: 'File', resolve: () => Promise.resolve('') }] })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', argument: 'secrets[0]' });
    const resolver = { scheme: 'x', resolve: () => Promise.resolve('') };
    await expect(ConfigStore.create({ schema, initial: config, secrets: [resolver, resolver] })).rejects.toMatchObject({ argument: 'secrets[1]' });
    await expect(ConfigStore.create({ schema, initial: config, secrets: 'file' as never })).rejects.toMatchObject({ argument: 'secrets' });
  });
});

describe('withReferences', () => {
  it('puts each reference back where its value is, copying only the nodes on the way', () => {
    const live = Object.freeze({ a: Object.freeze({ s: 'v', t: 1 }), list: Object.freeze([Object.freeze({ k: 'x' })]), other: Object.freeze({ z: 1 }) });
    const out = withReferences(live, [
      { pointer: '/a/s', reference: 'env:S' },
      { pointer: '/list/0/k', reference: 'file:/run/k' },
    ]) as typeof live;
    expect(out).toStrictEqual({ a: { s: { $secret: 'env:S' }, t: 1 }, list: [{ k: { $secret: 'file:/run/k' } }], other: { z: 1 } });
    expect(out.other).toBe(live.other);
    expect(live.a.s).toBe('v');
  });
});

describe('secret references through the store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('txconfig-store-secrets-');
    await mkdir(join(dir, 'secrets'));
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('resolves references inside the transaction, before validation, at cold start and on reload', async () => {
    await writeFile(join(dir, 'secrets', 'db'), 'first\n');
    const store = await ConfigStore.create({
      schema,
      secrets: [fileSecrets({ roots: [join(dir, 'secrets')] }), envSecrets({ environment: { DB_HOST: 'from-env' } })],
      initial: { db: { host: { $secret: 'env:DB_HOST' }, password: { $secret: `file:${join(dir, 'secrets', 'db')}` } } },
    });
    expect(store.load().config).toStrictEqual({ db: { host: 'from-env', password: 'first' } });
    await store.close();
  });

  it('rejects a reload whose reference cannot be resolved with ERR_SECRET, naming the reference, and keeps the live config', async () => {
    const store = await ConfigStore.create({ schema, secrets: [envSecrets({ environment: {} })], initial: config });
    const live = store.load();
    const error = await rejection(store.reload({ db: { host: 'h', password: { $secret: 'env:MISSING' } } } as never));
    expect(error).toMatchObject({ code: 'ERR_SECRET', failures: [expect.objectContaining({ phase: 'resolve' })] });
    expect((error as Error).message).toContain('env:MISSING');
    expect(store.load()).toBe(live);
    expect(store.status().lastError).toMatchObject({ code: 'ERR_SECRET' });
    await store.close();
  });

  it('reloads when a referenced file rotates (a Kubernetes Secret volume swap), once, keeping the other values', async () => {
    const volume = join(dir, 'secrets');
    const version = async (text: string, stamp: string): Promise<void> => {
      await mkdir(join(volume, stamp));
      await writeFile(join(volume, stamp, 'db'), text);
      await symlink(stamp, join(volume, '..data_tmp'));
      await rename(join(volume, '..data_tmp'), join(volume, '..data'));
    };
    await version('first', '..v1');
    await symlink('..data/db', join(volume, 'db'));
    const store = await ConfigStore.create({ schema, secrets: [fileSecrets({ roots: [volume] })], initial: { db: { host: 'h', password: { $secret: `file:${join(volume, 'db')}` } } } });
    await store.reload((draft) => {
      if (draft.db !== undefined) draft.db.host = 'changed by a recipe';
    });
    const seen: unknown[] = [];
    store.subscribe((event) => {
      seen.push(event.snapshot.config);
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await version('second', '..v2');
    const deadline = Date.now() + 10_000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(seen).toStrictEqual([{ db: { host: 'changed by a recipe', password: 'second' } }]);
    await store.close();
  });

  it('forgets a reference whose path a recipe wrote: that value is the recipe’s now', async () => {
    await writeFile(join(dir, 'secrets', 'db'), 'first');
    const store = await ConfigStore.create({ schema, secrets: [fileSecrets({ roots: [join(dir, 'secrets')] })], initial: { db: { host: 'h', password: { $secret: `file:${join(dir, 'secrets', 'db')}` } } } });
    await store.reload((draft) => {
      if (draft.db !== undefined) draft.db.password = 'typed in';
    });
    let applied = 0;
    store.subscribe(() => {
      applied++;
    });
    await writeFile(join(dir, 'secrets', 'db'), 'rotated');
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(applied).toBe(0);
    expect(store.load().config.db?.password).toBe('typed in');
    await store.close();
  });
});
