// The runtime-wrapper daemon's command line as a new user meets it: --help, bad flags,
// and start-ups that cannot succeed. Each one must end on its own, promptly, with one
// line that says why (the stack only under DEBUG) and a non-zero exit code.
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { runDaemon, type DaemonRun } from '../../helpers/daemon-process.js';
import { writeFakeRuntime } from '../../helpers/fake-runtime.js';
import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.js';

let dir: string;
let fake: string;
let configPath: string;
let stateDir: string;

beforeEach(async () => {
  dir = await makeTempDir('txconfig-daemon-start-');
  fake = await writeFakeRuntime(dir);
  configPath = join(dir, 'daemon.json');
  stateDir = join(dir, 'state');
  await writeFile(configPath, JSON.stringify({ 'default-runtime': 'runc', runtimes: { debug: { path: fake, runtimeArgs: ['--debug'] } } }));
});
afterEach(async () => {
  await removeTempDir(dir);
});

function serve(...extra: string[]): Promise<DaemonRun> {
  return runDaemon(['serve', '--config', configPath, '--state-dir', stateDir, '--runc', fake, ...extra]);
}

/** The run ended by itself with `code` and printed exactly one line, with no stack, to stderr. */
function expectOneLineFailure(run: DaemonRun, code: number): string {
  expect({ timedOut: run.timedOut, code: run.code, stdout: run.stdout }).toEqual({ timedOut: false, code, stdout: '' });
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  return lines[0] ?? '';
}

/** Holds a port on 127.0.0.1 for the length of a test. */
async function occupyPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return { port: address.port, server };
}

describe('daemon.js --help', () => {
  it.each([[['--help']], [['serve', '--help']], [['serve', '-h']], [['serve', '--config', 'x.json', '--help']]])('%j prints the usage to stdout and exits 0', async (args) => {
    const run = await runDaemon(args);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^usage:/);
    for (const option of ['--config', '--config-dir', '--state-dir', '--port', '--runc', '--no-watch', '--help', 'RUNTIME_WRAPPER_', '--default-runtime=']) expect(run.stdout).toContain(option);
  });
});

describe('daemon.js with bad arguments', () => {
  it.each([
    [['serve', '--state-dir', 'x'], /--config/],
    [['serve', '--config', '--state-dir', 'x'], /--config needs a value/],
    [['serve', '--config', 'x.json', '--state-dir', 'x', '--no-watch=yes'], /--no-watch takes no value/],
    [['serve', '--config', 'x.json', '--state-dir', 'x', '-b'], /-b/],
    [['serve', '--config', 'x.json', '--state-dir', 'x', '--default-runtime=a', '--default-runtime', 'b'], /--default-runtime/],
    [['serve', '--config', 'x.json', '--state-dir', 'x', '--', 'more'], /more/],
    [['serve', '--config', 'x.json'], /--state-dir/],
    [['serve', '--config', 'x.json', '--state-dir', 'x', '--port', 'eighty'], /--port/],
    [['serve', '--config', 'x.json', '--state-dir', 'x', '--port', '65536'], /--port/],
    [['serve', '--config', 'x.json', '--state-dir', 'x', 'extra'], /extra/],
    [['launch'], /launch/],
    [[], /command/],
  ])('%j prints one error line and the usage to stderr and exits 2', async (args, names) => {
    const run = await runDaemon(args);
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: '' });
    const [first, ...rest] = run.stderr.split('\n');
    expect(first).toMatch(/^error: /);
    expect(first).toMatch(names);
    expect(rest.join('\n')).toMatch(/^usage:/);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('a start that cannot succeed', () => {
  it('exits non-zero with one EADDRINUSE line when its port is taken, closing what it opened', async () => {
    const { port, server } = await occupyPort();
    try {
      // Before: the listen error was printed, but the file watcher kept the process alive
      // and the SIGTERM handler swallowed the first SIGTERM: it never exited by itself.
      const run = await serve('--port', String(port));
      expect(expectOneLineFailure(run, 1)).toContain('EADDRINUSE');
    } finally {
      server.close();
    }
  });

  it('exits 1 with one line naming ERR_FILE_NOT_FOUND when the config file is missing', async () => {
    const run = await runDaemon(['serve', '--config', join(dir, 'missing.json'), '--state-dir', stateDir]);
    const line = expectOneLineFailure(run, 1);
    expect(line).toContain('ERR_FILE_NOT_FOUND');
    expect(line).toContain(join(dir, 'missing.json'));
  });

  it('exits 1 with one line naming ERR_PARSE and where when the config file is not JSON', async () => {
    await writeFile(configPath, '{"default-runtime": "runc",\n "runtimes": {');
    expect(expectOneLineFailure(await serve(), 1)).toMatch(/ERR_PARSE.*daemon\.json/);
  });

  it('exits 1 with one line naming the code and the first problem when the config is rejected', async () => {
    await writeFile(configPath, JSON.stringify({ 'default-runtime': 'runc', runtimes: { runc: { path: fake }, 'a/b': { path: fake } } }));
    const line = expectOneLineFailure(await serve(), 1);
    expect(line).toMatch(/ERR_PREPARE.*runtimes.*ERR_RUNTIME_CONFIG/);
    expect(line).toContain('runc');
  });

  it('exits 1 with one line naming the code when the state directory is unusable', async () => {
    await writeFile(stateDir, 'a file, not a directory');
    expect(expectOneLineFailure(await serve(), 1)).toMatch(/ERR_[A-Z_]+/);
  });

  it('exits 1 with one line naming ERR_STATE_FILE when the container list is damaged', async () => {
    await mkdir(stateDir);
    await writeFile(join(stateDir, 'containers.json'), '{ damaged');
    expect(expectOneLineFailure(await serve(), 1)).toContain('ERR_STATE_FILE');
  });

  it('exits 1 with one line naming both places when a flag sets what the config file sets', async () => {
    // Moby's rule: a setting given both as a flag and in the file is ambiguous.
    const line = expectOneLineFailure(await serve('--default-runtime=debug'), 1);
    expect(line).toMatch(/ERR_LOAD.*ERR_CONFLICT/);
    expect(line).toContain(`/default-runtime is set twice: by file (file ${configPath}, line 1, column 20) and by argv (flag --default-runtime)`);
  });

  it('exits 1 with one line naming both places when a flag sets what the environment sets', async () => {
    const run = await runDaemon(['serve', '--config', configPath, '--state-dir', stateDir, '--runc', fake, `--runtimes.debug.path=${fake}`], {
      env: { RUNTIME_WRAPPER_RUNTIMES__DEBUG__PATH: fake },
    });
    // The file sets it too, but the environment overrides the file: the conflict is the flag's with the variable.
    expect(expectOneLineFailure(run, 1)).toContain('/runtimes/debug/path is set twice: by env (env RUNTIME_WRAPPER_RUNTIMES__DEBUG__PATH) and by argv (flag --runtimes.debug.path)');
  });

  it('exits 1 with one line naming the flag when a setting flag names no setting', async () => {
    const line = expectOneLineFailure(await serve('--defualt-runtime=debug'), 1);
    expect(line).toMatch(/ERR_VALIDATION.*--defualt-runtime/);
  });

  it('exits 1 with one line naming ERR_FILE_NOT_FOUND when the conf.d given is missing (the default one may be)', async () => {
    const missing = join(dir, 'missing.d');
    const line = expectOneLineFailure(await serve('--config-dir', missing), 1);
    expect(line).toContain('ERR_FILE_NOT_FOUND');
    expect(line).toContain(missing);
  });

  it('prints the stack as well when DEBUG is set', async () => {
    const run = await runDaemon(['serve', '--config', join(dir, 'missing.json'), '--state-dir', stateDir], { env: { DEBUG: 'runtime-wrapper:*' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: .*ERR_FILE_NOT_FOUND/);
    expect(run.stderr).toMatch(/^\s+at /m);
  });
});
