// The simulated containers of the runtime-wrapper example: leases on wrappers, garbage
// collection after stops, starts that race reloads, and a daemon restart.
import { lstatSync, readdirSync } from 'node:fs';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ContainerError } from '../../../examples/runtime-wrapper/containers.js';
import { openDaemon, type OpenedDaemon } from '../../../examples/runtime-wrapper/open-daemon.js';
import { resolveRuntime, UnknownRuntimeError } from '../../../examples/runtime-wrapper/plugin.js';
import { receivedArgs, writeFakeRuntime } from '../../helpers/fake-runtime.js';
import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.js';

let dir: string;
let fake: string;

beforeEach(async () => {
  dir = await makeTempDir('txconfig-containers-');
  fake = await writeFakeRuntime(dir);
});
afterEach(async () => {
  await removeTempDir(dir);
});

function config(runtimes: Record<string, { path: string; runtimeArgs?: string[]; registryToken?: string }>, fallback = 'runc') {
  return { 'default-runtime': fallback, runtimes };
}

function open(initial: unknown): Promise<OpenedDaemon> {
  return openDaemon({ stateDir: join(dir, 'state'), initial, builtins: { runc: fake } });
}

/** A runtime that appends each call's arguments to `log` and, on `start`, waits a little: stops and execs can overlap it. */
async function loggingRuntime(log: string): Promise<string> {
  const path = join(dir, 'logging-runtime');
  await writeFile(path, `#!/bin/sh\necho "$*" >> '${log}'\n[ "$1" = delete ] && sleep 0.2\nexit 0\n`, { mode: 0o755 });
  return path;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('a container and its wrapper', () => {
  it('takes a lease on its wrapper at start and keeps it across a reload that drops the runtime', async () => {
    const { store, engine } = await open(config({ debug: { path: fake, runtimeArgs: ['--debug'] } }));
    const { container, result } = await engine.start('c1', 'debug');
    expect(result.stdout).toBe('--debug\0start\0c1\0');
    await store.reload(config({}));
    const report = await store.collectGarbage();
    const entry = report.entries.find((e) => e.artifact.path === container.program);
    expect(entry?.roots).toEqual([{ kind: 'lease', detail: 'container c1' }]);
    expect(entry?.action).toBe('kept');
    await expect(engine.exec('c1', ['ps'])).resolves.toMatchObject({ stdout: '--debug\0exec\0c1\0ps\0' });
    await expect(receivedArgs(container.program, ['direct'])).resolves.toEqual(['--debug', 'direct']);
  });

  it('releases the lease when it stops, and the collection after the stop removes the wrapper', async () => {
    const { store, engine, artifacts } = await open(config({ debug: { path: fake, runtimeArgs: ['--debug'] } }));
    const { container } = await engine.start('c1', 'debug');
    await store.reload(config({}));
    const { gc } = await engine.stop('c1');
    expect(gc.removed.map((artifact) => artifact.path)).toEqual([container.program]);
    expect(await exists(container.program)).toBe(false);
    expect(await artifacts.list()).toEqual([]);
    expect(() => engine.get('c1')).toThrow(expect.objectContaining({ code: 'ERR_NO_CONTAINER' }));
  });

  it("keeps a stopped container's wrapper while the live config still uses it", async () => {
    const { engine } = await open(config({ debug: { path: fake, runtimeArgs: ['--debug'] } }));
    const { container } = await engine.start('c1', 'debug');
    const { gc } = await engine.stop('c1');
    expect(gc.removed).toEqual([]);
    expect(await exists(container.program)).toBe(true);
  });

  it('runs an unwrapped runtime directly and holds no lease', async () => {
    const { store, engine } = await open(config({ plain: { path: fake } }, 'plain'));
    const { container, result } = await engine.start('c1');
    expect(container).toMatchObject({ runtime: 'plain', program: fake, artifact: null });
    expect(result.stdout).toBe('start\0c1\0');
    const report = await store.collectGarbage();
    expect(report.entries).toEqual([]);
  });

  it('refuses an unknown runtime, a duplicate id and a bad id, and leaves no lease behind', async () => {
    const { store, engine } = await open(config({ debug: { path: fake, runtimeArgs: ['--debug'] } }));
    await expect(engine.start('c1', 'nope')).rejects.toBeInstanceOf(UnknownRuntimeError);
    await engine.start('c1', 'debug');
    await expect(engine.start('c1', 'debug')).rejects.toMatchObject({ code: 'ERR_CONTAINER_EXISTS' });
    await expect(engine.start('../c2', 'debug')).rejects.toMatchObject({ code: 'ERR_CONTAINER_ID' });
    const leases = (await store.collectGarbage()).entries.flatMap((entry) => entry.roots.filter((root) => root.kind === 'lease'));
    expect(leases).toEqual([{ kind: 'lease', detail: 'container c1' }]);
  });

  it('fails a start whose runtime exits non-zero with ERR_RUNTIME_FAILED and releases the lease', async () => {
    const failing = join(dir, 'failing-runtime');
    await writeFile(failing, '#!/bin/sh\necho broken >&2\nexit 3\n', { mode: 0o755 });
    const { store, engine } = await open(config({ bad: { path: failing, runtimeArgs: ['--x'] } }));
    const error = await engine.start('c1', 'bad').catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ContainerError);
    expect(error).toMatchObject({ code: 'ERR_RUNTIME_FAILED' });
    expect(engine.list()).toEqual([]);
    const roots = (await store.collectGarbage()).entries.flatMap((entry) => entry.roots);
    expect(roots.map((root) => root.kind)).toEqual(['live']);
  });
});

describe('a container and its token file', () => {
  it("leases its wrapper's token file too: a changed token leaves both in place until it stops", async () => {
    const { store, engine, artifacts } = await open(config({ private: { path: fake, registryToken: 'first' } }));
    const { container } = await engine.start('c1', 'private');
    expect(container.tokenFile).toEqual(resolveRuntime(store.load().derived.runtimes, 'private').tokenFile);
    await store.reload(config({ private: { path: fake, registryToken: 'second' } }));
    const report = await store.collectGarbage();
    const held = report.entries.filter((entry) => entry.roots.some((root) => root.kind === 'lease')).map((entry) => entry.artifact.path);
    expect(held.sort()).toEqual([container.program, container.tokenFile?.path].sort());
    await expect(engine.exec('c1', ['ps'])).resolves.toMatchObject({ exitCode: 0 });
    const { gc } = await engine.stop('c1');
    expect(gc.removed.map((artifact) => artifact.path).sort()).toEqual([container.program, container.tokenFile?.path].sort());
    const live = resolveRuntime(store.load().derived.runtimes, 'private');
    expect((await artifacts.list()).map((artifact) => artifact.path).sort()).toEqual([live.program, live.tokenFile?.path].sort());
  });

  it('refuses to start when the token file was changed on disk, and holds no lease after', async () => {
    const { store, engine } = await open(config({ private: { path: fake, registryToken: 'tok' } }));
    await writeFile(resolveRuntime(store.load().derived.runtimes, 'private').tokenFile?.path ?? '', 'other\n');
    await expect(engine.start('c1', 'private')).rejects.toMatchObject({ code: 'ERR_WRAPPER_INVALID' });
    const roots = (await store.collectGarbage({ dryRun: true })).entries.flatMap((entry) => entry.roots);
    expect(roots.map((root) => root.kind)).toEqual(['live', 'live']);
  });

  it('is recorded in the state file and leased again by a restarted daemon', async () => {
    const first = await open(config({ private: { path: fake, registryToken: 'tok' } }));
    const { container } = await first.engine.start('c1', 'private');
    expect(JSON.parse(await readFile(join(dir, 'state', 'containers.json'), 'utf8'))).toEqual([container]);

    const second = await open(config({}));
    expect(second.engine.list()).toEqual([container]);
    expect(await exists(container.tokenFile?.path ?? '')).toBe(true);
    await expect(second.engine.exec('c1', ['ps'])).resolves.toMatchObject({ exitCode: 0 });
    const { gc } = await second.engine.stop('c1');
    expect(gc.removed.map((artifact) => artifact.path).sort()).toEqual([container.program, container.tokenFile?.path].sort());
  });
});

describe('a start that races a reload', () => {
  it('always uses a wrapper that exists, whatever commits and collections run during the start', async () => {
    // A directory listing that answers within the same turn: a collection then reaches
    // its deletions within microtasks, so a lease taken even one turn after load() loses
    // (checked: with one setImmediate before the lease, this test fails).
    const { store, engine, artifacts } = await openDaemon({
      stateDir: join(dir, 'state'),
      initial: config({ trace: { path: fake, runtimeArgs: ['--v0'] } }),
      builtins: { runc: fake },
      fs: {
        readdir: (path) => Promise.resolve(readdirSync(path)),
        // A throw inside the executor becomes the rejection (ENOENT and all).
        lstat: (path) =>
          new Promise((resolve) => {
            resolve(lstatSync(path));
          }),
      },
    });
    const started: { program: string; version: string }[] = [];
    for (let round = 1; round <= 25; round += 1) {
      const before = resolveRuntime(store.load().derived.runtimes, 'trace').program;
      const transaction = (await store.begin()).set(config({ trace: { path: fake, runtimeArgs: [`--v${round}`] } }));
      const prepared = await transaction.prepare();
      const starting = engine.start(`c${round}`, 'trace');
      prepared.commit();
      const collected = await store.collectGarbage();
      const { container, result } = await starting;
      expect(container.program).toBe(before);
      expect(collected.removed.map((artifact) => artifact.path)).not.toContain(before);
      expect(await exists(container.program)).toBe(true);
      started.push({ program: container.program, version: result.stdout.split('\0')[0] ?? '' });
      // Stop every other container right away: collections then run with some leases released.
      if (round % 2 === 0) await engine.stop(`c${round}`);
    }
    for (const container of engine.list()) {
      await expect(engine.exec(container.id, ['check'])).resolves.toMatchObject({ exitCode: 0 });
    }
    expect(started.map((s) => s.version)).toEqual(Array.from({ length: 25 }, (_, i) => `--v${i}`));
    for (const container of engine.list()) await engine.stop(container.id);
    const left = await artifacts.list();
    expect(left.map((artifact) => artifact.path)).toEqual([resolveRuntime(store.load().derived.runtimes, 'trace').program]);
  });
});

describe('concurrent operations on one container', () => {
  it('starts an id once when two starts race', async () => {
    const { store, engine } = await open(config({ debug: { path: fake, runtimeArgs: ['--debug'] } }));
    const outcomes = await Promise.allSettled([engine.start('c1', 'debug'), engine.start('c1', 'debug')]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(outcomes.find((o) => o.status === 'rejected')).toMatchObject({ reason: { code: 'ERR_CONTAINER_EXISTS' } });
    const leases = (await store.collectGarbage()).entries.flatMap((entry) => entry.roots.filter((root) => root.kind === 'lease'));
    expect(leases).toHaveLength(1);
  });

  it('stops a container once when two stops race, and refuses an exec or a start of it meanwhile', async () => {
    const calls = join(dir, 'calls.log');
    const runtime = await loggingRuntime(calls);
    const { engine } = await open(config({ logged: { path: runtime, runtimeArgs: ['--x'] } }));
    await engine.start('c1', 'logged');
    const first = engine.stop('c1');
    await expect(engine.stop('c1')).rejects.toMatchObject({ code: 'ERR_NO_CONTAINER' });
    await expect(engine.exec('c1', ['ps'])).rejects.toMatchObject({ code: 'ERR_NO_CONTAINER' });
    await expect(engine.start('c1', 'logged')).rejects.toMatchObject({ code: 'ERR_CONTAINER_EXISTS' });
    await first;
    expect((await readFile(calls, 'utf8')).split('\n').filter((line) => line.includes('delete'))).toEqual(['--x delete c1']);
  });

  it('keeps the state file equal to the containers after starts and stops that overlap', async () => {
    const { engine } = await open(config({ debug: { path: fake, runtimeArgs: ['--debug'] } }));
    await Promise.all(Array.from({ length: 8 }, (_, i) => engine.start(`c${i}`, 'debug')));
    await Promise.all([engine.stop('c1'), engine.stop('c3'), engine.start('c9', 'debug'), engine.stop('c5')]);
    const saved = JSON.parse(await readFile(join(dir, 'state', 'containers.json'), 'utf8')) as { id: string }[];
    expect(saved.map((c) => c.id).sort()).toEqual(engine.list().map((c) => c.id).sort());
    expect(saved.map((c) => c.id).sort()).toEqual(['c0', 'c2', 'c4', 'c6', 'c7', 'c9']);
  });

  it('refuses to start with a wrapper that was changed on disk, and holds no lease after', async () => {
    const { store, engine } = await open(config({ debug: { path: fake, runtimeArgs: ['--debug'] } }));
    const wrapper = resolveRuntime(store.load().derived.runtimes, 'debug').program;
    await writeFile(wrapper, '#!/bin/sh\necho tampered\n');
    await expect(engine.start('c1', 'debug')).rejects.toMatchObject({ code: 'ERR_WRAPPER_INVALID' });
    expect(engine.list()).toEqual([]);
    const roots = (await store.collectGarbage({ dryRun: true })).entries.flatMap((entry) => entry.roots);
    expect(roots.map((root) => root.kind)).toEqual(['live']);
  });
});

describe('a daemon restart', () => {
  it('restores recorded containers with their leases, and removes every other leftover wrapper', async () => {
    const first = await open(config({ debug: { path: fake, runtimeArgs: ['--debug'] }, old: { path: fake, runtimeArgs: ['--old'] } }));
    const { container } = await first.engine.start('c1', 'debug');
    const oldWrapper = resolveRuntime(first.store.load().derived.runtimes, 'old').program;
    const saved = JSON.parse(await readFile(join(dir, 'state', 'containers.json'), 'utf8')) as unknown[];
    expect(saved).toEqual([container]);

    // The daemon goes away; a new one starts with a config that has neither runtime.
    const second = await open(config({}));
    expect(second.engine.list()).toEqual([container]);
    expect(await exists(container.program)).toBe(true);
    expect(await exists(oldWrapper)).toBe(false);
    await expect(second.engine.exec('c1', ['ps'])).resolves.toMatchObject({ stdout: '--debug\0exec\0c1\0ps\0' });
    const { gc } = await second.engine.stop('c1');
    expect(gc.removed.map((artifact) => artifact.path)).toEqual([container.program]);
    expect(JSON.parse(await readFile(join(dir, 'state', 'containers.json'), 'utf8'))).toEqual([]);
  });

  it('restores a state file written before token files, whose containers have no tokenFile', async () => {
    const first = await open(config({ debug: { path: fake, runtimeArgs: ['--debug'] } }));
    const { container } = await first.engine.start('c1', 'debug');
    // The record as it was written before containers had a tokenFile.
    const older = Object.fromEntries(Object.entries(container).filter(([key]) => key !== 'tokenFile'));
    await writeFile(join(dir, 'state', 'containers.json'), JSON.stringify([older]));
    const second = await open(config({}));
    expect(second.engine.list()).toEqual([{ ...older, tokenFile: null }]);
    await expect(second.engine.exec('c1', ['ps'])).resolves.toMatchObject({ stdout: '--debug\0exec\0c1\0ps\0' });
  });

  it.each([
    ['empty', ''],
    ['not JSON', '[{'],
    ['not a list', '{}'],
    ['a duplicate id', JSON.stringify([{ id: 'c1', runtime: 'runc', program: '/bin/true', artifact: null, generation: 1 }, { id: 'c1', runtime: 'runc', program: '/bin/true', artifact: null, generation: 1 }])],
    ['a program that is not its wrapper', JSON.stringify([{ id: 'c1', runtime: 'x', program: '/bin/sh', artifact: { name: 'x', digest: 'a'.repeat(64), path: '/tmp/x', size: 1 }, generation: 1 }])],
    ['a token file without a wrapper', JSON.stringify([{ id: 'c1', runtime: 'x', program: '/bin/sh', artifact: null, tokenFile: { name: 'x', digest: 'a'.repeat(64), path: '/tmp/x', size: 1 }, generation: 1 }])],
    ['a token file that is not an artifact', JSON.stringify([{ id: 'c1', runtime: 'runc', program: '/bin/true', artifact: null, tokenFile: 'x', generation: 1 }])],
  ])('refuses a state file that is %s with ERR_STATE_FILE', async (_what, text) => {
    await open(config({}));
    await writeFile(join(dir, 'state', 'containers.json'), text);
    await expect(open(config({}))).rejects.toMatchObject({ name: 'ContainerError', code: 'ERR_STATE_FILE' });
  });
});
