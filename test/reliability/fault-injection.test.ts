// Issue 7, part 1: fault injection at every fallible step of a representative reload.
//
// A clean run counts the fallible steps N (config file calls and parse, validation, each
// participant's prepare, every fs call of every artifact write). Then, for k = 1..N, a
// fresh daemon state runs the same reload with step k failing, and the test checks that
// the daemon is never half-configured: same live object, no commit hook, earlier
// participants rolled back in reverse, every artifact on disk intact, no temporary file
// after re-opening, a counted failure with the right code, and a clean retry that works.
// Then the same loop aborting a signal at step k, and faults inside rollback and commit
// hooks. docs/reliability.md lists the steps and the figures.
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  ArtifactError,
  ConfigStore,
  FsArtifactStore,
  readConfigFile,
  ReloadError,
  type Participant,
  type ReloadResult,
  type StandardSchemaV1,
} from '../../src/index.js';
import { FaultPlan, faultyArtifactFs, faultyConfigFs, InjectedFault } from '../helpers/fault-plan.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

interface Runtime {
  readonly path: string;
  readonly args: readonly string[];
}
interface Cfg {
  readonly port: number;
  readonly runtimes: Readonly<Record<string, Runtime>>;
}

// Generation 1, then the reload under test: `keep` stays (its wrapper is reused),
// `change` gets new arguments (a new wrapper), `plain` goes, `added` comes (a new wrapper).
const GEN1: Cfg = {
  port: 8080,
  runtimes: {
    keep: { path: '/usr/bin/runc', args: ['--debug'] },
    change: { path: '/usr/bin/crun', args: ['--log', '/var/log/a.log'] },
    plain: { path: '/usr/bin/youki', args: [] },
  },
};
const GEN2: Cfg = {
  port: 8081,
  runtimes: {
    keep: { path: '/usr/bin/runc', args: ['--debug'] },
    change: { path: '/usr/bin/crun', args: ['--log', '/var/log/b.log'] },
    added: { path: '/usr/bin/runsc', args: ['--platform', 'ptrace'] },
  },
};
const GEN3: Cfg = { ...GEN2, port: 8082 };

const PARTICIPANTS = ['listener', 'wrappers', 'audit'] as const;

function isCfg(value: unknown): value is Cfg {
  if (typeof value !== 'object' || value === null) return false;
  const { port, runtimes } = value as Partial<Cfg>;
  if (typeof port !== 'number' || typeof runtimes !== 'object') return false;
  return Object.values(runtimes).every((r) => typeof r.path === 'string' && Array.isArray(r.args));
}

function script(runtime: Runtime): string {
  return `#!/bin/sh\nexec ${[runtime.path, ...runtime.args].map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(' ')} "$@"\n`;
}

/** One daemon's state on a fresh temporary directory, at generation 1, with GEN2 in its config file. */
interface Daemon {
  readonly root: string;
  readonly dir: string;
  readonly configPath: string;
  readonly plan: FaultPlan;
  readonly journal: string[];
  /** Participants whose rollback (or commit hook) throws. */
  readonly failRollback: Set<string>;
  readonly failCommit: Set<string>;
  readonly store: ConfigStore<Cfg, Record<string, unknown>, Cfg>;
  readonly artifacts: FsArtifactStore;
  reload(): Promise<ReloadResult<Cfg>>;
  /** Reads the file and reloads directly, both with `signal`. */
  reloadWith(signal: AbortSignal): Promise<unknown>;
}

async function daemon(): Promise<Daemon> {
  const plan = new FaultPlan();
  const root = await makeTempDir('txconfig-fault-');
  const dir = join(root, 'artifacts');
  const configPath = join(root, 'config.json');
  const journal: string[] = [];
  const failRollback = new Set<string>();
  const failCommit = new Set<string>();

  const schema: StandardSchemaV1<Cfg, Cfg> = {
    '~standard': {
      version: 1,
      vendor: 'fault-injection',
      validate: (value) => {
        const fault = plan.hit('validate');
        if (fault !== undefined) return { issues: [{ message: fault.message, path: ['port'] }] };
        return isCfg(value) ? { value } : { issues: [{ message: 'not a config' }] };
      },
    },
  };

  // A participant that acquires something in prepare (a socket, a pool) and must give it back.
  const resource = (name: string): Participant<Cfg> => ({
    name,
    prepare: ({ config }) => {
      plan.step(`${name}.prepare`);
      journal.push(`${name}.prepared`);
      return hooks(name, { port: config.port });
    },
  });
  const hooks = (name: string, derived: unknown) => ({
    derived,
    commit: () => {
      journal.push(`${name}.commit`);
      if (failCommit.has(name)) throw new InjectedFault(`${name}.commit`);
    },
    rollback: async () => {
      await Promise.resolve();
      journal.push(`${name}.rollback`);
      if (failRollback.has(name)) throw new InjectedFault(`${name}.rollback`);
    },
  });
  // Writes a wrapper script per runtime with arguments, as the runtime-wrapper plugin does.
  const wrappers: Participant<Cfg> = {
    name: 'wrappers',
    prepare: async ({ config, artifacts }) => {
      plan.step('wrappers.prepare');
      const programs: Record<string, string> = {};
      for (const [name, runtime] of Object.entries(config.runtimes)) {
        programs[name] = runtime.args.length === 0 ? runtime.path : (await artifacts.put(name, script(runtime), { mode: 0o700 })).path;
      }
      journal.push('wrappers.prepared');
      return hooks('wrappers', programs);
    },
  };

  await writeFile(configPath, JSON.stringify(GEN1));
  const artifacts = await FsArtifactStore.open(dir, { fs: faultyArtifactFs(plan) });
  const store = await ConfigStore.create({
    schema,
    initial: await readConfigFile(configPath),
    participants: [resource('listener'), wrappers, resource('audit')],
    artifacts,
  });
  await writeFile(configPath, JSON.stringify(GEN2));
  journal.length = 0;
  const configFs = faultyConfigFs(plan);
  return {
    root,
    dir,
    configPath,
    plan,
    journal,
    failRollback,
    failCommit,
    store,
    artifacts,
    reload: () => store.requestReload(() => readConfigFile(configPath, { fs: configFs })),
    reloadWith: async (signal) => store.reload((await readConfigFile(configPath, { fs: configFs, signal })) as unknown as Cfg, { signal }),
  };
}

/** Every artifact file verifies, the live snapshot's are there, and re-opening leaves no temporary file. */
async function expectArtifactsIntact(d: Daemon): Promise<number> {
  const reopened = await FsArtifactStore.open(d.dir);
  expect((await readdir(d.dir)).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  const files = await reopened.list();
  for (const artifact of files) await reopened.verify(artifact);
  for (const artifact of d.store.load().artifacts) await reopened.verify(artifact);
  return files.length;
}

/** A reload with nothing failing applies GEN2 on top of whatever the daemon holds. */
async function expectCleanRetry(d: Daemon, generation: number): Promise<void> {
  const appliedBefore = d.store.status().counters.applied;
  d.journal.length = 0;
  const retry = await d.reload();
  expect(retry.status).toBe('applied');
  expect(d.store.load().generation).toBe(generation + 1);
  expect(d.store.load().config).toEqual(GEN2);
  expect(d.journal.filter((e) => e.endsWith('.commit'))).toEqual(PARTICIPANTS.map((p) => `${p}.commit`));
  const status = d.store.status();
  expect(status.counters.applied).toBe(appliedBefore + 1);
  expect(status.lastReloadSuccessful).toBe(true);
  await expectArtifactsIntact(d);
}

/** What a failure at `step` must end as. `null`: the step's failure is tolerated and the reload applies. */
function expectedCode(step: string): { code: string; causeCode: string | null } | null {
  if (step === 'config close' || step === 'artifact unlink (temporary file) after reuse') return null;
  if (step === 'config parse (half-written file)') return { code: 'ERR_LOAD', causeCode: 'ERR_PARSE' };
  if (step.startsWith('config ')) return { code: 'ERR_LOAD', causeCode: 'ERR_FILE_ACCESS' };
  if (step === 'validate') return { code: 'ERR_VALIDATION', causeCode: 'ERR_VALIDATION' };
  if (step.startsWith('artifact ')) return { code: 'ERR_PREPARE', causeCode: 'ERR_ARTIFACT_IO' };
  return { code: 'ERR_PREPARE', causeCode: null };
}

const daemons: Daemon[] = [];
async function fresh(): Promise<Daemon> {
  const d = await daemon();
  daemons.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(daemons.map((d) => removeTempDir(d.root)));
});

describe('fault injection at every fallible step of a reload', () => {
  let steps: string[] = [];
  beforeAll(async () => {
    const d = await fresh();
    d.plan.arm(0);
    const outcome = await d.reload();
    d.plan.disarm();
    expect(outcome.status).toBe('applied');
    steps = [...d.plan.steps];
  });

  it('counts the fallible steps of a clean reload', () => {
    // 5 config-file steps (a short read is the end: no read that returns 0), validation,
    // 3 prepares, 1 reused wrapper of 9 fs calls, 2 new wrappers of 11.
    expect(steps.length).toBe(40);
    expect(steps.slice(0, 7)).toEqual([
      'config open',
      'config fstat',
      'config read',
      'config parse (half-written file)',
      'config close',
      'validate',
      'listener.prepare',
    ]);
    expect(steps.filter((s) => s.startsWith('artifact '))).toHaveLength(31);
    expect(steps.at(-1)).toBe('audit.prepare');
    console.log(`fault injection: N = ${steps.length} fallible steps:\n  ${steps.map((s, i) => `${i + 1}. ${s}`).join('\n  ')}`);
  });

  it('fails each step k = 1..N in turn: never half-configured, always recoverable', { timeout: 120_000 }, async () => {
    const tolerated: string[] = [];
    for (let k = 1; k <= steps.length; k++) {
      const d = await fresh();
      const before = d.store.load();
      const statusBefore = d.store.status();
      d.plan.arm(k);
      const outcome = await d.reload();
      d.plan.disarm();
      const step = d.plan.failed?.step;
      expect(step, `step ${k}`).toBe(steps[k - 1]);
      const expected = expectedCode(step!);

      if (expected === null) {
        tolerated.push(step!);
        expect(outcome.status, `step ${k} (${step}) is tolerated`).toBe('applied');
        expect(d.store.load().config).toEqual(GEN2);
        expect(d.journal.filter((e) => e.endsWith('.commit'))).toEqual(PARTICIPANTS.map((p) => `${p}.commit`));
        await expectArtifactsIntact(d);
        continue;
      }

      // The live snapshot is the very same object, and nothing switched.
      expect(outcome.status, `step ${k} (${step})`).toBe('rejected');
      expect(d.store.load()).toBe(before);
      expect(d.journal.filter((e) => e.endsWith('.commit'))).toEqual([]);
      // Every participant that had prepared was rolled back, in reverse order, and only those.
      const prepared = d.journal.filter((e) => e.endsWith('.prepared')).map((e) => e.slice(0, -'.prepared'.length));
      const rolledBack = d.journal.filter((e) => e.endsWith('.rollback')).map((e) => e.slice(0, -'.rollback'.length));
      expect(rolledBack, `step ${k} (${step})`).toEqual([...prepared].reverse());

      // A typed error with the right code, carrying the injected fault, and counted.
      const error = (outcome as { error: ReloadError }).error;
      expect(error).toBeInstanceOf(ReloadError);
      expect(error.code).toBe(expected.code);
      const first = error.failures[0]!;
      if (step!.startsWith('artifact ')) {
        expect(first).toMatchObject({ participant: 'wrappers', phase: 'prepare' });
        expect(first.error).toBeInstanceOf(ArtifactError);
        expect((first.error as ArtifactError).cause).toBe(d.plan.failed);
      } else if (step!.endsWith('.prepare')) {
        expect(first).toMatchObject({ participant: step!.slice(0, -'.prepare'.length), phase: 'prepare', error: d.plan.failed });
      }
      const status = d.store.status();
      expect(status.counters.rejected).toBe(statusBefore.counters.rejected + 1);
      expect(status.counters.applied).toBe(statusBefore.counters.applied);
      expect(status.generation).toBe(before.generation);
      expect(status.lastReloadSuccessful).toBe(false);
      expect(status.lastError).toMatchObject({ code: expected.code });
      if (expected.code === 'ERR_LOAD') expect(status.lastError?.causeCode).toBe(expected.causeCode);

      // Whatever the write left on disk is complete; re-opening removes every temporary file.
      await expectArtifactsIntact(d);
      await expectCleanRetry(d, before.generation);
    }
    // One step fails without failing the reload, by design: closing the config file after
    // a complete read. (Reusing an existing wrapper writes no temporary file at all.)
    expect(tolerated).toEqual(['config close']);
  });

  it('keeps rolling back the others when a rollback hook throws, and reports every failure', { timeout: 120_000 }, async () => {
    let runs = 0;
    for (let k = 1; k <= steps.length; k++) {
      // Only steps after the first participant prepared have anything to roll back.
      if (steps.indexOf('listener.prepare') >= k - 1 || expectedCode(steps[k - 1]!) === null) continue;
      for (const broken of ['listener', 'wrappers']) {
        const d = await fresh();
        d.failRollback.add(broken);
        const before = d.store.load();
        d.plan.arm(k);
        const outcome = await d.reload();
        d.plan.disarm();
        const prepared = d.journal.filter((e) => e.endsWith('.prepared')).map((e) => e.slice(0, -'.prepared'.length));
        if (!prepared.includes(broken)) continue;
        runs++;
        expect(outcome.status).toBe('rejected');
        expect(d.store.load()).toBe(before);
        expect(d.journal.filter((e) => e.endsWith('.commit'))).toEqual([]);
        expect(d.journal.filter((e) => e.endsWith('.rollback'))).toEqual([...prepared].reverse().map((p) => `${p}.rollback`));
        const error = (outcome as { error: ReloadError }).error;
        expect(error.code).toBe('ERR_PREPARE');
        expect(error.failures.at(-1)).toMatchObject({ participant: broken, phase: 'rollback' });
        expect(error.failures.filter((f) => f.phase === 'rollback')).toHaveLength(1);
        expect(d.store.status().lastError?.code).toBe('ERR_PREPARE');
        await expectArtifactsIntact(d);
        d.failRollback.clear();
        await expectCleanRetry(d, before.generation);
      }
    }
    console.log(`fault injection: ${runs} runs with a failing rollback hook on top of a failing step`);
    expect(runs).toBeGreaterThan(30);
  });

  it('aborts at each step k = 1..N in turn: nothing switches, the abort is not counted as a failure', { timeout: 120_000 }, async () => {
    const where = { reading: 0, reloading: 0 };
    for (let k = 1; k <= steps.length; k++) {
      const d = await fresh();
      const before = d.store.load();
      const statusBefore = d.store.status();
      const controller = new AbortController();
      const reason = new Error(`aborted at step ${k}`);
      d.plan.arm(k, () => {
        controller.abort(reason);
      });
      const error = await d.reloadWith(controller.signal).then(
        () => undefined,
        (e: unknown) => e,
      );
      d.plan.disarm();
      expect(d.plan.failed?.step, `step ${k}`).toBe(steps[k - 1]);
      expect(d.store.load()).toBe(before);
      expect(d.journal.filter((e) => e.endsWith('.commit'))).toEqual([]);
      const prepared = d.journal.filter((e) => e.endsWith('.prepared')).map((e) => e.slice(0, -'.prepared'.length));
      expect(d.journal.filter((e) => e.endsWith('.rollback'))).toEqual([...prepared].reverse().map((p) => `${p}.rollback`));
      const status = d.store.status();
      if (error === reason) {
        // Aborted while reading the file: the store was never asked.
        where.reading++;
        expect(status.counters).toEqual(statusBefore.counters);
      } else {
        where.reloading++;
        expect(error).toBeInstanceOf(ReloadError);
        expect((error as ReloadError).code).toBe('ERR_ABORTED');
        expect(status.counters.aborted).toBe(statusBefore.counters.aborted + 1);
        expect(status.counters.rejected).toBe(statusBefore.counters.rejected);
        expect(status.lastReloadSuccessful).toBe(true);
      }
      await expectArtifactsIntact(d);
      await expectCleanRetry(d, before.generation);
    }
    console.log(`fault injection: aborted at each of ${steps.length} steps: ${where.reading} while reading the file, ${where.reloading} in the reload`);
    expect(where.reading + where.reloading).toBe(steps.length);
  });

  it('keeps the swap and runs every other commit hook when one throws; the status says so until a clean reload', async () => {
    for (const broken of PARTICIPANTS) {
      const d = await fresh();
      d.failCommit.add(broken);
      const before = d.store.load();
      const outcome = await d.reload();
      expect(outcome.status).toBe('applied');
      expect(outcome.error?.code).toBe('ERR_COMMIT');
      expect(outcome.error?.failures).toMatchObject([{ participant: broken, phase: 'commit' }]);
      expect(d.store.load()).not.toBe(before);
      expect(d.store.load().config).toEqual(GEN2);
      expect(d.journal.filter((e) => e.endsWith('.commit'))).toEqual(PARTICIPANTS.map((p) => `${p}.commit`));
      expect(d.journal.filter((e) => e.endsWith('.rollback'))).toEqual([]);
      const status = d.store.status();
      expect(status.counters.failed).toBe(1);
      expect(status.lastReloadSuccessful).toBe(false);
      expect(status.lastError?.code).toBe('ERR_COMMIT');
      await expectArtifactsIntact(d);

      d.failCommit.clear();
      await writeFile(d.configPath, JSON.stringify(GEN3));
      const retry = await d.reload();
      expect(retry).toMatchObject({ status: 'applied' });
      expect(retry.error).toBeUndefined();
      expect(d.store.status().lastReloadSuccessful).toBe(true);
    }
  });
});
