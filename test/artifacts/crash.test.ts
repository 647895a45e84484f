// Kills a real writer process with SIGKILL at random moments and checks that what it
// leaves behind is, after open(), only complete artifacts: no partial file, no temp file.
// SIGKILL tests atomicity against a process crash; power-loss durability (the fsyncs)
// cannot be tested without a machine to switch off.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { FsArtifactStore } from '../../src/artifacts/fs-artifact-store.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

const KILLS = 200;
const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, '..', 'helpers', 'artifact-writer-child.js');
const built = join(here, '..', '..', 'dist', 'index.js');

let root: string;
beforeAll(async () => {
  root = await makeTempDir('txconfig-crash-');
});
afterAll(async () => {
  await removeTempDir(root);
});

it(`leaves only complete artifacts and no temporary file after ${KILLS} SIGKILLs of a writer`, { timeout: 180_000 }, async () => {
  expect(existsSync(built), 'the crash test runs the built package: `npm run build` first (npm test does)').toBe(true);
  const dir = join(root, 'artifacts');
  const figures = { kills: 0, tempFilesLeft: 0, killsLeavingTemp: 0, artifactsVerified: 0 };
  const started = Date.now();
  for (let round = 0; round < KILLS; round++) {
    const writer = spawn(process.execPath, [child, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Listen before anything can happen: a writer that fails on its own must not hang the test.
    const exited = exit(writer);
    await writing(writer);
    await sleep(randomInt(5, 61));
    writer.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    figures.kills++;

    const left = (await readdir(dir)).filter((f) => f.startsWith('.tmp-')).length;
    figures.tempFilesLeft += left;
    if (left > 0) figures.killsLeavingTemp++;

    const store = await FsArtifactStore.open(dir);
    expect((await readdir(dir)).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
    const artifacts = await store.list();
    for (const artifact of artifacts) await store.verify(artifact);
    figures.artifactsVerified += artifacts.length;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `crash test: ${figures.kills} SIGKILLs in ${seconds} s; ${figures.killsLeavingTemp} kills left temporary files ` +
      `(${figures.tempFilesLeft} in all, each removed by open()); ${figures.artifactsVerified} artifacts verified intact`,
  );
  expect(figures.kills).toBe(KILLS);
});

/** Resolves when the child says it is writing; rejects with its stderr if it exits first. */
function writing(writer: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    writer.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    writer.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('writing')) resolve();
    });
    writer.once('exit', (code, signal) => {
      reject(new Error(`writer exited before writing (code ${String(code)}, signal ${String(signal)}): ${stderr}`));
    });
  });
}

function exit(writer: ChildProcess): Promise<NodeJS.Signals | number | null> {
  return new Promise((resolve) => {
    writer.once('exit', (code, signal) => {
      resolve(signal ?? code);
    });
  });
}
