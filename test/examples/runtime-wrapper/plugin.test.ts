// Unit tests of the runtime-wrapper plugin, against the built package (the example
// imports 'txconfig', so the test does too: one instance of every class).
import { stat, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigStore, FsArtifactStore, ReloadError } from 'txconfig';

import {
  quoteShellArg,
  resolveRuntime,
  runtimeConfigSchema,
  RuntimeConfigError,
  runtimeWrappers,
  UnknownRuntimeError,
  wrapperScript,
} from '../../../examples/runtime-wrapper/plugin.js';
import { receivedArgs, writeFakeRuntime } from '../../helpers/fake-runtime.js';
import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.js';

let dir: string;
let fake: string;
let artifacts: FsArtifactStore;

beforeEach(async () => {
  dir = await makeTempDir('txconfig-runtime-plugin-');
  fake = await writeFakeRuntime(dir);
  artifacts = await FsArtifactStore.open(join(dir, 'wrappers'));
});
afterEach(async () => {
  await removeTempDir(dir);
});

type Runtimes = Record<string, { path: string; runtimeArgs?: string[] }>;

function config(runtimes: Runtimes, fallback = 'runc') {
  return { 'default-runtime': fallback, runtimes };
}

function createStore(initial: unknown) {
  return ConfigStore.create({
    schema: runtimeConfigSchema,
    initial,
    participants: [runtimeWrappers({ builtins: { runc: fake } })],
    artifacts,
  });
}

/** Arguments a shell would split, expand, substitute or run, if they were not quoted. */
const NASTY_ARGS = [
  'with space',
  "it's",
  "''",
  '"double"',
  '$(touch INJECTED)',
  '`touch INJECTED`',
  'a; touch INJECTED',
  'a && touch INJECTED',
  'a | touch INJECTED',
  'two\nlines',
  '',
  '$HOME',
  '${PATH}',
  '*',
  '~',
  '\\',
  "\\'",
  '-n',
  '--',
  'tab\there',
  'ünïcødé ✓',
  '$@',
  '"$@"',
  '#comment',
];

describe('wrapper scripts', () => {
  it('are exactly `#!/bin/sh`, then exec of the binary with every argument single-quoted, then "$@"', () => {
    expect(wrapperScript('/usr/bin/runc', ['--debug', '--log', '/var/log/a b.log'])).toBe(
      `#!/bin/sh\nexec '/usr/bin/runc' '--debug' '--log' '/var/log/a b.log' "$@"\n`,
    );
    expect(quoteShellArg("it's")).toBe(`'it'\\''s'`);
    expect(quoteShellArg('')).toBe(`''`);
  });

  it("pass every hostile argument, and the caller's, to the binary exactly as configured when executed", async () => {
    const store = await createStore(config({ nasty: { path: fake, runtimeArgs: NASTY_ARGS } }));
    const runtime = resolveRuntime(store.load().derived.runtimes, 'nasty');
    expect(runtime.wrapped).toBe(true);
    const callerArgs = ['create', "it's", '', 'a b', '$(touch INJECTED)'];
    await expect(receivedArgs(runtime.program, callerArgs)).resolves.toEqual([...NASTY_ARGS, ...callerArgs]);
    // No command substitution ran, wherever the shell's working directory was.
    await expect(stat(join(process.cwd(), 'INJECTED'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('pass arbitrary strings through unchanged (property, executed)', async () => {
    const store = await createStore(config({}));
    // NUL cannot pass through execve and a lone surrogate has no UTF-8 form; the plugin refuses both (tested below).
    const arg = fc.string({ unit: 'binary', maxLength: 40 }).filter((value) => !value.includes('\0') && !/\p{Cs}/u.test(value));
    let name = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(arg, { maxLength: 8 }), async (args) => {
        name += 1;
        const runtimeName = `r${name}`;
        await store.reload(config({ [runtimeName]: { path: fake, runtimeArgs: ['--first', ...args] } }));
        const runtime = resolveRuntime(store.load().derived.runtimes, runtimeName);
        expect(await receivedArgs(runtime.program)).toEqual(['--first', ...args]);
      }),
      { numRuns: 60 },
    );
  });

  it('are artifacts of mode 0700 named by the runtime and the SHA-256 of the script', async () => {
    const store = await createStore(config({ debug: { path: fake, runtimeArgs: ['--debug'] } }));
    const [artifact] = store.load().artifacts;
    expect(artifact?.name).toBe('debug');
    expect(((await stat(artifact?.path ?? '')).mode & 0o777).toString(8)).toBe('700');
    expect(await readFile(artifact?.path ?? '', 'utf8')).toBe(wrapperScript(fake, ['--debug']));
    expect(resolveRuntime(store.load().derived.runtimes, 'debug').artifact).toEqual(artifact);
  });
});

describe('the derived runtime table', () => {
  it('runs a runtime without arguments (or with none listed) directly, with no wrapper', async () => {
    const store = await createStore(config({ plain: { path: fake }, empty: { path: fake, runtimeArgs: [] } }));
    const table = store.load().derived.runtimes;
    expect(resolveRuntime(table, 'plain')).toEqual({ name: 'plain', program: fake, wrapped: false, artifact: null });
    expect(resolveRuntime(table, 'empty')).toEqual({ name: 'empty', program: fake, wrapped: false, artifact: null });
    expect(store.load().artifacts).toEqual([]);
  });

  it('gives identical path and arguments under two names a working wrapper each', async () => {
    const same = { path: fake, runtimeArgs: ['--same', 'a b'] };
    const store = await createStore(config({ one: same, two: same }));
    const table = store.load().derived.runtimes;
    const one = resolveRuntime(table, 'one');
    const two = resolveRuntime(table, 'two');
    expect(one.artifact?.digest).toBe(two.artifact?.digest);
    await expect(receivedArgs(one.program, ['x'])).resolves.toEqual(['--same', 'a b', 'x']);
    await expect(receivedArgs(two.program, ['y'])).resolves.toEqual(['--same', 'a b', 'y']);
  });

  it('resolves the empty name to the default, built-in or configured', async () => {
    const store = await createStore(config({ debug: { path: fake, runtimeArgs: ['--debug'] } }));
    expect(resolveRuntime(store.load().derived.runtimes, '')).toMatchObject({ name: 'runc', program: fake, wrapped: false });
    await store.reload(config({ debug: { path: fake, runtimeArgs: ['--debug'] } }, 'debug'));
    expect(resolveRuntime(store.load().derived.runtimes, '')).toMatchObject({ name: 'debug', wrapped: true });
  });

  it('refuses an unknown runtime name with ERR_UNKNOWN_RUNTIME, inherited names included', async () => {
    const store = await createStore(config({}));
    for (const name of ['nope', 'toString', '__proto__']) {
      expect(() => resolveRuntime(store.load().derived.runtimes, name)).toThrow(UnknownRuntimeError);
      expect(() => resolveRuntime(store.load().derived.runtimes, name)).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_RUNTIME', runtime: name }));
    }
  });
});

describe('rules that reject the whole reload', () => {
  const cases: readonly [string, ReturnType<typeof config> | ((fake: string) => ReturnType<typeof config>)][] = [
    ['a runtime named runc (reserved)', (path) => config({ runc: { path, runtimeArgs: ['x'] } })],
    ['a default naming no runtime', (path) => config({ debug: { path } }, 'missing')],
    ['a name with "/"', (path) => config({ 'a/b': { path, runtimeArgs: ['x'] } })],
    ['a name that is ".."', (path) => config({ '..': { path, runtimeArgs: ['x'] } })],
    ['a name containing ".."', (path) => config({ 'a..b': { path, runtimeArgs: ['x'] } })],
    ['a name with "../" traversal', (path) => config({ '../../etc/cron.d/x': { path, runtimeArgs: ['x'] } })],
    ['a relative path', () => config({ rel: { path: 'bin/runc', runtimeArgs: ['x'] } })],
    ['an argument with NUL', (path) => config({ nul: { path, runtimeArgs: ['a\0b'] } })],
    ['an argument with a lone surrogate', (path) => config({ bad: { path, runtimeArgs: ['a\uD800b'] } })],
  ];

  it.each(cases)('rejects %s with ERR_PREPARE, keeps the live snapshot and writes nothing', async (_what, make) => {
    const store = await createStore(config({ ok: { path: fake, runtimeArgs: ['--ok'] } }));
    const live = store.load();
    const before = await artifacts.list();
    const error = await store.reload(typeof make === 'function' ? make(fake) : make).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ReloadError);
    expect(error).toMatchObject({ code: 'ERR_PREPARE' });
    expect((error as ReloadError).failures[0]?.error).toBeInstanceOf(RuntimeConfigError);
    expect(store.load()).toBe(live);
    expect(await artifacts.list()).toEqual(before);
  });

  it('names every broken rule at once', async () => {
    const store = await createStore(config({}));
    const error = await store.reload(config({ runc: { path: 'x', runtimeArgs: ['y'] } }, 'missing')).catch((thrown: unknown) => thrown);
    const cause = (error as ReloadError).failures[0]?.error as RuntimeConfigError;
    expect(cause.code).toBe('ERR_RUNTIME_CONFIG');
    expect(cause.problems).toHaveLength(3);
  });

  it('leaves structural errors to the schema: ERR_VALIDATION', async () => {
    const store = await createStore(config({}));
    // Shapes the types forbid, as a JSON file can still hold them.
    await expect(store.reload({ 'default-runtime': 'runc', runtimes: { r: { runtimeArgs: ['x'] } } } as never)).rejects.toMatchObject({
      code: 'ERR_VALIDATION',
    });
    await expect(store.reload({ 'default-runtime': 'runc', runtimes: { r: { path: fake, runtimeArgs: [1] } } } as never)).rejects.toMatchObject({
      code: 'ERR_VALIDATION',
    });
  });
});
