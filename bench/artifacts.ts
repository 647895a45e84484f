// Question 4: artifacts. Re-applying an unchanged config that references 1,000
// artifacts, against rewriting the 1,000 files with write-file-atomic; a reload that
// changed something else (the participant puts all 1,000 again); and `put` of new
// 4 KiB artifacts against `cacache.put`. Files are on the real disk (os.tmpdir()), with
// the fsyncs each library does.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as cacache from 'cacache';
import fse from 'fs-extra';
import { ConfigStore, FsArtifactStore, type FileSystem, type Participant } from 'txconfig';
import writeFileAtomic from 'write-file-atomic';
import { figure, type Figure } from './figure.js';
import { timeOf, timeTasks } from './measure.js';

export const ARTIFACTS = 1000;
/** New artifacts per timed call of the `put` comparison. */
const PUTS_PER_CALL = 100;

const schema = {
  type: 'object',
  properties: {
    revision: { type: 'integer' },
    runtimes: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: { path: { type: 'string' }, args: { type: 'array', items: { type: 'string' } } },
        required: ['path', 'args'],
        additionalProperties: false,
      },
    },
  },
  required: ['revision', 'runtimes'],
  additionalProperties: false,
} as const;

interface Runtime {
  path: string;
  args: string[];
}

interface RuntimesConfig {
  revision: number;
  runtimes: Record<string, Runtime>;
}

function runtimesConfig(revision: number): RuntimesConfig {
  const runtimes: Record<string, Runtime> = {};
  for (let i = 0; i < ARTIFACTS; i++) runtimes[`rt${String(i).padStart(4, '0')}`] = { path: '/usr/bin/runc', args: ['--debug', '--log', `/var/log/rt-${i}.log`] };
  return { revision, runtimes };
}

/** The wrapper script of a runtime, as in examples/runtime-wrapper (single-quoted arguments). */
function wrapperScript(runtime: { readonly path: string; readonly args: readonly string[] }): string {
  const quote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh\nexec ${[runtime.path, ...runtime.args].map(quote).join(' ')} "$@"\n`;
}

/** Counts the data writes the artifact store makes, through its `fs` seam. */
class WriteCounter {
  writes = 0;
  readonly fs: Partial<FileSystem> = {
    write: (fd, buffer, offset, length, position) => {
      this.writes++;
      return fse.write(fd, buffer, offset, length, position);
    },
  };
}

/** Every runtime of the config gets a wrapper script artifact, put on every prepare (so it is a GC root of the new snapshot). */
const wrappers: Participant<RuntimesConfig, 'wrappers', Record<string, string>> = {
  name: 'wrappers',
  async prepare(ctx) {
    const paths: Record<string, string> = {};
    for (const [name, runtime] of Object.entries(ctx.config.runtimes)) {
      paths[name] = (await ctx.artifacts.put(`wrap-${name}`, wrapperScript(runtime), { mode: 0o700 })).path;
    }
    return { derived: paths };
  },
};

export async function benchArtifacts(): Promise<Figure[]> {
  const root = await mkdtemp(join(tmpdir(), 'txconfig-bench-artifacts-'));
  try {
    return await run(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function run(root: string): Promise<Figure[]> {
  const counter = new WriteCounter();
  const artifacts = await FsArtifactStore.open(join(root, 'txconfig'), { fs: counter.fs });
  const text = JSON.stringify(runtimesConfig(1));
  const store = await ConfigStore.create({ schema, initial: JSON.parse(text) as unknown, participants: [wrappers], artifacts });
  if (store.load().artifacts.length !== ARTIFACTS) throw new Error(`artifacts: expected ${ARTIFACTS} artifacts, got ${store.load().artifacts.length}`);

  const wfaDir = join(root, 'write-file-atomic');
  await mkdir(wfaDir);
  const config = runtimesConfig(1);
  const rewriteAll = async (): Promise<void> => {
    for (const [name, runtime] of Object.entries(config.runtimes)) await writeFileAtomic(join(wfaDir, `wrap-${name}`), wrapperScript(runtime), { mode: 0o700 });
  };
  await rewriteAll();

  // Unchanged: the same file content, parsed anew, re-applied.
  counter.writes = 0;
  let unchanged = 0;
  let calls = 0;
  let input: unknown;
  let revision = 1;
  const unchangedTimes = await timeTasks(
    [
      {
        name: 'txconfig',
        options: { beforeEach: () => { input = JSON.parse(text); } },
        fn: async () => {
          calls++;
          if ((await store.reload(input as RuntimesConfig)).status === 'unchanged') unchanged++;
        },
      },
      { name: 'write-file-atomic', fn: rewriteAll },
    ],
    { rounds: 3, time: 0, iterations: 3, warmupTime: 0, warmupIterations: 1 },
  );
  if (unchanged !== calls) throw new Error(`artifacts: ${calls - unchanged} of ${calls} unchanged reloads were not unchanged`);
  const unchangedWrites = counter.writes;
  const replaced = await countReplaced(wfaDir, rewriteAll);

  // Changed elsewhere: the participant puts all 1,000 artifacts again; their content is unchanged.
  counter.writes = 0;
  let reputs = 0;
  const changedTimes = await timeTasks(
    [
      {
        name: 'txconfig',
        options: { beforeEach: () => { input = runtimesConfig(++revision); } },
        fn: async () => {
          if ((await store.reload(input as RuntimesConfig)).status === 'applied') reputs++;
        },
      },
      { name: 'write-file-atomic', fn: rewriteAll },
    ],
    { rounds: 1, time: 0, iterations: 2, warmupTime: 0, warmupIterations: 1 },
  );
  const reputWrites = counter.writes / reputs;

  // New 4 KiB artifacts: txconfig's put against cacache.put.
  const cacheDir = join(root, 'cacache');
  let next = 0;
  const fresh = (): Buffer[] => Array.from({ length: PUTS_PER_CALL }, () => randomBytes(4096));
  let contents: Buffer[] = [];
  const putTimes = await timeTasks(
    [
      {
        name: 'txconfig',
        opsPerCall: PUTS_PER_CALL,
        options: { beforeEach: () => { contents = fresh(); } },
        fn: async () => {
          for (const content of contents) await artifacts.put(`blob-${next++}`, content);
        },
      },
      {
        name: 'cacache',
        opsPerCall: PUTS_PER_CALL,
        options: { beforeEach: () => { contents = fresh(); } },
        fn: async () => {
          for (const content of contents) await cacache.put(cacheDir, `blob-${next++}`, content);
        },
      },
    ],
    { rounds: 3, time: 0, iterations: 3, warmupTime: 0, warmupIterations: 1 },
  );

  const ms = (times: ReadonlyMap<string, number>, name: string): number => timeOf(times, name);
  const wfa = `write-file-atomic 7: rewrite ${ARTIFACTS} files`;
  return [
    figure({ id: 'artifacts.unchanged.time', question: 4, name: `re-apply unchanged config (${ARTIFACTS} artifacts)`, value: ms(unchangedTimes, 'txconfig'), unit: 'ms', baseline: wfa, baselineValue: ms(unchangedTimes, 'write-file-atomic'), target: { of: 'ratio', op: '<=', limit: 0.1 } }),
    figure({ id: 'artifacts.unchanged.writes', question: 4, name: `re-apply unchanged config: files written (${calls} reloads)`, value: unchangedWrites, unit: 'writes', baseline: `${wfa} (files replaced, one run)`, baselineValue: replaced, target: { of: 'value', op: '<=', limit: 0 } }),
    figure({ id: 'artifacts.reput.time', question: 4, name: `reload, other leaf changed: re-put ${ARTIFACTS} unchanged artifacts`, value: ms(changedTimes, 'txconfig'), unit: 'ms', baseline: wfa, baselineValue: ms(changedTimes, 'write-file-atomic') }),
    figure({ id: 'artifacts.reput.writes', question: 4, name: `reload, other leaf changed: write() calls per reload`, value: reputWrites, unit: 'writes', baseline: `${wfa} (files replaced, one run)`, baselineValue: replaced }),
    figure({ id: 'artifacts.put-4k', question: 4, name: 'put a new 4 KiB artifact', value: ms(putTimes, 'txconfig'), unit: 'ms/put', baseline: 'cacache 20: cacache.put', baselineValue: ms(putTimes, 'cacache') }),
  ];
}

/** Runs `rewrite` and counts the files of `dir` whose inode changed (replaced by a rename). */
async function countReplaced(dir: string, rewrite: () => Promise<void>): Promise<number> {
  const names = await readdir(dir);
  const before = new Map(await Promise.all(names.map(async (name) => [name, (await stat(join(dir, name))).ino] as const)));
  await rewrite();
  let replaced = 0;
  for (const name of names) if ((await stat(join(dir, name))).ino !== before.get(name)) replaced++;
  return replaced;
}
