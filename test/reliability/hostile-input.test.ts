// Issue 7, part 4: a hostile input corpus (test/fixtures/hostile/, listed in its README),
// each item fed to a running store the way a daemon would feed it. Every one ends as a
// typed error or as inert data; the live config stays the very same object; nothing
// reaches Object.prototype; nothing is written outside the artifact directory.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, symlink, truncate, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { applyPatches, type Patch } from 'immer';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { RuntimeConfigError, runtimeConfigSchema, runtimeWrappers } from '../../examples/runtime-wrapper/plugin.js';
import {
  ArtifactError,
  ConfigStore,
  FsArtifactStore,
  parseConfigText,
  readConfigFile,
  ReloadError,
  type Participant,
  type ReloadResult,
} from '../../src/index.js';
import { countingFs } from '../helpers/counting-fs.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

const hostile = fileURLToPath(new URL('../fixtures/hostile/', import.meta.url));
const built = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'index.js');
const fixture = (name: string): string => join(hostile, name);

const LIVE = { server: { tls: { cert: '/etc/a.pem' } }, a: { b: 1 }, list: [{ x: 1 }] };
// Permissive on purpose: whatever the reader lets through reaches the store as data.
const schema = { type: 'object' } as const;

let root: string;
beforeAll(async () => {
  root = await makeTempDir('txconfig-hostile-');
});
afterAll(async () => {
  await removeTempDir(root);
});

const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();
afterEach(() => {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);
});

type AnyStore = ConfigStore<unknown, Record<string, unknown>, unknown>;

/** Requests a reload with `load` and checks it was refused with `code` (and `causeCode`), the live snapshot untouched. */
async function expectRefused(store: AnyStore, load: () => unknown, code: string, causeCode: string | null): Promise<ReloadError> {
  const before = store.load();
  const rejected = store.status().counters.rejected;
  const outcome: ReloadResult = await store.requestReload(load);
  expect(outcome.status).toBe('rejected');
  const error = (outcome as { error: ReloadError }).error;
  expect(error).toBeInstanceOf(ReloadError);
  expect(error.code).toBe(code);
  const cause = error.cause as { code?: string } | undefined;
  if (causeCode !== null) expect(cause?.code).toBe(causeCode);
  expect(store.load()).toBe(before);
  const status = store.status();
  expect(status.counters.rejected).toBe(rejected + 1);
  expect(status.lastError).toMatchObject({ code, ...(causeCode === null ? {} : { causeCode }) });
  return error;
}

describe('hostile config files against a running store', () => {
  let store: AnyStore;
  beforeEach(async () => {
    store = (await ConfigStore.create({ schema, initial: LIVE })) as AnyStore;
  });

  it.each([
    ['proto-top-level.json', '__proto__', ''],
    ['proto-nested.json', '__proto__', '/server/tls'],
    ['proto-merge-into-existing.json', '__proto__', '/server/tls'],
    ['proto-chain-nested.json', '__proto__', '/a/b'],
    ['proto-in-array.json', '__proto__', '/runtimes/1'],
    ['proto-escaped.json', '__proto__', ''],
    ['proto-null-value.json', '__proto__', ''],
    ['proto-key-with-slash-pointer.json', '__proto__', '/a~1b/c~0d'],
    ['constructor-prototype.json', 'constructor', ''],
    ['constructor-prototype-nested.json', 'constructor', '/a/b'],
    ['constructor-in-nested-array.json', 'constructor', '/list/0/1'],
    ['constructor-prototype-in-array.json', 'constructor', '/list/0'],
    ['constructor-only.json', 'constructor', '/a'],
    ['prototype-key.json', 'prototype', '/limits'],
    ['prototype-in-array.json', 'prototype', '/items/1/0'],
  ])('refuses %s (ERR_UNSAFE_KEY %s at %s) and keeps the live config', async (file, key, pointer) => {
    const error = await expectRefused(store, () => readConfigFile(fixture(file)), 'ERR_LOAD', 'ERR_UNSAFE_KEY');
    expect(error.cause).toMatchObject({ key, pointer });
  });

  it.each(['path-keys-colon.json', 'path-keys-dot.json', 'path-keys-array.json'])(
    'takes the path-string keys of %s as inert literal keys: no path is ever interpreted',
    async (file) => {
      const text = await readFile(fixture(file), 'utf8');
      const result = await store.reload(await readConfigFile(fixture(file)));
      expect(result.status).toBe('applied');
      const config = store.load().config as Record<string, unknown>;
      expect(Object.keys(config).sort()).toEqual(Object.keys(JSON.parse(text) as object).sort());
      for (const key of Object.keys(config)) expect(Object.getOwnPropertyDescriptor(config, key)?.value).toBe('yes');
      expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
      // The patches handed to subscribers apply cleanly with immer.
      if (result.status === 'applied') expect(applyPatches(result.previous!.config as object, result.patches as Patch[])).toEqual(config);
    },
  );

  it.each([
    ['bom-double.json', 'ERR_PARSE'],
    ['bom-inside.json', 'ERR_PARSE'],
    ['utf16le-bom.json', 'ERR_FILE_ENCODING'],
    ['utf8-overlong-slash.json', 'ERR_FILE_ENCODING'],
    ['utf8-lone-continuation.json', 'ERR_FILE_ENCODING'],
    ['utf8-truncated-sequence.json', 'ERR_FILE_ENCODING'],
    ['utf8-encoded-surrogate.json', 'ERR_FILE_ENCODING'],
    ['utf8-latin1-byte.json', 'ERR_FILE_ENCODING'],
    ['root-array.json', 'ERR_PARSE'],
    ['root-string.json', 'ERR_PARSE'],
    ['root-null.json', 'ERR_PARSE'],
    ['root-number.json', 'ERR_PARSE'],
    ['root-empty.json', 'ERR_PARSE'],
    ['root-whitespace.json', 'ERR_PARSE'],
  ])('refuses %s with %s and keeps the live config', async (file, code) => {
    await expectRefused(store, () => readConfigFile(fixture(file)), 'ERR_LOAD', code);
  });

  it('accepts exactly one leading UTF-8 BOM', async () => {
    expect((await store.requestReload(() => readConfigFile(fixture('bom-single.json')))).status).toBe('applied');
    expect(store.load().config).toEqual({ ok: true });
  });

  it('refuses absurd nesting as ERR_PARSE without exhausting the stack', async () => {
    const arrays = join(root, 'nested-arrays.json');
    await writeFile(arrays, `{"a":${'['.repeat(1_000_000)}`);
    const objects = join(root, 'nested-objects.json');
    await writeFile(objects, `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`);
    for (const path of [arrays, objects]) await expectRefused(store, () => readConfigFile(path), 'ERR_LOAD', 'ERR_PARSE');
  });

  it('refuses a config nested past the stack as a typed error, not a crash, and keeps serving', async () => {
    let deep: Record<string, unknown> = {};
    const top = deep;
    for (let i = 0; i < 100_000; i++) {
      const next = {};
      deep.a = next;
      deep = next;
    }
    const error = await expectRefused(store, () => top, 'ERR_PREPARE', null);
    expect(error.failures[0]).toMatchObject({ participant: null, phase: 'validate' });
    expect(error.cause).toBeInstanceOf(RangeError);
    expect((await store.reload({ after: true })).status).toBe('applied');
  });

  it('refuses a huge file from its size, reading nothing, and a large real one', async () => {
    const sparse = join(root, 'sparse.json');
    await writeFile(sparse, '{}');
    await truncate(sparse, 2 ** 30);
    const seam = countingFs();
    await expectRefused(store, () => readConfigFile(sparse, { fs: seam }), 'ERR_LOAD', 'ERR_FILE_TOO_LARGE');
    expect(seam.bytesRead).toBe(0);
    expect(seam.openFiles).toBe(0);
    const large = join(root, 'large.json');
    await writeFile(large, `{"pad":"${'x'.repeat(17 * 1024 * 1024)}"}`);
    await expectRefused(store, () => readConfigFile(large), 'ERR_LOAD', 'ERR_FILE_TOO_LARGE');
  });

  it('refuses a directory, a FIFO, /dev/zero, /dev/null and symlink loops as ERR_FILE_TYPE, without blocking', async () => {
    const fifo = join(root, 'config.fifo');
    execFileSync('mkfifo', [fifo]);
    const loopA = join(root, 'loop-a.json');
    const loopB = join(root, 'loop-b.json');
    await symlink(loopB, loopA);
    await symlink(loopA, loopB);
    const self = join(root, 'self.json');
    await symlink(self, self);
    const directory = join(root, 'a-directory.json');
    await mkdir(directory);
    for (const path of [directory, fifo, '/dev/zero', '/dev/null', loopA, self]) {
      await expectRefused(store, () => readConfigFile(path), 'ERR_LOAD', 'ERR_FILE_TYPE');
    }
  });

  it('refuses a missing file and a path through a file as ERR_FILE_NOT_FOUND', async () => {
    await expectRefused(store, () => readConfigFile(join(root, 'missing.json')), 'ERR_LOAD', 'ERR_FILE_NOT_FOUND');
    await expectRefused(store, () => readConfigFile(join(fixture('bom-single.json'), 'x')), 'ERR_LOAD', 'ERR_FILE_NOT_FOUND');
  });

  it('refuses an unreadable file as ERR_FILE_ACCESS (as an unprivileged user, and through the seam)', async () => {
    const path = join(root, 'unreadable.json');
    await writeFile(path, '{"secret": 1}');
    await chmod(path, 0o000);
    await chmod(root, 0o755);
    const code = `import { readConfigFile } from ${JSON.stringify(pathToFileURL(built).href)};
      readConfigFile(${JSON.stringify(path)}).then(() => console.log('READ'), (e) => console.log(e.code));`;
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { ...asNobody, encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('ERR_FILE_ACCESS');
    const eacces = Object.assign(new Error('EACCES: injected'), { code: 'EACCES' });
    await expectRefused(store, () => readConfigFile(path, { fs: countingFs({ open: () => Promise.reject(eacces) }) }), 'ERR_LOAD', 'ERR_FILE_ACCESS');
  });
});

describe('hostile values given to the store directly (a request body, JSON.parse)', () => {
  // It was kept as inert data; since issue 14 every input refuses it (ERR_UNSAFE_KEY).
  it('refuses a "__proto__" own key where the live config holds an object, and keeps the live config', async () => {
    const store = (await ConfigStore.create({ schema, initial: LIVE })) as AnyStore;
    const before = store.load();
    const parsed = JSON.parse('{"server": {"tls": {"cert": "/etc/a.pem", "__proto__": {"polluted": "yes"}}}}') as Record<string, unknown>;
    const error = await expectRefused(store, () => parsed, 'ERR_UNSAFE_KEY', 'ERR_UNSAFE_KEY');
    expect(error.failures[0]).toMatchObject({ participant: null, phase: 'validate', error: { key: '__proto__', pointer: '/server/tls', path: 'reload()' } });
    expect(store.load()).toBe(before);
    expect(Object.getPrototypeOf((before.config as typeof LIVE).server.tls)).toBe(Object.prototype);
  });

  it('refuses a recipe that assigns __proto__ on the draft, and keeps the live config', async () => {
    const store = await ConfigStore.create({ schema, initial: LIVE });
    const before = store.load();
    const thrown = await store
      .reload((draft) => {
        (draft as Record<string, unknown>).__proto__ = { polluted: 'yes' };
      })
      .catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(ReloadError);
    expect(thrown).toMatchObject({ code: 'ERR_PREPARE', failures: [{ participant: null, phase: 'update' }] });
    expect(store.load()).toBe(before);
    expect(store.status().lastError?.code).toBe('ERR_PREPARE');
  });

  it("refuses the immer advisories' patch paths, in applyPatches on a snapshot and inside a recipe", async () => {
    const patches = JSON.parse(await readFile(fixture('immer-patches.json'), 'utf8')) as Patch[];
    const store = await ConfigStore.create({ schema, initial: LIVE });
    for (const patch of patches) {
      expect(() => applyPatches(store.load().config as object, [patch]), JSON.stringify(patch.path)).toThrow();
      const before = store.load();
      const thrown = await store
        .reload((draft) => {
          applyPatches(draft, [patch]);
        })
        .catch((e: unknown) => e);
      expect(thrown, JSON.stringify(patch.path)).toBeInstanceOf(ReloadError);
      expect(thrown).toMatchObject({ code: 'ERR_PREPARE', failures: [{ participant: null, phase: 'update' }] });
      expect(store.load()).toBe(before);
    }
    expect(store.status().counters.rejected).toBe(patches.length);
  });
});

describe('artifact names designed for path traversal', () => {
  // The corpus file is itself read through the safe parser.
  const names = parseConfigText(readFileSync(fixture('artifact-names.json'), 'utf8')) as { refused: string[]; inert: string[] };

  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('txconfig-hostile-artifacts-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('refuses every traversal name with ERR_ARTIFACT_NAME and writes nothing anywhere', async () => {
    const store = await FsArtifactStore.open(join(dir, 'artifacts'));
    for (const name of names.refused) {
      const error = await store.put(name, 'x').catch((e: unknown) => e);
      expect(error, JSON.stringify(name)).toBeInstanceOf(ArtifactError);
      expect((error as ArtifactError).code).toBe('ERR_ARTIFACT_NAME');
    }
    expect(await readdir(dir)).toEqual(['artifacts']);
    expect(await readdir(join(dir, 'artifacts'))).toEqual([]);
  });

  it('stores names that only look dangerous as plain files inside the directory', async () => {
    const store = await FsArtifactStore.open(join(dir, 'artifacts'));
    for (const name of names.inert) {
      const artifact = await store.put(name, `content of ${name}`);
      expect(dirname(artifact.path)).toBe(store.dir);
      await store.verify(artifact);
    }
    expect(await readdir(dir)).toEqual(['artifacts']);
    expect((await store.list()).map((a) => a.name).sort()).toEqual([...names.inert].sort());
  });

  it('refuses keep-list entries that leave the directory, and forged artifact paths', async () => {
    const artifactsDir = join(dir, 'artifacts');
    const digest = 'a'.repeat(64);
    for (const entry of [...names.refused.map((n) => `${n}-${digest}`), `../x-${digest}`, join(dir, `x-${digest}`), '/etc/passwd']) {
      const error = await FsArtifactStore.open(artifactsDir, { keep: [entry] }).catch((e: unknown) => e);
      expect(error, JSON.stringify(entry)).toMatchObject({ code: 'ERR_ARTIFACT_NAME' });
    }
    const store = await FsArtifactStore.open(artifactsDir);
    const real = await store.put('real', 'content');
    for (const path of [join(dir, `real-${real.digest}`), `${artifactsDir}/../real-${real.digest}`, '/etc/passwd']) {
      const forged = { ...real, path };
      expect(() => store.lease(forged, 'forger')).toThrow(ArtifactError);
      await expect(store.verify(forged)).rejects.toMatchObject({ code: 'ERR_ARTIFACT_UNSAFE_PATH' });
    }
  });

  it('rejects a reload whose participant writes an artifact under a traversal name, and keeps the live config', async () => {
    const artifacts = await FsArtifactStore.open(join(dir, 'artifacts'));
    const writer: Participant<{ name: string }> = {
      name: 'writer',
      prepare: async ({ config, artifacts: out }) => ({ derived: await out.put(config.name, 'x') }),
    };
    const store = (await ConfigStore.create({ schema, initial: { name: 'fine' }, participants: [writer], artifacts })) as unknown as AnyStore;
    for (const name of names.refused) {
      const error = await expectRefused(store, () => ({ name }), 'ERR_PREPARE', 'ERR_ARTIFACT_NAME');
      expect(error.failures[0]).toMatchObject({ participant: 'writer', phase: 'prepare' });
    }
    expect(await readdir(dir)).toEqual(['artifacts']);
    expect((await artifacts.list()).map((a) => a.name)).toEqual(['fine']);
  });
});

describe('runtime arguments designed for shell injection (the runtime-wrapper plugin)', () => {
  let dir: string;
  let fake: string;
  beforeEach(async () => {
    dir = await makeTempDir('txconfig-hostile-shell-');
    // A fake runtime in a directory whose name needs quoting too: prints each argument, NUL-terminated.
    const bin = join(dir, `bin dir's $(x) "q"`);
    await mkdir(bin);
    fake = join(bin, 'print-args');
    await writeFile(fake, `#!/bin/sh\nprintf '%s\\0' "$@"\n`, { mode: 0o755 });
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  async function wrapperStore(): Promise<ConfigStore<unknown, { runtimes: { runtimes: Record<string, { program: string; wrapped: boolean }> } }, unknown>> {
    const artifacts = await FsArtifactStore.open(join(dir, 'artifacts'));
    const store = await ConfigStore.create({
      schema: runtimeConfigSchema,
      initial: { 'default-runtime': 'runc', runtimes: {} },
      participants: [runtimeWrappers({ builtins: { runc: fake } })],
      artifacts,
    });
    return store as never;
  }

  it('passes every hostile argument to the runtime exactly as written, and runs nothing else', async () => {
    const { runtimeArgs } = (await readConfigFile(fixture('shell-injection-args.json'))) as { runtimeArgs: string[] };
    const store = await wrapperStore();
    const configPath = join(dir, 'daemon.json');
    await writeFile(configPath, JSON.stringify({ 'default-runtime': 'evil', runtimes: { evil: { path: fake, runtimeArgs } } }));
    const outcome = await store.requestReload(() => readConfigFile(configPath));
    expect(outcome.status).toBe('applied');
    const evil = store.load().derived.runtimes.runtimes.evil!;
    expect(evil.wrapped).toBe(true);
    const extra = ['$(touch MARKER)', '', "it's"];
    const output = execFileSync(evil.program, extra, { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir } });
    const received = output.toString('utf8').split('\0').slice(0, -1);
    expect(received).toEqual([...runtimeArgs, ...extra]);
    expect(existsSync(join(dir, 'MARKER'))).toBe(false);
    expect(existsSync(join(dir, 'artifacts', 'MARKER'))).toBe(false);
  });

  it('rejects a NUL in an argument and runtime names that traverse paths, keeping the live config', async () => {
    const store = (await wrapperStore()) as unknown as AnyStore;
    const filesBefore = await readdir(join(dir, 'artifacts'));
    const configs = [
      { 'default-runtime': 'runc', runtimes: { nul: { path: fake, runtimeArgs: ['a\u0000b'] } } },
      ...['../../evil', '..', 'a/b', '.hidden', 'runc', '', 'x\nrm -rf /'].map((name) => ({
        'default-runtime': 'runc',
        runtimes: { [name]: { path: fake, runtimeArgs: ['--x'] } },
      })),
    ];
    for (const config of configs) {
      const error = await expectRefused(store, () => config, 'ERR_PREPARE', null);
      expect(error.failures[0]).toMatchObject({ participant: 'runtimes', phase: 'prepare' });
      expect(error.failures[0]!.error).toBeInstanceOf(RuntimeConfigError);
    }
    expect(await readdir(join(dir, 'artifacts'))).toEqual(filesBefore);
    expect(existsSync(join(dir, 'evil'))).toBe(false);
  });
});
