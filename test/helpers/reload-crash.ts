/**
 * The crash loop of issue 7, part 2, shared by the default test and the soak: a daemon
 * (test/helpers/reload-crash-child.js: the built package and the built runtime-wrapper
 * plugin) reloads, writes wrappers, starts and stops containers and collects garbage
 * until it is killed with SIGKILL at a random moment. After each kill the test restarts
 * as the daemon would, with the keep-list of the containers still running, and checks
 * that nothing a container uses is missing and nothing corrupt or temporary remains.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { lstat, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { runtimeConfigSchema, runtimeWrappers } from '../../examples/runtime-wrapper/plugin.js';
import { type Artifact, ConfigStore, FsArtifactStore, readConfigFile } from '../../src/index.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const child = join(here, 'reload-crash-child.js');

export interface CrashFigures {
  kills: number;
  killsDuringReload: number;
  killsDuringWrite: number;
  killsLeavingTemp: number;
  tempFilesLeft: number;
  containersKept: number;
  artifactsVerified: number;
  unkeptRemoved: number;
  restarts: number;
}

/** The child imports the built package and the built plugin: build what is missing or stale. */
export function ensureBuilt(): void {
  expect(existsSync(join(repo, 'dist', 'index.js')), 'the crash test runs the built package: `npm run build` first (npm test does)').toBe(true);
  const source = join(repo, 'examples', 'runtime-wrapper', 'plugin.ts');
  const built = join(repo, 'build', 'examples', 'runtime-wrapper', 'plugin.js');
  if (!existsSync(built) || statSync(built).mtimeMs < statSync(source).mtimeMs) {
    execFileSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(repo, 'tsconfig.examples.json')], { cwd: repo });
  }
}

export async function crashLoop(stateDir: string, kills: number): Promise<CrashFigures> {
  const figures: CrashFigures = {
    kills: 0,
    killsDuringReload: 0,
    killsDuringWrite: 0,
    killsLeavingTemp: 0,
    tempFilesLeft: 0,
    containersKept: 0,
    artifactsVerified: 0,
    unkeptRemoved: 0,
    restarts: 0,
  };
  const dir = join(stateDir, 'artifacts');
  await writeFile(join(stateDir, 'config.json'), JSON.stringify({ 'default-runtime': 'runc', runtimes: {} }));
  for (let round = 0; round < kills; round++) {
    const daemon = spawn(process.execPath, [child, stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = exit(daemon);
    const marks = await ready(daemon);
    await sleep(randomInt(10, 150));
    daemon.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    figures.kills++;
    const trace = marks();
    if (count(trace, 'R') > count(trace, 'r')) figures.killsDuringReload++;
    if (count(trace, 'W') > count(trace, 'w')) figures.killsDuringWrite++;
    await checkAfterCrash(stateDir, dir, figures);
  }
  return figures;
}

/** What a restarted daemon finds: the containers' wrappers intact, nothing else broken. */
async function checkAfterCrash(stateDir: string, dir: string, figures: CrashFigures): Promise<void> {
  const left = (await readdir(dir)).filter((f) => f.startsWith('.tmp-')).length;
  figures.tempFilesLeft += left;
  if (left > 0) figures.killsLeavingTemp++;

  // Nothing referenced is missing: every running container's wrapper has its bytes, before the restart…
  const containers = JSON.parse(await readFile(join(stateDir, 'containers.json'), 'utf8').catch(() => '[]')) as { id: string; artifact: Artifact }[];
  for (const { artifact } of containers) await expectIntact(artifact);
  // …and after the restart clean-up with the keep-list.
  const before = (await readdir(dir)).filter((f) => !f.startsWith('.tmp-')).length;
  const artifacts = await FsArtifactStore.open(dir, { keep: containers.map((c) => c.artifact.path), removeUnkept: true });
  expect((await readdir(dir)).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  const listed = await artifacts.list();
  figures.unkeptRemoved += before - listed.length;
  for (const artifact of listed) await artifacts.verify(artifact);
  for (const { artifact } of containers) {
    await artifacts.verify(artifact);
    expect(listed.map((a) => a.path)).toContain(artifact.path);
  }
  figures.containersKept += containers.length;
  figures.artifactsVerified += listed.length;

  // The daemon starts again from its config file, and what it writes is intact.
  const store = await ConfigStore.create({
    schema: runtimeConfigSchema,
    initial: await readConfigFile(join(stateDir, 'config.json')),
    participants: [runtimeWrappers({ builtins: { runc: '/bin/true' } })],
    artifacts,
  });
  for (const artifact of store.load().artifacts) await artifacts.verify(artifact);
  figures.restarts++;
}

async function expectIntact(artifact: Artifact): Promise<void> {
  const stats = await lstat(artifact.path);
  expect(stats.isFile(), artifact.path).toBe(true);
  expect(stats.size).toBe(artifact.size);
  expect(createHash('sha256').update(await readFile(artifact.path)).digest('hex')).toBe(artifact.digest);
}

function count(text: string, mark: string): number {
  return text.split(mark).length - 1;
}

/** Resolves with a reader of everything the daemon printed after 'ready'; rejects with its stderr if it exits first. */
function ready(daemon: ChildProcess): Promise<() => string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let started = false;
    daemon.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    daemon.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!started && stdout.includes('ready\n')) {
        started = true;
        resolve(() => stdout.slice(stdout.indexOf('ready\n') + 6));
      }
    });
    daemon.once('exit', (code, signal) => {
      if (!started) reject(new Error(`daemon exited before ready (code ${String(code)}, signal ${String(signal)}): ${stderr}`));
      else if (signal !== 'SIGKILL') reject(new Error(`daemon failed on its own (code ${String(code)}): ${stderr}`));
    });
  });
}

function exit(daemon: ChildProcess): Promise<NodeJS.Signals | number | null> {
  return new Promise((resolve) => {
    daemon.once('exit', (code, signal) => {
      resolve(signal ?? code);
    });
  });
}

export function describeCrash(figures: CrashFigures, seconds: string): string {
  return (
    `reload crash loop: ${figures.kills} SIGKILLs in ${seconds} s (${figures.killsDuringReload} during a reload, ${figures.killsDuringWrite} during an artifact write as last reported, ` +
    `${figures.killsLeavingTemp} left ${figures.tempFilesLeft} temporary files, all removed by open()); ${figures.restarts} restarts with the keep-list; ` +
    `${figures.containersKept} container wrappers found intact; ${figures.artifactsVerified} artifacts verified; ${figures.unkeptRemoved} unkept artifacts removed`
  );
}

/**
 * Defines the crash-loop test with `kills` SIGKILLs in a fresh temp directory; shared by
 * test/reliability/crash-reload.test.ts and the soak.
 */
export function defineCrashLoopTest(kills: number, timeoutMs: number): void {
  let root: string;
  beforeAll(async () => {
    ensureBuilt();
    root = await makeTempDir('txconfig-crash-reload-');
  }, 60_000);
  afterAll(async () => {
    await removeTempDir(root);
  });

  it(`finds every running container's wrapper intact after ${kills} SIGKILLs of a reloading daemon`, { timeout: timeoutMs }, async () => {
    const started = Date.now();
    const figures = await crashLoop(root, kills);
    console.log(describeCrash(figures, ((Date.now() - started) / 1000).toFixed(1)));
    expect(figures.kills).toBe(kills);
    expect(figures.restarts).toBe(kills);
  });
}
