// End-to-end: the acceptance scenarios of the runtime-wrapper story against a spawned
// `daemon.js serve`: edit the config file and the conf.d, set variables and flags, send
// real signals, call the HTTP API on 127.0.0.1, and execute the wrapper scripts.
import { access, mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { DaemonProcess, type DaemonStartOptions } from '../../helpers/daemon-process.js';
import { receivedArgs, writeFakeRuntime } from '../../helpers/fake-runtime.js';
import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.js';
import { eventually } from '../../helpers/watch-recorder.js';

let dir: string;
let fake: string;
let configPath: string;
let configDir: string;
let stateDir: string;
const daemons: DaemonProcess[] = [];

beforeEach(async () => {
  dir = await makeTempDir('txconfig-daemon-');
  fake = await writeFakeRuntime(dir);
  configPath = join(dir, 'daemon.json');
  // The daemon's default conf.d: daemon.d beside the config file.
  configDir = join(dir, 'daemon.d');
  stateDir = join(dir, 'state');
});
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((daemon) => daemon.stop()));
  await removeTempDir(dir);
});

type Runtimes = Record<string, { path: string; runtimeArgs?: string[] }>;

/** Writes the config file the way editors do: a temp file renamed over it. */
async function writeConfig(runtimes: Runtimes, fallback = 'runc'): Promise<void> {
  const temp = `${configPath}.tmp`;
  await writeFile(temp, JSON.stringify({ 'default-runtime': fallback, runtimes }, null, 2));
  await rename(temp, configPath);
}

/** Writes a conf.d file as config management does: a dot-named temp file (never read) renamed into place. */
async function writeDropIn(name: string, config: unknown): Promise<void> {
  await mkdir(configDir, { recursive: true });
  const temp = join(configDir, `.${name}.tmp`);
  await writeFile(temp, JSON.stringify(config, null, 2));
  await rename(temp, join(configDir, name));
}

async function startDaemon(...extra: string[]): Promise<DaemonProcess> {
  return startDaemonWith({}, ...extra);
}

async function startDaemonWith(options: DaemonStartOptions, ...extra: string[]): Promise<DaemonProcess> {
  const daemon = await DaemonProcess.start(['--config', configPath, '--state-dir', stateDir, '--runc', fake, ...extra], options);
  daemons.push(daemon);
  return daemon;
}

interface ConfigView {
  generation: number;
  digest: string;
  config: { 'default-runtime': string; runtimes: Record<string, { path: string; runtimeArgs?: string[] }> };
  derived: { runtimes: { runtimes: Record<string, { program: string; wrapped: boolean }> } };
  origins?: Record<string, { value: unknown; layer: string; origin: Record<string, unknown>; shadowed: { layer: string; origin: Record<string, unknown>; value: unknown }[] }>;
}

async function liveConfig(daemon: DaemonProcess): Promise<ConfigView> {
  return (await daemon.request('GET', '/config')).body as ConfigView;
}

async function waitForGeneration(daemon: DaemonProcess, generation: number): Promise<ConfigView> {
  await eventually(async () => (await liveConfig(daemon)).generation >= generation, `generation ${generation}`);
  return liveConfig(daemon);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The fake runtime's NUL-separated output as a list of arguments. */
function args(output: unknown): string[] {
  return String(output).split('\0').slice(0, -1);
}

const DEBUG_ARGS = ['--debug', '--log', '/var/log/a b.log', "it's", '$(touch INJECTED)', ''];

describe('the runtime-wrapper daemon', () => {
  it("keeps a running container's wrapper through a file edit that drops its runtime, then collects it after the stop", async () => {
    await writeConfig({ debug: { path: fake, runtimeArgs: DEBUG_ARGS } });
    const daemon = await startDaemon();

    const started = await daemon.request('POST', '/containers', { id: 'c1', runtime: 'debug' });
    expect(started.status).toBe(201);
    const { container } = started.body as { container: { program: string } };
    expect(args((started.body as { output: string }).output)).toEqual([...DEBUG_ARGS, 'start', 'c1']);

    await writeConfig({});
    const dropped = await waitForGeneration(daemon, 2);
    expect(dropped.derived.runtimes.runtimes).not.toHaveProperty('debug');
    // The daemon collects garbage after every applied reload: the lease kept the wrapper.
    await eventually(() => daemon.log.includes('generation 2 live; collected'), 'the collection after the reload');
    expect(await exists(container.program)).toBe(true);

    const exec = await daemon.request('POST', '/containers/c1/exec', { args: ['ps', 'a b'] });
    expect(exec.status).toBe(200);
    expect(args((exec.body as { output: string }).output)).toEqual([...DEBUG_ARGS, 'exec', 'c1', 'ps', 'a b']);
    await expect(receivedArgs(container.program, ['direct'])).resolves.toEqual([...DEBUG_ARGS, 'direct']);

    const stopped = await daemon.request('DELETE', '/containers/c1');
    expect(stopped.status).toBe(200);
    expect((stopped.body as { removed: string[] }).removed).toEqual([container.program]);
    expect(await exists(container.program)).toBe(false);
  });

  it('takes a relative runtime path from the config file’s directory, at start and on every reload', async () => {
    await writeConfig({ here: { path: './fake-runtime' } });
    const daemon = await startDaemon();
    expect((await liveConfig(daemon)).derived.runtimes.runtimes.here?.program).toBe(fake);
    await writeConfig({ here: { path: './fake-runtime', runtimeArgs: ['--here'] } });
    const view = await waitForGeneration(daemon, 2);
    await expect(receivedArgs(view.derived.runtimes.runtimes.here?.program ?? '', ['x'])).resolves.toEqual(['--here', 'x']);
  });

  it('reloads on SIGHUP, reading the config file and the conf.d again as one generation', async () => {
    await writeConfig({});
    const daemon = await startDaemon('--no-watch');
    await writeConfig({ trace: { path: fake, runtimeArgs: ['--trace'] } });
    await writeDropIn('10-crun.json', { runtimes: { crun: { path: fake } } });
    daemon.kill('SIGHUP');
    const view = await waitForGeneration(daemon, 2);
    expect(view.generation).toBe(2);
    expect(Object.keys(view.derived.runtimes.runtimes).sort()).toEqual(['crun', 'runc', 'trace']);
    expect(view.derived.runtimes.runtimes.trace?.wrapped).toBe(true);
    await expect(receivedArgs(view.derived.runtimes.runtimes.trace?.program ?? '', ['x'])).resolves.toEqual(['--trace', 'x']);
  });

  it('applies a change of the config file and of a conf.d file made together as one generation', async () => {
    await writeConfig({ trace: { path: fake, runtimeArgs: ['--v1'] } });
    await writeDropIn('10-crun.json', { runtimes: { crun: { path: fake } } });
    const daemon = await startDaemon();
    await writeDropIn('10-crun.json', { runtimes: { crun: { path: fake, runtimeArgs: ['--c2'] } } });
    await writeConfig({ trace: { path: fake, runtimeArgs: ['--v2'] } });
    await waitForGeneration(daemon, 2);
    // Time enough for a second reload, had the two changes been applied one by one.
    await sleep(500);
    const view = (await daemon.request('GET', '/config?origins=1')).body as ConfigView;
    expect(view.generation).toBe(2);
    expect(view.config.runtimes).toEqual({ trace: { path: fake, runtimeArgs: ['--v2'] }, crun: { path: fake, runtimeArgs: ['--c2'] } });
    expect(view.origins?.['/runtimes/trace/runtimeArgs']).toMatchObject({ layer: 'file', origin: { file: configPath } });
    expect(view.origins?.['/runtimes/crun/runtimeArgs']).toMatchObject({ layer: 'directory', origin: { file: join(configDir, '10-crun.json') } });
    expect((await daemon.request('GET', '/metrics')).text).toMatch(/^txconfig_config_reloads_total\{result="applied"\} 2$/m);
  });

  it('reloads when a conf.d file is added at run time, the conf.d itself created after the start', async () => {
    await writeConfig({});
    const daemon = await startDaemon();
    await writeDropIn('50-trace.json', { runtimes: { trace: { path: './fake-runtime', runtimeArgs: ['--dropin'] } } });
    const view = await waitForGeneration(daemon, 2);
    // A relative path in a conf.d file is taken from the conf.d.
    expect(view.config.runtimes.trace).toEqual({ path: join(configDir, 'fake-runtime'), runtimeArgs: ['--dropin'] });
    const origins = ((await daemon.request('GET', '/config?origins=1')).body as ConfigView).origins;
    expect(origins?.['/runtimes/trace/runtimeArgs']).toMatchObject({ layer: 'directory', origin: { file: join(configDir, '50-trace.json'), line: 5 } });
  });

  it('takes settings from the environment and from flags, and /config?origins=1 says where each value came from', async () => {
    await writeConfig({ debug: { path: fake, runtimeArgs: ['--debug'] } });
    const daemon = await startDaemonWith({ env: { RUNTIME_WRAPPER_DEFAULT_RUNTIME: 'debug' } }, `--runtimes.crun.path=${fake}`, '--runtimes.crun.runtimeArgs=["--systemd-cgroup"]');
    const plain = (await daemon.request('GET', '/config')).body as ConfigView;
    expect(Object.keys(plain)).toEqual(['generation', 'digest', 'committedAt', 'config', 'derived']);
    expect(plain.config['default-runtime']).toBe('debug');

    const view = (await daemon.request('GET', '/config?origins=1')).body as ConfigView;
    expect(view.generation).toBe(plain.generation);
    expect(Object.keys(view.origins ?? {}).sort()).toEqual(['/default-runtime', '/runtimes/crun/path', '/runtimes/crun/runtimeArgs', '/runtimes/debug/path', '/runtimes/debug/runtimeArgs']);
    expect(view.origins?.['/default-runtime']).toEqual({
      value: 'debug',
      layer: 'env',
      origin: { env: 'RUNTIME_WRAPPER_DEFAULT_RUNTIME' },
      shadowed: [
        { layer: 'file', origin: { file: configPath, line: 2, column: 22 }, value: 'runc' },
        { layer: 'defaults', origin: {}, value: 'runc' },
      ],
    });
    expect(view.origins?.['/runtimes/crun/runtimeArgs']).toEqual({ value: ['--systemd-cgroup'], layer: 'argv', origin: { flag: '--runtimes.crun.runtimeArgs' }, shadowed: [] });
    expect(view.origins?.['/runtimes/debug/path']).toMatchObject({ value: fake, layer: 'file', origin: { file: configPath } });

    // The default runtime the environment chose is the one a container gets.
    const started = await daemon.request('POST', '/containers', { id: 'c1' });
    expect(args((started.body as { output: string }).output)).toEqual(['--debug', 'start', 'c1']);
    const bad = await daemon.request('GET', '/config?origins=maybe');
    expect([bad.status, (bad.body as { error: { code: string } }).error.code]).toEqual([400, 'ERR_BAD_REQUEST']);
  });

  it('rejects a reload whose config file now sets what a flag sets, naming both, and keeps serving', async () => {
    await writeConfig({});
    const daemon = await startDaemonWith({ debug: false }, `--runtimes.extra.path=${fake}`);
    const live = await liveConfig(daemon);
    await writeConfig({ extra: { path: fake } });
    await eventually(() => daemon.log.includes('config reload on file change rejected'), 'the file change rejected');
    expect(daemon.log).toContain(`still serving generation 1: ERR_LOAD: load: ERR_CONFLICT: /runtimes/extra/path is set twice: by file (file ${configPath}, line 5, column 15) and by argv (flag --runtimes.extra.path)`);
    const answer = await daemon.request('POST', '/reload');
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({
      status: 'rejected',
      error: { code: 'ERR_LOAD', failures: [{ phase: 'load', error: { code: 'ERR_CONFLICT', sides: [{ layer: 'file', origin: { file: configPath } }, { layer: 'argv', origin: { flag: '--runtimes.extra.path' } }] } }] },
    });
    expect(await liveConfig(daemon)).toEqual(live);
  });

  it('rejects a broken config with the reason and keeps serving the live one', async () => {
    await writeConfig({ debug: { path: fake, runtimeArgs: ['--debug'] } });
    const daemon = await startDaemon('--no-watch');
    await daemon.request('POST', '/containers', { id: 'c1', runtime: 'debug' });
    const live = await liveConfig(daemon);

    await writeConfig({ runc: { path: fake, runtimeArgs: ['x'] }, 'a/b': { path: fake } }, 'missing');
    const rejected = await daemon.request('POST', '/reload');
    expect(rejected.status).toBe(422);
    const outcome = rejected.body as { status: string; error: { code: string; failures: { participant: string; error: { code: string; problems: string[] } }[] } };
    expect(outcome.status).toBe('rejected');
    expect(outcome.error.code).toBe('ERR_PREPARE');
    expect(outcome.error.failures[0]?.participant).toBe('runtimes');
    expect(outcome.error.failures[0]?.error.code).toBe('ERR_RUNTIME_CONFIG');
    expect(outcome.error.failures[0]?.error.problems).toHaveLength(3);

    expect(await liveConfig(daemon)).toEqual(live);
    const status = (await daemon.request('GET', '/status')).body as { lastReloadSuccessful: boolean; lastError: { code: string } };
    expect(status.lastReloadSuccessful).toBe(false);
    expect(status.lastError.code).toBe('ERR_PREPARE');
    expect((await daemon.request('GET', '/metrics')).text).toMatch(/^txconfig_config_last_reload_successful 0$/m);
    expect((await daemon.request('POST', '/containers/c1/exec', { args: ['ok'] })).status).toBe(200);

    await writeFile(configPath, '{"default-runtime": "runc", "runtimes": {');
    const unparsable = await daemon.request('POST', '/reload');
    expect(unparsable.status).toBe(422);
    expect(unparsable.body).toMatchObject({ status: 'rejected', error: { code: 'ERR_LOAD', failures: [{ phase: 'load', error: { code: 'ERR_PARSE' } }] } });
    expect(await liveConfig(daemon)).toEqual(live);

    await writeConfig({ debug: { path: fake, runtimeArgs: ['--debug', '--fixed'] } });
    const fixed = await daemon.request('POST', '/reload');
    expect(fixed.status).toBe(200);
    expect(fixed.body).toMatchObject({ status: 'applied', generation: live.generation + 1 });
    expect((await daemon.request('GET', '/metrics')).text).toMatch(/^txconfig_config_last_reload_successful 1$/m);
  });

  it('logs one line to stderr for each rejected reload, whatever asked for it, with no DEBUG set', async () => {
    await writeConfig({ debug: { path: fake, runtimeArgs: ['--debug'] } });
    const daemon = await startDaemonWith({ debug: false });
    const rejections = (): string[] => daemon.log.split('\n').filter((line) => line !== '');

    await writeConfig({ runc: { path: fake } });
    await eventually(() => rejections().length === 1, 'the file change rejected');
    daemon.kill('SIGHUP');
    await eventually(() => rejections().length === 2, 'the SIGHUP rejected');
    expect((await daemon.request('POST', '/reload')).status).toBe(422);
    await eventually(() => rejections().length === 3, 'the POST /reload rejected');

    // What asked, that the live config stays, the codes, and the first problem, on one line each.
    const [onChange, onHup, onPost] = rejections();
    expect(onChange).toMatch(/^config reload on file change rejected, still serving generation 1: ERR_PREPARE: runtimes: ERR_RUNTIME_CONFIG: .*"runc"/);
    expect(onHup).toMatch(/^config reload on SIGHUP rejected, still serving generation 1: ERR_PREPARE: /);
    expect(onPost).toMatch(/^config reload on POST \/reload rejected, still serving generation 1: ERR_PREPARE: /);
  });

  it('reports a config file broken under the watcher as a failed reload in /status and /metrics', async () => {
    await writeConfig({});
    const daemon = await startDaemonWith({ debug: false });
    await writeFile(configPath, '{"default-runtime": "runc", "runtimes": {');
    await eventually(async () => !((await daemon.request('GET', '/status')).body as { lastReloadSuccessful: boolean }).lastReloadSuccessful, 'the status to turn');
    const status = (await daemon.request('GET', '/status')).body as { generation: number; lastError: { code: string } };
    expect(status).toMatchObject({ generation: 1, lastError: { code: 'ERR_LOAD' } });
    const metrics = (await daemon.request('GET', '/metrics')).text;
    expect(metrics).toMatch(/^txconfig_config_last_reload_successful 0$/m);
    expect(metrics).toMatch(/^txconfig_config_reloads_total\{result="rejected"\} 1$/m);
    expect(daemon.log).toMatch(/^config reload on file change rejected, still serving generation 1: ERR_LOAD: load: ERR_PARSE: /m);

    await writeConfig({ trace: { path: fake } });
    await eventually(async () => ((await daemon.request('GET', '/status')).body as { lastReloadSuccessful: boolean }).lastReloadSuccessful, 'the status to recover');
  });

  // The file() layer compares a change with the bytes of its last read; a failed read
  // must not leave the last good bytes there, or their return would look like no change.
  it('recovers when a broken config file is restored to exactly what it was', async () => {
    await writeConfig({});
    const daemon = await startDaemonWith({ debug: false });
    await writeFile(configPath, '{"default-runtime": "runc", "runtimes": {');
    await eventually(() => daemon.log.includes('rejected'), 'the broken file rejected');
    await writeConfig({});
    await eventually(async () => ((await daemon.request('GET', '/status')).body as { lastReloadSuccessful: boolean }).lastReloadSuccessful, 'the status to recover', 3_000);
  });

  it('starts containers while reloads commit, and every one runs a wrapper that exists', async () => {
    await writeConfig({ trace: { path: fake, runtimeArgs: ['--v0'] } });
    const daemon = await startDaemon('--no-watch');
    const programs: string[] = [];
    for (let round = 1; round <= 10; round += 1) {
      await writeConfig({ trace: { path: fake, runtimeArgs: [`--v${round}`] } });
      const [started, reloaded] = await Promise.all([
        daemon.request('POST', '/containers', { id: `c${round}`, runtime: 'trace' }),
        daemon.request('POST', '/reload'),
      ]);
      expect(reloaded.status).toBe(200);
      expect(started.status).toBe(201);
      programs.push((started.body as { container: { program: string } }).container.program);
    }
    for (let round = 1; round <= 10; round += 1) {
      const exec = await daemon.request('POST', `/containers/c${round}/exec`, { args: ['check'] });
      expect(exec.status).toBe(200);
      expect(await exists(programs[round - 1] ?? '')).toBe(true);
    }
    for (let round = 1; round <= 10; round += 1) expect((await daemon.request('DELETE', `/containers/c${round}`)).status).toBe(200);
    const live = await liveConfig(daemon);
    const left = await readdir(join(stateDir, 'wrappers'));
    expect(left.map((name) => join(stateDir, 'wrappers', name))).toEqual([live.derived.runtimes.runtimes.trace?.program]);
  });

  it('answers the metrics in Prometheus text format', async () => {
    await writeConfig({ debug: { path: fake, runtimeArgs: ['--debug'] } });
    const daemon = await startDaemon();
    await daemon.request('POST', '/containers', { id: 'c1', runtime: 'debug' });
    const live = await liveConfig(daemon);
    const metrics = await daemon.request('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const lines = metrics.text.trimEnd().split('\n');
    for (const line of lines) expect(line).toMatch(/^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+)$/);
    expect(lines).toContain(`txconfig_config_info{digest="${live.digest}"} 1`);
    expect(lines).toContain(`txconfig_config_generation ${live.generation}`);
    expect(lines).toContain('txconfig_config_reloads_total{result="applied"} 1');
    expect(lines).toContain('runtime_wrapper_containers 1');
    expect(lines).toContain('runtime_wrapper_artifacts 1');
    const success = /^txconfig_config_last_reload_success_timestamp_seconds (\S+)$/m.exec(metrics.text);
    expect(Number(success?.[1])).toBeGreaterThan(0);
  });

  it('keeps one txconfig_config_info series across reloads: the generation is a gauge, not a label', async () => {
    await writeConfig({});
    const daemon = await startDaemon('--no-watch');
    const infoSeries = async (): Promise<string[]> => (await daemon.request('GET', '/metrics')).text.split('\n').filter((line) => line.startsWith('txconfig_config_info'));
    const before = await infoSeries();
    expect(before).toHaveLength(1);

    await writeConfig({ trace: { path: fake, runtimeArgs: ['--trace'] } });
    expect((await daemon.request('POST', '/reload')).body).toMatchObject({ status: 'applied', generation: 2 });
    await writeConfig({});
    expect((await daemon.request('POST', '/reload')).body).toMatchObject({ status: 'applied', generation: 3 });

    // Back to the first config: the very same series, whatever the generation.
    expect(await infoSeries()).toEqual(before);
    expect((await daemon.request('GET', '/metrics')).text).toMatch(/^txconfig_config_generation 3$/m);
  });

  it('answers bad requests with typed errors', async () => {
    await writeConfig({});
    const daemon = await startDaemon();
    await daemon.request('POST', '/containers', { id: 'c1' });
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/containers', { id: 'c2', runtime: 'nope' }, 422, 'ERR_UNKNOWN_RUNTIME'],
      ['POST', '/containers', { id: 'c1' }, 409, 'ERR_CONTAINER_EXISTS'],
      ['POST', '/containers', { id: '../x' }, 422, 'ERR_CONTAINER_ID'],
      ['POST', '/containers', { runtime: 'runc' }, 400, 'ERR_BAD_REQUEST'],
      ['POST', '/containers', '{not json', 400, 'ERR_BAD_REQUEST'],
      ['POST', '/containers/c1/exec', { args: [1] }, 400, 'ERR_BAD_REQUEST'],
      ['POST', '/containers/zz/exec', {}, 404, 'ERR_NO_CONTAINER'],
      ['DELETE', '/containers/zz', undefined, 404, 'ERR_NO_CONTAINER'],
      ['GET', '/nowhere', undefined, 404, 'ERR_NOT_FOUND'],
      ['POST', '/containers', 'x'.repeat(70_000), 413, 'ERR_BODY_TOO_LARGE'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const answer = await daemon.request(method, path, body);
      expect({ method, path, status: answer.status, code: (answer.body as { error?: { code?: string } }).error?.code }).toEqual({ method, path, status, code });
    }
    expect((await daemon.request('GET', '/containers')).body).toHaveLength(1);
  });

  it('listens on 127.0.0.1 only', async () => {
    await writeConfig({});
    const daemon = await startDaemon();
    expect(daemon.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(daemon.url).port);
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((address) => address !== undefined && !address.internal && address.family === 'IPv4')
      .map((address) => address?.address ?? '');
    for (const host of external) {
      const outcome = await new Promise<string>((resolve) => {
        const socket = connect({ host, port }, () => {
          socket.destroy();
          resolve('connected');
        });
        socket.on('error', (error: NodeJS.ErrnoException) => {
          resolve(error.code ?? 'error');
        });
      });
      expect({ host, outcome }).toEqual({ host, outcome: 'ECONNREFUSED' });
    }
  });

  it('shuts down cleanly on SIGTERM and SIGINT; a restart restores the running containers and their wrappers', async () => {
    await writeConfig({ debug: { path: fake, runtimeArgs: ['--debug'] }, old: { path: fake, runtimeArgs: ['--old'] } });
    const first = await startDaemon();
    const started = await first.request('POST', '/containers', { id: 'c1', runtime: 'debug' });
    const { container } = started.body as { container: { program: string } };
    const oldWrapper = (await liveConfig(first)).derived.runtimes.runtimes.old?.program ?? '';
    first.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });

    await writeConfig({});
    const second = await startDaemon();
    expect((await second.request('GET', '/containers')).body).toEqual([container]);
    expect(await exists(container.program)).toBe(true);
    expect(await exists(oldWrapper)).toBe(false);
    const exec = await second.request('POST', '/containers/c1/exec', { args: ['after-restart'] });
    expect(args((exec.body as { output: string }).output)).toEqual(['--debug', 'exec', 'c1', 'after-restart']);
    second.kill('SIGINT');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });

  it('refuses what a web page could send: another Host, an Origin, a POST that is not JSON', async () => {
    await writeConfig({});
    const daemon = await startDaemon();
    const body = JSON.stringify({ id: 'evil' });
    const json = { 'content-type': 'application/json' };
    const answers = await Promise.all([
      daemon.rawRequest('POST', '/containers', { 'content-type': 'text/plain' }, body),
      daemon.rawRequest('POST', '/containers', { ...json, origin: 'http://evil.example' }, body),
      daemon.rawRequest('POST', '/containers', { ...json, host: 'evil.example' }, body),
      daemon.rawRequest('GET', '/config', { host: `rebound.example:${new URL(daemon.url).port}` }),
      daemon.rawRequest('POST', '/reload', {}),
    ]);
    expect(answers.map((a) => [a.status, (a.body as { error?: { code?: string } }).error?.code])).toEqual([
      [415, 'ERR_CONTENT_TYPE'],
      [403, 'ERR_FORBIDDEN'],
      [403, 'ERR_FORBIDDEN'],
      [403, 'ERR_FORBIDDEN'],
      [415, 'ERR_CONTENT_TYPE'],
    ]);
    expect((await daemon.request('GET', '/containers')).body).toEqual([]);
    const local = await daemon.rawRequest('GET', '/status', { host: `localhost:${new URL(daemon.url).port}` });
    expect(local.status).toBe(200);
  });

  it('applies a config change made while the daemon was starting', async () => {
    // The edit lands once the first of many wrappers is written: after the config was read,
    // before the file watcher starts (with a watcher that took its first read as the
    // baseline, this test fails: the edit is never applied).
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`r${i}`, { path: fake, runtimeArgs: [`--n${i}`] }]));
    await writeConfig(many);
    const daemon = await startDaemonWith({
      whileStarting: async (log) => {
        await eventually(() => log().includes('txconfig:artifacts wrote'), 'the first wrapper written');
        await writeConfig({ ...many, late: { path: fake, runtimeArgs: ['--late'] } });
      },
    });
    await eventually(async () => 'late' in (await liveConfig(daemon)).derived.runtimes.runtimes, 'the edit made during start-up');
  });

  it('honours a SIGHUP sent during start-up instead of dying of it', async () => {
    // SIGHUP's default action ends a process: the daemon traps it before anything else.
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`r${i}`, { path: fake, runtimeArgs: [`--n${i}`] }]));
    await writeConfig(many);
    const daemon = await startDaemonWith(
      {
        whileStarting: async (log, child) => {
          await eventually(() => log().includes('txconfig:artifacts wrote'), 'the first wrapper written');
          await writeConfig({ ...many, hup: { path: fake, runtimeArgs: ['--hup'] } });
          child.kill('SIGHUP');
        },
      },
      '--no-watch',
    );
    await eventually(async () => 'hup' in (await liveConfig(daemon)).derived.runtimes.runtimes, 'the edit the SIGHUP asked for');
  });

  it('finishes a request in flight when told to stop, then exits 0', async () => {
    const slow = join(dir, 'slow-runtime');
    await writeFile(slow, '#!/bin/sh\n[ "$2" = start ] && sleep 0.5\nexit 0\n', { mode: 0o755 });
    await writeConfig({ slow: { path: slow, runtimeArgs: ['--slow'] } });
    const daemon = await startDaemon();
    const inFlight = daemon.request('POST', '/containers', { id: 'c1', runtime: 'slow' });
    await eventually(() => daemon.log.includes('POST /containers'), 'the request to arrive');
    daemon.kill('SIGTERM');
    const answer = await inFlight;
    expect(answer.status).toBe(201);
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
  });
});
