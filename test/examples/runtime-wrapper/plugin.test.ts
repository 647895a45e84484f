// Unit tests of the runtime-wrapper plugin, against the built package (the example
// imports 'txconfig', so the test does too: one instance of every class).
import { createHash } from 'node:crypto';
import { readdir, rm, stat, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

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
import { expectNoCanary, makeCanary } from '../../helpers/secret-canary.js';
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

type Runtimes = Record<string, { path: string; runtimeArgs?: string[]; registryToken?: string }>;

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
    expect(resolveRuntime(table, 'plain')).toEqual({ name: 'plain', program: fake, wrapped: false, artifact: null, tokenFile: null });
    expect(resolveRuntime(table, 'empty')).toEqual({ name: 'empty', program: fake, wrapped: false, artifact: null, tokenFile: null });
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

/** A fake runtime that prints `$REGISTRY_TOKEN` (or `<unset>`), then each argument, each followed by NUL. */
async function writeTokenRuntime(): Promise<string> {
  const path = join(dir, 'token-runtime');
  await writeFile(path, `#!/bin/sh\nprintf '%s\\0' "\${REGISTRY_TOKEN-<unset>}"\nfor arg in "$@"; do printf '%s\\0' "$arg"; done\n`, { mode: 0o755 });
  return path;
}

/** Hex SHA-256 of `text`, and of `text` with the newline a file usually ends with: what anyone could compute from a guess. */
function guessableHashes(text: string): string[] {
  return [text, `${text}\n`].map((value) => createHash('sha256').update(value).digest('hex'));
}

describe('registry tokens', () => {
  it('reach the runtime in its environment, exactly, and never in its arguments or in the wrapper', async () => {
    const runtime = await writeTokenRuntime();
    // A token that a shell would expand, split or run, were it ever parsed as shell.
    const token = `${makeCanary()} $(touch INJECTED) \`x\` 'q' "d" \\ ünï ✓`;
    const store = await createStore(config({ private: { path: runtime, runtimeArgs: ['--x'], registryToken: token } }));
    const resolved = resolveRuntime(store.load().derived.runtimes, 'private');
    expect(await receivedArgs(resolved.program, ['start', 'c1'])).toEqual([token, '--x', 'start', 'c1']);
    const script = await readFile(resolved.program, 'utf8');
    expect(script).toBe(wrapperScript(runtime, ['--x'], resolved.tokenFile?.path));
    expect(script).not.toContain(token);
    expect(script).toContain(`IFS= read -r REGISTRY_TOKEN < '${resolved.tokenFile?.path ?? '?'}' || exit 1\nexport REGISTRY_TOKEN\n`);
    await expect(stat(join(process.cwd(), 'INJECTED'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('wrap a runtime that has a token and no arguments, and leave the others without the variable', async () => {
    const runtime = await writeTokenRuntime();
    const store = await createStore(config({ private: { path: runtime, registryToken: 'tok' }, public: { path: runtime, runtimeArgs: ['--y'] } }));
    const table = store.load().derived.runtimes;
    expect(resolveRuntime(table, 'private')).toMatchObject({ wrapped: true, tokenFile: { name: 'private.registry-token' } });
    expect(await receivedArgs(resolveRuntime(table, 'private').program, ['a'])).toEqual(['tok', 'a']);
    expect(resolveRuntime(table, 'public').tokenFile).toBeNull();
    expect(await receivedArgs(resolveRuntime(table, 'public').program)).toEqual(['<unset>', '--y']);
  });

  it('are kept in a file of mode 0600 whose name and size tell nothing of the token', async () => {
    const token = makeCanary();
    const store = await createStore(config({ private: { path: fake, registryToken: token }, short: { path: fake, registryToken: 'x' } }));
    const table = store.load().derived.runtimes;
    const tokenFile = resolveRuntime(table, 'private').tokenFile;
    expect(((await stat(tokenFile?.path ?? '')).mode & 0o777).toString(8)).toBe('600');
    expect((await readFile(tokenFile?.path ?? '', 'utf8')).split('\n')[0]).toBe(token);
    // Padded: a one-character token and a 43-character one give files of one size.
    expect(tokenFile?.size).toBe(256);
    expect(resolveRuntime(table, 'short').tokenFile?.size).toBe(256);
    // No file name, and nothing the derived table shows, holds a hash anyone could compute from a guess.
    const names = await readdir(join(dir, 'wrappers'));
    const shown = JSON.stringify(store.load().derived) + names.join('\n');
    for (const hash of [...guessableHashes(token), ...guessableHashes('x')]) expect(shown).not.toContain(hash);
  });

  it('give the same token the same files on a reload, and a changed token a new wrapper', async () => {
    const store = await createStore(config({ private: { path: fake, registryToken: 'first' } }));
    const first = resolveRuntime(store.load().derived.runtimes, 'private');
    await store.reload(config({ private: { path: fake, registryToken: 'first' }, other: { path: fake } }));
    expect(resolveRuntime(store.load().derived.runtimes, 'private')).toEqual(first);
    await store.reload(config({ private: { path: fake, registryToken: 'second' } }));
    const second = resolveRuntime(store.load().derived.runtimes, 'private');
    expect(second.program).not.toBe(first.program);
    expect(second.tokenFile?.path).not.toBe(first.tokenFile?.path);
  });

  it('stop the wrapper, before the runtime runs, when its token file is gone', async () => {
    const runtime = await writeTokenRuntime();
    const store = await createStore(config({ private: { path: runtime, registryToken: 'tok' } }));
    const resolved = resolveRuntime(store.load().derived.runtimes, 'private');
    await rm(resolved.tokenFile?.path ?? '');
    await expect(receivedArgs(resolved.program, ['start'])).rejects.toThrow(/failed/);
  });

  it('are redacted by the schema alone: writeOnly', async () => {
    const token = makeCanary();
    const store = await createStore(config({ private: { path: fake, registryToken: token } }));
    expect(store.load().redacted().runtimes.private?.registryToken).toBe('[redacted]');
    expect(store.explain('/runtimes/private/registryToken').value).toBe('[redacted]');
    expect(JSON.stringify(store.status())).not.toContain(token);
  });

  it.each([
    ['a line break', (canary: string) => `${canary}\nsecond line`],
    ['a carriage return', (canary: string) => `${canary}\rrest`],
    ['a NUL', (canary: string) => `${canary}\0rest`],
    ['a lone surrogate', (canary: string) => `${canary}\uD800`],
  ])('refuse a token with %s (ERR_PREPARE), naming the runtime and never the token', async (_what, make) => {
    const canary = makeCanary();
    const store = await createStore(config({ ok: { path: fake, registryToken: 'ok' } }));
    const live = store.load();
    const before = await artifacts.list();
    const error = await store.reload(config({ private: { path: fake, registryToken: make(canary) } })).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: 'ERR_PREPARE' });
    const cause = (error as ReloadError).failures[0]?.error as RuntimeConfigError;
    expect(cause.problems).toEqual(['runtime "private": registryToken holds a line break, a NUL or invalid Unicode, which the token file cannot carry']);
    expectNoCanary(error, canary);
    expect(JSON.stringify(store.status())).not.toContain(canary);
    expect(store.load()).toBe(live);
    expect((await artifacts.list()).map((artifact) => basename(artifact.path))).toEqual(before.map((artifact) => basename(artifact.path)));
  });
});
