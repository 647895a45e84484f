// The commands of examples/runtime-wrapper/README.md ("Run the daemon", and the registry
// token's), run as written on this machine, which need not have runc: only the port and
// the /tmp/rw-… paths are swapped for free ones. A README whose commands stop working fails here.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const README = join(ROOT, 'examples', 'runtime-wrapper', 'README.md');
/** The README builds first; the test runs against the build `npm test` made before vitest. */
const BUILD = 'npm run build && npx tsc -p tsconfig.examples.json';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('txconfig-readme-');
});
afterEach(async () => {
  await removeTempDir(dir);
});

/** The commands of the first ```sh block after `heading` (any text), continuation lines joined, comment lines dropped. */
function shellCommands(markdown: string, heading: string): string[] {
  const section = markdown.slice(markdown.indexOf(heading));
  const block = /^```sh\n([\s\S]*?)^```/m.exec(section)?.[1];
  if (block === undefined) throw new Error(`no sh block after ${heading}`);
  return block
    .replaceAll('\\\n', ' ')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const address = server.address();
  await new Promise((closed) => server.close(closed));
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return address.port;
}

function runScript(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd: ROOT, env: { ...process.env, DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** What running a section's commands printed. */
interface SectionRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly port: number;
  /** The output of the command as echoed (its single quotes dropped) that starts with `start`, the shortest first. */
  readonly answer: (start: string) => string;
}

/**
 * Runs the commands of the first sh block after `heading`, the first `skip` left out (the
 * build, which `npm test` ran), with a free port and the /tmp/rw-… paths in the temporary
 * directory, and never leaves the daemon behind.
 */
async function runSection(heading: string, skip: number): Promise<SectionRun> {
  const port = await freePort();
  const commands = shellCommands(readFileSync(README, 'utf8'), heading);
  const script = ['set -eu'];
  for (const command of commands.slice(skip)) {
    const line = command.replaceAll('8080', String(port)).replaceAll('/tmp/rw-', join(dir, 'rw-'));
    script.push(`echo '### ${command.replaceAll("'", '')}'`, line);
    if (line.trimEnd().endsWith('&')) {
      // Never leave the daemon behind. (Waiting until it serves is the README's own next line.)
      script.push(`daemon=$!`, `trap 'kill $daemon 2>/dev/null || true' EXIT`);
    }
  }
  script.push('code=0; wait $daemon || code=$?', 'echo "### daemon exited $code"');
  const run = await runScript(script.join('\n'));
  const answers = new Map(
    run.stdout
      .split(/^### /m)
      .slice(1)
      .map((section) => [section.slice(0, section.indexOf('\n')), section.slice(section.indexOf('\n') + 1)]),
  );
  const answer = (start: string): string => [...answers].filter(([command]) => command.startsWith(start)).sort(([a], [b]) => a.length - b.length)[0]?.[1] ?? '';
  return { ...run, port, answer };
}

describe('examples/runtime-wrapper/README.md', () => {
  it('runs the daemon, a container and its wrapper with every command as written, without runc installed', async () => {
    expect(shellCommands(readFileSync(README, 'utf8'), '## Run the daemon')[0]).toBe(BUILD);
    const run = await runSection('## Run the daemon', 1);
    const { answer } = run;

    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    // The daemon prints it in the background, while the README's wait loop runs.
    expect(run.stdout).toContain(`listening on http://127.0.0.1:${run.port}`);
    const config = JSON.parse(answer('curl -s localhost:8080/config')) as { derived: { runtimes: { default: string; runtimes: Record<string, { wrapped: boolean }> } } };
    expect(config.derived.runtimes.runtimes['debug-runc']?.wrapped).toBe(true);
    // All five layers: the variable, the flag, the conf.d beside daemon.json.
    expect(config.derived.runtimes.default).toBe('crun');
    expect(config.derived.runtimes.runtimes.crun?.wrapped).toBe(true);
    expect(config.derived.runtimes.runtimes.youki?.wrapped).toBe(true);
    const { origins } = JSON.parse(answer('curl -s localhost:8080/config?origins=1')) as { origins: Record<string, { value: unknown; layer: string; origin: Record<string, unknown>; shadowed: { layer: string }[] }> };
    expect(origins['/default-runtime']).toMatchObject({ value: 'crun', layer: 'env', origin: { env: 'RUNTIME_WRAPPER_DEFAULT_RUNTIME' }, shadowed: [{ layer: 'file' }, { layer: 'defaults' }] });
    expect(origins['/runtimes/crun/runtimeArgs']).toMatchObject({ value: ['--systemd-cgroup'], layer: 'argv', origin: { flag: '--runtimes.crun.runtimeArgs' } });
    expect(origins['/runtimes/youki/path']).toMatchObject({
      value: join(ROOT, 'examples', 'runtime-wrapper', 'fake-runc'),
      layer: 'directory',
      origin: { file: join(ROOT, 'examples', 'runtime-wrapper', 'daemon.d', '10-youki.json'), line: 3 },
    });
    expect(JSON.parse(answer('curl -s -XPOST -H content-type: application/json localhost:8080/containers -d'))).toMatchObject({
      container: { id: 'c1', runtime: 'debug-runc' },
      output: "fake-runc '--debug' '--log' '/var/log/a b.log' 'start' 'c1'\n",
    });
    expect(JSON.parse(answer('curl -s -XPOST -H content-type: application/json localhost:8080/containers/c1/exec'))).toEqual({
      output: "fake-runc '--debug' '--log' '/var/log/a b.log' 'exec' 'c1' 'ps'\n",
      exitCode: 0,
    });
    expect(answer('curl -s localhost:8080/metrics')).toMatch(/^txconfig_config_last_reload_successful 1$/m);
    expect(JSON.parse(answer('curl -s -XDELETE'))).toMatchObject({ container: { id: 'c1' }, removed: [] });
    expect(run.stdout).toContain('### daemon exited 0');
  });
});

describe('examples/runtime-wrapper/README.md, the registry token', () => {
  it("runs the commands as written: the token in the runtime's environment, [redacted] in /config, a rotation applied", async () => {
    // The section's first sh block is the wrapper it shows; the commands follow this line.
    const run = await runSection('Run it (from the repository root, after the build above):', 0);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`listening on http://127.0.0.1:${run.port}`);
    const config = JSON.parse(run.answer('curl -s localhost:8080/config')) as { config: { runtimes: { private: { registryToken: string } } } };
    expect(config.config.runtimes.private.registryToken).toBe('[redacted]');
    const started = (id: string): unknown => JSON.parse(run.answer(`curl -s -XPOST -H content-type: application/json localhost:8080/containers -d {"id":"${id}"`));
    expect(started('c1')).toMatchObject({ container: { id: 'c1', runtime: 'private' }, output: "fake-runc 'start' 'c1' (REGISTRY_TOKEN: 11 characters)\n" });
    expect(started('c2')).toMatchObject({ container: { id: 'c2', runtime: 'private', generation: 2 }, output: "fake-runc 'start' 'c2' (REGISTRY_TOKEN: 12 characters)\n" });
    expect((started('c2') as { container: { program: string } }).container.program).not.toBe((started('c1') as { container: { program: string } }).container.program);
    // Only the commands that write the tokens name them.
    for (const token of ['first-token', 'second-token']) expect(run.stdout.replaceAll(`printf ${token}\\n`, '')).not.toContain(token);
    expect(run.stdout).toContain('### daemon exited 0');
  });
});
