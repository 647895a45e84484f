/**
 * Issue 7, part 3: random interleavings of everything a daemon does with a store at
 * once, recorded as a history and checked. Shared by the default test (fewer runs) and
 * the soak run (many more).
 *
 * Every actor (reader, pinned reader, lease holder, reload of each kind, requestReload
 * burst, garbage collection, check) starts at a point the fast-check scheduler picks,
 * and pauses at scheduled points; the artifact store's file system calls are scheduled
 * too, so puts, verifies and deletions interleave at random. The history is checked as
 * it happens and at the end.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';

import fc from 'fast-check';
import { expect, it } from 'vitest';

import { type Artifact, ConfigStore, type FileSystem, FsArtifactStore, type Participant, ReloadError } from '../../src/index.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

const RUNTIME_POOL = ['alpha', 'beta', 'gamma', 'delta'] as const;
const ARGS_POOL = ['--debug', '--log /var/log/a b.log', "--label 'x'"] as const;

export const historySchema = {
  type: 'object',
  properties: {
    tag: { type: 'string', pattern: '^(ok|fail)-' },
    a: { type: 'object', properties: { tag: { type: 'string' } }, required: ['tag'], additionalProperties: false },
    b: {
      type: 'array',
      items: { type: 'object', properties: { tag: { type: 'string' } }, required: ['tag'], additionalProperties: false },
    },
    runtimes: { type: 'object', additionalProperties: { type: 'string' } },
  },
  required: ['tag', 'a', 'b', 'runtimes'],
  additionalProperties: false,
} as const;

interface HistoryConfig {
  tag: string;
  a: { tag: string };
  b: { tag: string }[];
  runtimes: Record<string, string>;
}

/** What a reload actor does. */
export type ReloadVariant = 'valid' | 'invalid' | 'fail-prepare' | 'unchanged' | 'abort' | 'rollback';

export type Op =
  | { readonly kind: 'reader'; readonly awaits: number }
  | { readonly kind: 'pinned-reader'; readonly awaits: number }
  | { readonly kind: 'lease'; readonly awaits: number; readonly pick: number }
  | { readonly kind: 'reload'; readonly variant: ReloadVariant; readonly runtimes: readonly number[]; readonly abortAfter: number }
  | { readonly kind: 'burst'; readonly configs: readonly { readonly valid: boolean; readonly runtimes: readonly number[] }[] }
  | { readonly kind: 'gc'; readonly dryRun: boolean }
  | { readonly kind: 'check' };

const runtimesArb = fc.array(fc.nat({ max: RUNTIME_POOL.length * ARGS_POOL.length - 1 }), { minLength: 1, maxLength: 3 });

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('reader' as const), awaits: fc.nat({ max: 6 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('pinned-reader' as const), awaits: fc.nat({ max: 10 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('lease' as const), awaits: fc.nat({ max: 10 }), pick: fc.nat() }) },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('reload' as const),
      variant: fc.constantFrom<ReloadVariant>('valid', 'valid', 'valid', 'invalid', 'fail-prepare', 'unchanged', 'abort', 'rollback'),
      runtimes: runtimesArb,
      abortAfter: fc.nat({ max: 6 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('burst' as const),
      configs: fc.array(fc.record({ valid: fc.boolean(), runtimes: runtimesArb }), { minLength: 1, maxLength: 6 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('gc' as const), dryRun: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'check' as const }) },
);

/** An operation and how many scheduled pauses its actor waits before it starts (spreads actors over the history). */
export interface TimedOp {
  readonly delay: number;
  readonly op: Op;
}

export const opsArb: fc.Arbitrary<TimedOp[]> = fc.array(fc.record({ delay: fc.nat({ max: 60 }), op: opArb }), {
  minLength: 8,
  maxLength: 40,
  size: 'max',
});

/** Figures summed over runs, for the report. */
export interface HistoryFigures {
  runs: number;
  ops: number;
  commits: number;
  rejected: number;
  reads: number;
  artifactChecks: number;
  collections: number;
  removed: number;
}

export function emptyFigures(): HistoryFigures {
  return { runs: 0, ops: 0, commits: 0, rejected: 0, reads: 0, artifactChecks: 0, collections: 0, removed: 0 };
}

function runtimesOf(picks: readonly number[]): Record<string, string> {
  const runtimes: Record<string, string> = {};
  for (const pick of picks) {
    runtimes[RUNTIME_POOL[pick % RUNTIME_POOL.length]!] = ARGS_POOL[Math.floor(pick / RUNTIME_POOL.length) % ARGS_POOL.length]!;
  }
  return runtimes;
}

function configOf(tag: string, picks: readonly number[]): HistoryConfig {
  return { tag, a: { tag }, b: [{ tag }, { tag }], runtimes: runtimesOf(picks) };
}

/** Runs one random history and checks it; throws (an assertion error) on a counterexample. */
export async function runHistory(s: fc.Scheduler, ops: readonly TimedOp[], figures: HistoryFigures): Promise<void> {
  const root = await makeTempDir('txconfig-history-');
  try {
    await check(s, ops, root, figures);
  } finally {
    await removeTempDir(root);
  }
}

async function check(s: fc.Scheduler, ops: readonly TimedOp[], root: string, figures: HistoryFigures): Promise<void> {
  let clock = 0;
  let scheduling = false;
  const pause = (label: string): Promise<void> => (scheduling ? s.schedule(Promise.resolve(), label) : Promise.resolve());
  // Every file system call of the artifact store is a scheduled pause followed by the
  // synchronous call, so the scheduler alone decides how puts, verifies and deletions
  // interleave (asynchronous I/O would let whoever does no I/O run ahead). fsync is only
  // a pause: durability is the crash test's business, interleavings are this one's.
  const artifacts = await FsArtifactStore.open(join(root, 'artifacts'), { fs: scheduledSyncFs(pause) });

  /** Generation → tag, recorded in a commit hook (the same turn as the swap). */
  const committed = new Map<number, string>();
  let lastCommitted = 0;
  // Set once the cold start returned the store.
  let liveGeneration: (() => number) | undefined = undefined;
  const rejectedTags = new Set<string>();
  const seenTags = new Set<string>();
  const history: string[] = [];
  const note = (event: string): void => {
    history.push(`${clock++} ${event}`);
  };

  const wrappers: Participant<HistoryConfig> = {
    name: 'wrappers',
    prepare: async ({ config, artifacts: out }) => {
      const written: Record<string, string> = {};
      for (const [name, args] of Object.entries(config.runtimes)) {
        await pause('prepare wrappers');
        written[name] = (await out.put(name, `#!/bin/sh\nexec /usr/bin/${name} ${args} "$@"\n`, { mode: 0o700 })).path;
      }
      if (config.tag.startsWith('fail-')) throw new Error(`participant refuses ${config.tag}`);
      return { derived: { tag: config.tag, written } };
    },
  };
  const mirror: Participant<HistoryConfig> = {
    name: 'mirror',
    prepare: async ({ config, generation }) => {
      await pause('prepare mirror');
      return {
        derived: { tag: config.tag },
        commit: () => {
          // Runs in the turn of the swap: the store already shows this generation.
          if (liveGeneration !== undefined) expect(liveGeneration()).toBe(generation);
          expect(generation).toBe(lastCommitted + 1);
          committed.set(generation, config.tag);
          lastCommitted = generation;
          note(`commit ${generation} ${config.tag}`);
        },
      };
    },
  };

  const store = await ConfigStore.create({
    schema: historySchema,
    initial: configOf('ok-initial', [0]),
    participants: [wrappers, mirror],
    artifacts,
  });
  liveGeneration = () => store.load().generation;
  const leases = new Set<{ artifact: Artifact; released: boolean }>();
  const pins = new Set<{ snapshot: { artifacts: readonly Artifact[] }; released: boolean }>();
  let events = 0;
  store.subscribe((event) => {
    events++;
    expect(event.snapshot.generation).toBe((event.previous?.generation ?? 0) + 1);
    expect(committed.get(event.snapshot.generation)).toBe((event.snapshot.config as HistoryConfig).tag);
  });

  /** Synchronously: every artifact held by the live snapshot, a pin or a lease is on disk with its bytes. */
  const checkHeld = (why: string): void => {
    const held = new Set<Artifact>(store.load().artifacts);
    for (const pin of pins) if (!pin.released) for (const a of pin.snapshot.artifacts) held.add(a);
    for (const lease of leases) if (!lease.released) held.add(lease.artifact);
    for (const artifact of held) {
      let digest: string;
      try {
        digest = createHash('sha256').update(fs.readFileSync(artifact.path)).digest('hex');
      } catch (error) {
        throw new Error(`${why}: held artifact ${artifact.path} is missing\n${history.join('\n')}`, { cause: error });
      }
      expect(digest, `${why}: held artifact ${artifact.path} changed`).toBe(artifact.digest);
      figures.artifactChecks++;
    }
  };

  /** A reader's view: every value it reads belongs to its snapshot's generation. */
  const readView = (snapshot: ReturnType<typeof store.load>, who: string): void => {
    const config = snapshot.config as HistoryConfig;
    const derived = snapshot.derived as { wrappers: { tag: string }; mirror: { tag: string } };
    const tag = committed.get(snapshot.generation);
    const values = [config.tag, config.a.tag, config.b[0]!.tag, config.b[1]!.tag, derived.wrappers.tag, derived.mirror.tag];
    expect(values, `${who} reads generation ${snapshot.generation}`).toEqual(values.map(() => tag));
    seenTags.add(config.tag);
    figures.reads++;
  };

  const reader = async (i: number, awaits: number, pinned: boolean): Promise<void> => {
    const pin = pinned ? store.pin() : undefined;
    const snapshot = pin?.snapshot ?? store.load();
    if (pin !== undefined) pins.add(pin);
    note(`reader ${i} starts on ${snapshot.generation}`);
    // A reader that starts after a commit sees that commit.
    expect(snapshot.generation, `reader ${i} starts after commit ${lastCommitted}`).toBe(lastCommitted);
    readView(snapshot, `reader ${i}`);
    for (let n = 0; n < awaits; n++) {
      await pause(`reader ${i}`);
      readView(snapshot, `reader ${i}`);
      if (pin !== undefined) checkHeld(`pinned reader ${i}`);
    }
    pin?.release();
  };

  const lease = async (i: number, awaits: number, pick: number): Promise<void> => {
    const snapshot = store.load();
    if (snapshot.artifacts.length === 0) return;
    const artifact = snapshot.artifacts[pick % snapshot.artifacts.length]!;
    // Leased straight from the live snapshot, in the same turn: it cannot be collected meanwhile.
    const held = artifacts.lease(artifact, `container ${i}`);
    leases.add(held);
    note(`lease ${i} on ${artifact.name}`);
    await artifacts.verify(artifact);
    for (let n = 0; n < awaits; n++) {
      await pause(`lease ${i}`);
      checkHeld(`lease ${i}`);
    }
    held.release();
  };

  const reload = async (i: number, op: Extract<Op, { kind: 'reload' }>): Promise<void> => {
    const tag = `${op.variant === 'invalid' ? 'bad' : op.variant === 'fail-prepare' ? 'fail' : 'ok'}-${i}`;
    const next = configOf(tag, op.runtimes);
    note(`reload ${i} ${op.variant} ${tag}`);
    switch (op.variant) {
      case 'valid': {
        const result = await store.reload(next);
        expect(result.status).toBe('applied');
        expect(committed.get(result.snapshot.generation)).toBe(tag);
        return;
      }
      case 'unchanged': {
        // A recipe that rebuilds a subtree with equal content: a new object, the same config.
        const result = await store.reload((draft) => {
          draft.a = { tag: draft.a.tag };
        });
        expect(result.status).toBe('unchanged');
        return;
      }
      case 'invalid':
      case 'fail-prepare': {
        const error = await store.reload(next).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ReloadError);
        expect((error as ReloadError).code).toBe(op.variant === 'invalid' ? 'ERR_VALIDATION' : 'ERR_PREPARE');
        rejectedTags.add(tag);
        figures.rejected++;
        return;
      }
      case 'abort': {
        const controller = new AbortController();
        const running = store.reload(next, { signal: controller.signal });
        for (let n = 0; n < op.abortAfter; n++) await pause(`abort ${i}`);
        controller.abort(new Error(`abort ${i}`));
        const outcome = await running.then(
          (result) => result,
          (e: unknown) => e,
        );
        if (outcome instanceof ReloadError) {
          expect(outcome.code).toBe('ERR_ABORTED');
          rejectedTags.add(tag);
        } else {
          expect((outcome as { status: string }).status).toBe('applied');
        }
        return;
      }
      case 'rollback': {
        const txn = await store.begin();
        txn.set(next);
        const prepared = await txn.prepare();
        await pause(`rollback ${i}`);
        await prepared.rollback();
        rejectedTags.add(tag);
        return;
      }
    }
  };

  let bursts = 0;
  let loads = 0;
  const burst = async (i: number, configs: Extract<Op, { kind: 'burst' }>['configs']): Promise<void> => {
    bursts++;
    const outcomes = await Promise.all(
      configs.map((c, j) => {
        const tag = `${c.valid ? 'ok' : 'bad'}-${i}.${j}`;
        return store.requestReload(async () => {
          loads++;
          if (!c.valid) rejectedTags.add(tag);
          await pause(`load ${i}.${j}`);
          return configOf(tag, c.runtimes);
        });
      }),
    );
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect(outcome.error.code).toBe('ERR_VALIDATION');
    }
    // Coalescing: a burst starts at most one run and queues at most one more.
    expect(loads).toBeLessThanOrEqual(2 * bursts);
  };

  const gc = async (dryRun: boolean): Promise<void> => {
    const report = await store.collectGarbage({ dryRun });
    figures.collections++;
    if (!dryRun) figures.removed += report.removed.length;
    checkHeld('after a collection');
  };

  scheduling = true;
  const actors = ops.map(async ({ delay, op }, i) => {
    for (let n = 0; n <= delay; n++) await pause(`start ${i} ${op.kind}`);
    switch (op.kind) {
      case 'reader':
        return reader(i, op.awaits, false);
      case 'pinned-reader':
        return reader(i, op.awaits, true);
      case 'lease':
        return lease(i, op.awaits, op.pick);
      case 'reload':
        return reload(i, op);
      case 'burst':
        return burst(i, op.configs);
      case 'gc':
        return gc(op.dryRun);
      case 'check':
        checkHeld('check');
        return undefined;
    }
  });
  const settled = await s.waitFor(Promise.allSettled(actors));
  scheduling = false;
  for (const result of settled) if (result.status === 'rejected') throw result.reason;

  // The history as a whole.
  const generations = [...committed.keys()];
  expect(generations).toEqual(generations.map((_, index) => index + 1));
  for (const tag of committed.values()) expect(rejectedTags.has(tag), `rejected ${tag} was committed`).toBe(false);
  for (const tag of seenTags) expect(rejectedTags.has(tag), `rejected ${tag} was seen`).toBe(false);
  // Every config tagged bad- or fail- is refused by construction: none may ever show.
  for (const tag of [...committed.values(), ...seenTags]) expect(tag).toMatch(/^ok-/);
  expect(events).toBe(committed.size - 1);
  expect(store.status().pinnedGenerations).toEqual([]);
  const status = store.status();
  expect(status.counters.applied + status.counters.failed).toBe(committed.size);
  expect(status.generation).toBe(lastCommitted);
  checkHeld('at the end');
  // Nothing held but the live snapshot: a collection leaves exactly its artifacts, intact.
  await store.collectGarbage();
  const live = store.load().artifacts.map((a) => a.path).sort();
  expect((await artifacts.list()).map((a) => a.path).sort()).toEqual([...new Set(live)]);
  for (const artifact of store.load().artifacts) await artifacts.verify(artifact);

  figures.runs++;
  figures.ops += ops.length;
  figures.commits += committed.size - 1;
}

/** A {@link FileSystem} for the artifact store whose every call is `pause`, then Node's synchronous call. */
function scheduledSyncFs(pause: (label: string) => Promise<void>): Partial<FileSystem> {
  const step =
    <A extends unknown[], R>(name: string, fn: (...args: A) => R) =>
    async (...args: A): Promise<R> => {
      await pause(`fs ${name}`);
      return fn(...args);
    };
  return {
    open: step('open', (path: string, flags: number, mode?: number) => fs.openSync(path, flags, mode)),
    write: step('write', (fd: number, buffer: Uint8Array, offset: number, length: number, position: number) => ({
      bytesWritten: fs.writeSync(fd, buffer, offset, length, position),
    })),
    read: step('read', (fd: number, buffer: Uint8Array, offset: number, length: number, position: number) => ({
      bytesRead: fs.readSync(fd, buffer, offset, length, position),
    })),
    fstat: step('fstat', (fd: number) => fs.fstatSync(fd)),
    fchmod: step('fchmod', (fd: number, mode: number) => {
      fs.fchmodSync(fd, mode);
    }),
    fsync: step('fsync', () => undefined),
    close: step('close', (fd: number) => {
      fs.closeSync(fd);
    }),
    link: step('link', (from: string, to: string) => {
      fs.linkSync(from, to);
    }),
    unlink: step('unlink', (path: string) => {
      fs.unlinkSync(path);
    }),
    lstat: step('lstat', (path: string) => fs.lstatSync(path)),
    readdir: step('readdir', (path: string) => fs.readdirSync(path)),
    mkdir: step('mkdir', (path: string, options: { readonly recursive: true; readonly mode: number }) => fs.mkdirSync(path, options)),
    chmod: step('chmod', (path: string, mode: number) => {
      fs.chmodSync(path, mode);
    }),
  };
}

/**
 * Defines the test that runs `runs` random histories through fast-check and prints the
 * figures; shared by test/reliability/history.test.ts and the soak.
 */
export function defineHistoryTest(runs: number, timeoutMs: number, label: string): void {
  it(`holds every history invariant over ${runs} random interleavings`, { timeout: timeoutMs }, async () => {
    const figures = emptyFigures();
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), opsArb, async (s, ops) => {
        await runHistory(s, ops, figures);
      }),
      { numRuns: runs },
    );
    console.log(
      `${label}: ${figures.runs} cases, ${figures.ops} operations, ${figures.commits} commits, ${figures.rejected} rejected reloads, ` +
        `${figures.reads} consistent reads, ${figures.artifactChecks} held-artifact checks, ${figures.collections} collections removing ${figures.removed} files`,
    );
    expect(figures.runs).toBeGreaterThanOrEqual(runs);
  });
}
