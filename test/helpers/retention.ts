/**
 * Runs test/helpers/retention-child.js (the BUILT package, `node --expose-gc`) for a number
 * of reloads and returns its report. Shared by the default retention test and the soak.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { expect } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, 'retention-child.js');
const built = join(here, '..', '..', 'dist', 'index.js');

export interface RetentionReport {
  readonly reloads: number;
  readonly seconds: number;
  readonly generation: number;
  readonly events: number;
  readonly latest: number;
  readonly status: { counters: Record<string, number>; pinnedGenerations: number[]; listenerErrors: number; lastReloadSuccessful: boolean };
  readonly heapBaseline: number;
  readonly heapFinal: number;
  readonly checkpoints: { reloads: number; heapUsed: number }[];
  readonly sampledSnapshots: number;
  readonly sampledStillAlive: number;
  readonly artifactsStored: number;
  readonly liveArtifacts: number;
}

export async function runRetention(reloads: number): Promise<RetentionReport> {
  expect(existsSync(built), 'the retention test runs the built package: `npm run build` first (npm test does)').toBe(true);
  const proc = spawn(process.execPath, ['--expose-gc', child, String(reloads)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return JSON.parse(stdout) as RetentionReport;
}

/** The store's own bookkeeping after the run: every reload applied, every pin gone, no old snapshot alive. */
export function expectNothingRetained(report: RetentionReport): void {
  expect(report.generation).toBe(report.reloads + 1);
  expect(report.events).toBe(report.reloads);
  expect(report.latest).toBe(report.generation);
  expect(report.status.counters.applied).toBe(report.reloads + 1);
  expect(report.status.pinnedGenerations).toEqual([]);
  expect(report.status.listenerErrors).toBe(0);
  expect(report.sampledSnapshots).toBe(Math.floor(report.reloads / 1000));
  expect(report.sampledStillAlive).toBe(0);
  // After the last collection only the live snapshot's artifact is stored.
  expect(report.artifactsStored).toBe(report.liveArtifacts);
}

export function describeRetention(report: RetentionReport): string {
  const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
  const first = report.checkpoints[0]!;
  return (
    `retention: ${report.reloads} reloads in ${report.seconds.toFixed(1)} s; heap after forced GC: ${mib(report.heapBaseline)} at 1,000 reloads, ` +
    `${mib(first.heapUsed)} at ${first.reloads}, ${mib(report.heapFinal)} at the end (checkpoints: ${report.checkpoints.map((c) => mib(c.heapUsed)).join(', ')}); ` +
    `${report.sampledStillAlive} of ${report.sampledSnapshots} sampled old snapshots still alive`
  );
}
