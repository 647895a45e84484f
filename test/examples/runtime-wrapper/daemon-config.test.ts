import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ConfigStore, ConflictError, ReloadError, argv, file, type ConfigSource } from 'txconfig';
import { daemonConfigSource, resolveRuntimePaths, resolvingRuntimePaths, unwatched, type DaemonConfigOptions } from '../../../examples/runtime-wrapper/daemon-config.js';
import { runtimeConfigSchema } from '../../../examples/runtime-wrapper/plugin.js';
import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.js';

let dir: string;
let configPath: string;
let configDir: string;
const stores: { close(): Promise<void> }[] = [];
beforeEach(async () => {
  dir = await makeTempDir('txconfig-daemon-config-');
  configPath = join(dir, 'daemon.json');
  configDir = join(dir, 'daemon.d');
  await mkdir(configDir);
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
  await removeTempDir(dir);
});

const config = {
  'default-runtime': 'runc',
  runtimes: {
    here: { path: './fake-runc', runtimeArgs: ['--x'] },
    below: { path: 'bin/runc' },
    up: { path: '../runc' },
    absolute: { path: '/usr/bin/crun' },
  },
};

function read(source: ConfigSource): Promise<unknown> {
  return source.read({ signal: new AbortController().signal }).then((reading) => reading.value);
}

/** The daemon's source over the temp directory, with `flags` and `environment`, and no watch. */
function source(flags: readonly string[] = [], environment: Record<string, string> = {}, options: Partial<DaemonConfigOptions> = {}): ConfigSource {
  return unwatched(daemonConfigSource({ configPath, configDir, configDirRequired: true, flags: argv(flags), environment, workingDirectory: '/work', ...options }));
}

/** A store of the daemon's schema (no plugin: the paths are what is tested) over `layers`. */
async function storeOf(layers: ConfigSource) {
  const store = await ConfigStore.create({ schema: runtimeConfigSchema, source: layers });
  stores.push(store);
  return store;
}

describe('the daemon config: relative runtime paths', () => {
  it('takes them from the config file’s directory, and leaves absolute ones', async () => {
    await writeFile(configPath, JSON.stringify(config));
    expect(await read(resolvingRuntimePaths(file(configPath), dir))).toEqual({
      'default-runtime': 'runc',
      runtimes: {
        here: { path: join(dir, 'fake-runc'), runtimeArgs: ['--x'] },
        below: { path: join(dir, 'bin', 'runc') },
        up: { path: join(dir, '..', 'runc') },
        absolute: { path: '/usr/bin/crun' },
      },
    });
  });

  it('takes them from the conf.d for its files, and from the working directory for flags and variables', async () => {
    await writeFile(configPath, JSON.stringify({ runtimes: { main: { path: './main' } } }));
    await writeFile(join(configDir, '10-d.json'), JSON.stringify({ runtimes: { dropin: { path: './dropin' } } }));
    const store = await storeOf(source(['--runtimes.flag.path=bin/flag'], { RUNTIME_WRAPPER_RUNTIMES__ENV__PATH: 'env' }));
    expect(store.load().config.runtimes).toEqual({
      main: { path: join(dir, 'main') },
      dropin: { path: join(configDir, 'dropin') },
      env: { path: '/work/env' },
      flag: { path: '/work/bin/flag' },
    });
    // The origins are the layers' own: the position in the file that gave the relative path.
    expect(store.explain('/runtimes/main/path')).toMatchObject({ value: join(dir, 'main'), layer: 'file', origin: { file: configPath, line: 1 } });
    expect(store.explain('/runtimes/dropin/path')).toMatchObject({ layer: 'directory', origin: { file: join(configDir, '10-d.json') } });
  });

  it('leaves what is not the expected shape for the schema to reject', () => {
    const odd = { runtimes: { empty: { path: '' }, number: { path: 3 }, list: ['x'], none: null } };
    expect(resolveRuntimePaths(odd, '/etc/rw')).toEqual(odd);
    expect(resolveRuntimePaths({ runtimes: [] }, '/etc/rw')).toEqual({ runtimes: [] });
    expect(resolveRuntimePaths({}, '/etc/rw')).toEqual({});
  });

  it('does not change the object it was given', () => {
    const given = structuredClone(config);
    resolveRuntimePaths(given, '/etc/rw');
    expect(given).toEqual(config);
  });

  it('refuses bytes that are not UTF-8 and text that is not JSON', async () => {
    await writeFile(configPath, Uint8Array.of(0x7b, 0xff, 0x7d));
    await expect(read(source())).rejects.toMatchObject({ code: 'ERR_FILE_ENCODING' });
    await writeFile(configPath, '{');
    await expect(read(source())).rejects.toMatchObject({ code: 'ERR_PARSE' });
  });

  it('keeps the wrapped layer’s name, watch and close; unwatched() drops only the watch', () => {
    let closed = 0;
    const layer: ConfigSource = {
      name: 'file:/x.json',
      read: () => Promise.resolve({ value: {} }),
      watch: () => () => undefined,
      close: () => {
        closed += 1;
        return Promise.resolve();
      },
    };
    const wrapped = resolvingRuntimePaths(layer, '/');
    expect(wrapped.name).toBe('file:/x.json');
    expect('watch' in wrapped).toBe(true);
    const quiet = unwatched(wrapped);
    expect('watch' in quiet).toBe(false);
    void quiet.close?.();
    expect(closed).toBe(1);
  });
});

describe('the daemon config: layers', () => {
  beforeEach(async () => {
    await writeFile(configPath, '{\n  "default-runtime": "runc",\n  "runtimes": { "crun": { "path": "/usr/bin/crun" } }\n}\n');
  });

  it('lets conf.d override the config file, and the environment override both, without a conflict', async () => {
    await writeFile(join(configDir, '10-a.json'), JSON.stringify({ 'default-runtime': 'crun', runtimes: { crun: { path: '/opt/crun' } } }));
    const store = await storeOf(source([], { RUNTIME_WRAPPER_RUNTIMES__CRUN__PATH: '/env/crun' }));
    expect(store.load().config).toEqual({ 'default-runtime': 'crun', runtimes: { crun: { path: '/env/crun' } } });
    expect(store.explain('/default-runtime')).toMatchObject({
      layer: 'directory',
      origin: { file: join(configDir, '10-a.json') },
      shadowed: [{ layer: 'file', origin: { file: configPath, line: 2 } }, { layer: 'defaults' }],
    });
    expect(store.explain('/runtimes/crun/path')).toMatchObject({
      layer: 'env',
      origin: { env: 'RUNTIME_WRAPPER_RUNTIMES__CRUN__PATH' },
      shadowed: [{ layer: 'directory', value: '/opt/crun' }, { layer: 'file', value: '/usr/bin/crun' }],
    });
  });

  it('maps RUNTIME_WRAPPER_DEFAULT_RUNTIME to the default-runtime key, which a prefixed name cannot spell', async () => {
    const store = await storeOf(source([], { RUNTIME_WRAPPER_DEFAULT_RUNTIME: 'crun' }));
    expect(store.explain('/default-runtime')).toMatchObject({ value: 'crun', layer: 'env', origin: { env: 'RUNTIME_WRAPPER_DEFAULT_RUNTIME' } });
  });

  it('merges flags with the files where they set different keys, and names the flag as the origin', async () => {
    const store = await storeOf(source(['--runtimes.crun.runtimeArgs=["--systemd-cgroup"]', '--runtimes.youki.path', '/usr/bin/youki']));
    expect(store.load().config.runtimes).toEqual({ crun: { path: '/usr/bin/crun', runtimeArgs: ['--systemd-cgroup'] }, youki: { path: '/usr/bin/youki' } });
    expect(store.explain('/runtimes/crun/runtimeArgs')).toMatchObject({ layer: 'argv', origin: { flag: '--runtimes.crun.runtimeArgs' } });
  });

  it.each([
    ['the config file', [], {}, { layer: 'file', origin: { file: join('DIR', 'daemon.json'), line: 2, column: 22 } }],
    ['a conf.d file', [['20-x.json', '{"default-runtime": "x"}']], {}, { layer: 'directory', origin: { file: join('DIR', 'daemon.d', '20-x.json'), line: 1, column: 21 } }],
    ['the environment', [], { RUNTIME_WRAPPER_DEFAULT_RUNTIME: 'x' }, { layer: 'env', origin: { env: 'RUNTIME_WRAPPER_DEFAULT_RUNTIME' } }],
  ] as const)('refuses a flag that %s also sets, naming both (the nested layers answer for the lower side)', async (_, dropIns, environment, lower) => {
    for (const [name, text] of dropIns) await writeFile(join(configDir, name), text);
    const failure = await storeOf(source(['--default-runtime=crun'], environment)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ReloadError);
    expect(failure).toMatchObject({ code: 'ERR_LOAD' });
    const conflict = (failure as ReloadError).failures[0]?.error;
    expect(conflict).toBeInstanceOf(ConflictError);
    const expected = JSON.parse(JSON.stringify(lower).replaceAll('DIR', dir)) as unknown;
    expect(conflict).toMatchObject({ code: 'ERR_CONFLICT', pointer: '/default-runtime', sides: [expected, { layer: 'argv', origin: { flag: '--default-runtime' } }] });
  });

  it('does not refuse a flag over a default', async () => {
    await writeFile(configPath, '{}');
    const store = await storeOf(source(['--default-runtime=crun', '--runtimes.crun.path=/c']));
    expect(store.explain('/default-runtime')).toMatchObject({ value: 'crun', layer: 'argv', shadowed: [{ layer: 'defaults', value: 'runc' }] });
  });

  it('refuses, on a reload too, a file edited to set what a flag sets; the live config stays', async () => {
    const store = await storeOf(source(['--runtimes.youki.path=/usr/bin/youki']));
    const live = store.load();
    await writeFile(join(configDir, '50-youki.json'), '{"runtimes": {"youki": {"path": "/opt/youki"}}}');
    const result = await store.refresh();
    expect(result).toMatchObject({ status: 'rejected', error: { code: 'ERR_LOAD', failures: [{ phase: 'load', error: { code: 'ERR_CONFLICT' } }] } });
    expect(store.load()).toBe(live);
  });

  it('reads a missing conf.d as empty when it is not required, and refuses it when it is', async () => {
    const missing = join(dir, 'nowhere.d');
    expect(await read(source([], {}, { configDir: missing, configDirRequired: false }))).toEqual({ 'default-runtime': 'runc', runtimes: { crun: { path: '/usr/bin/crun' } } });
    await expect(read(source([], {}, { configDir: missing, configDirRequired: true }))).rejects.toMatchObject({ code: 'ERR_FILE_NOT_FOUND' });
  });
});
