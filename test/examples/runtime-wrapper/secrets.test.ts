// The runtime-wrapper daemon's registry token, end to end: a spawned `daemon.js serve`
// reads it from a secrets directory, hands it to a runtime through its environment, shows
// it nowhere (HTTP answers, metrics, stdout, the debug log, any process's command line),
// and reloads when the file rotates.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { DaemonProcess, runDaemon, type Answer, type DaemonStartOptions } from '../../helpers/daemon-process.js';
import { writeFakeRuntime } from '../../helpers/fake-runtime.js';
import { makeCanary } from '../../helpers/secret-canary.js';
import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.js';
import { eventually } from '../../helpers/watch-recorder.js';

let dir: string;
let fake: string;
let tokenRuntime: string;
let configPath: string;
let stateDir: string;
let secretsDir: string;
let tokenPath: string;
const daemons: DaemonProcess[] = [];

/** Whether every process's command line can be read, as `ps` does (Linux's /proc). */
const HAS_PROC = existsSync('/proc/self/cmdline');

beforeEach(async () => {
  dir = await makeTempDir('txconfig-daemon-secrets-');
  fake = await writeFakeRuntime(dir);
  tokenRuntime = await writeTokenRuntime(dir);
  configPath = join(dir, 'daemon.json');
  stateDir = join(dir, 'state');
  secretsDir = join(dir, 'secrets');
  await mkdir(secretsDir);
  tokenPath = join(secretsDir, 'registry-token');
});
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((daemon) => daemon.stop()));
  await removeTempDir(dir);
});

/**
 * A runtime that records, for each call, the REGISTRY_TOKEN it got (`token-<verb>-<id>`)
 * and the command line of every process running meanwhile (`cmdlines-<verb>-<id>`, as
 * `ps` would show them), then prints its arguments (never the token).
 */
async function writeTokenRuntime(into: string): Promise<string> {
  const path = join(into, 'token-runtime');
  const script = [
    '#!/bin/sh',
    `printf '%s' "\${REGISTRY_TOKEN-<unset>}" > '${into}/token-'"$1-$2"`,
    HAS_PROC ? `cat /proc/[0-9]*/cmdline > '${into}/cmdlines-'"$1-$2" 2>/dev/null` : ':',
    `for arg in "$@"; do printf '%s\\0' "$arg"; done`,
    '',
  ].join('\n');
  await writeFile(path, script, { mode: 0o755 });
  return path;
}

/** What the token runtime recorded for `<verb> <id>`. */
function recorded(kind: 'token' | 'cmdlines', verb: string, id: string): Promise<string> {
  return readFile(join(dir, `${kind}-${verb}-${id}`), 'utf8');
}

/** Writes the token file as a deploy tool does: a temp file renamed over it. */
async function writeToken(text: string, path = tokenPath): Promise<void> {
  await writeFile(`${path}.tmp`, text, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** Writes daemon.json: runtime `private` takes its token from `reference`; `public` has arguments only. */
async function writeConfig(reference = `file:${tokenPath}`): Promise<void> {
  const config = {
    'default-runtime': 'runc',
    runtimes: { private: { path: tokenRuntime, registryToken: { $secret: reference } }, public: { path: fake, runtimeArgs: ['--public'] } },
  };
  await writeFile(`${configPath}.tmp`, JSON.stringify(config, null, 2));
  await rename(`${configPath}.tmp`, configPath);
}

async function startDaemon(options: DaemonStartOptions = {}, ...extra: string[]): Promise<DaemonProcess> {
  const daemon = await DaemonProcess.start(['--config', configPath, '--state-dir', stateDir, '--runc', fake, '--secrets-dir', secretsDir, ...extra], options);
  daemons.push(daemon);
  return daemon;
}

interface ConfigView {
  generation: number;
  config: { runtimes: Record<string, { registryToken?: unknown }> };
  derived: { runtimes: { runtimes: Record<string, { program: string; tokenFile: { path: string } | null }> } };
  origins?: Record<string, { value: unknown; shadowed: { value: unknown }[] }>;
}

async function liveConfig(daemon: DaemonProcess): Promise<ConfigView> {
  return (await daemon.request('GET', '/config')).body as ConfigView;
}

async function statusOf(daemon: DaemonProcess): Promise<{ generation: number; lastReloadSuccessful: boolean; lastError: { code: string; message: string } | null }> {
  return (await daemon.request('GET', '/status')).body as never;
}

/** Hex SHA-256 of a secret, with and without the newline its file ends with: what anyone could compute from a guess. */
function guessableHashes(secret: string): string[] {
  return [secret, `${secret}\n`].map((value) => createHash('sha256').update(value).digest('hex'));
}

/** Every text of `texts` that holds `secret`, by name: `{}` when none does. */
function holding(texts: Readonly<Record<string, string>>, secret: string): Record<string, number> {
  return Object.fromEntries(Object.entries(texts).flatMap(([name, text]) => (text.includes(secret) ? [[name, text.split(secret).length - 1]] : [])));
}

describe('the daemon and a registry token from a secrets directory', () => {
  it('hands the token to the runtime in its environment only, applies a rotated file once as a new wrapper, and shows neither token anywhere', async () => {
    const [first, second] = [makeCanary(), makeCanary()];
    await writeToken(`${first}\n`);
    await writeConfig();
    const daemon = await startDaemon();
    const answers: Answer[] = [];
    const ask = async (method: string, path: string, body?: unknown): Promise<Answer> => {
      const answer = await daemon.request(method, path, body);
      answers.push(answer);
      return answer;
    };

    const before = (await ask('GET', '/config')).body as ConfigView;
    expect(before.config.runtimes.private?.registryToken).toBe('[redacted]');
    const origins = ((await ask('GET', '/config?origins=1')).body as ConfigView).origins ?? {};
    expect(origins['/runtimes/private/registryToken']?.value).toBe('[redacted]');
    const started = await ask('POST', '/containers', { id: 'c1', runtime: 'private' });
    expect(started.status).toBe(201);
    expect(await recorded('token', 'start', 'c1')).toBe(first);
    expect((await ask('POST', '/containers/c1/exec', { args: ['ps'] })).status).toBe(200);
    expect(await recorded('token', 'exec', 'c1')).toBe(first);

    // Rotation: a new generation, once, with a new wrapper for "private" only.
    const wrapper = before.derived.runtimes.runtimes.private?.program;
    await writeToken(`${second}\n`);
    await eventually(async () => (await liveConfig(daemon)).generation === before.generation + 1, 'the rotation applied');
    await sleep(500); // long enough for a second reload, had there been one
    const after = (await ask('GET', '/config')).body as ConfigView;
    expect(after.generation).toBe(before.generation + 1);
    expect(after.derived.runtimes.runtimes.private?.program).not.toBe(wrapper);
    expect(after.derived.runtimes.runtimes.public?.program).toBe(before.derived.runtimes.runtimes.public?.program);
    expect((await ask('POST', '/containers', { id: 'c2', runtime: 'private' })).status).toBe(201);
    expect(await recorded('token', 'start', 'c2')).toBe(second);
    // c1 keeps the wrapper it started with, and with it the token it started with.
    expect((await ask('POST', '/containers/c1/exec', { args: ['ps'] })).status).toBe(200);
    expect(await recorded('token', 'exec', 'c1')).toBe(first);
    expect((await ask('POST', '/reload')).body).toMatchObject({ status: 'unchanged' });
    await ask('GET', '/config?origins=1');
    await ask('GET', '/status');
    await ask('GET', '/metrics');
    await ask('GET', '/containers');
    await ask('DELETE', '/containers/c1');

    // The token file is the one file that holds it; the wrappers do not.
    const files = await readdir(join(stateDir, 'wrappers'));
    const tokenFiles = files.filter((name) => name.startsWith('private.registry-token-'));
    expect(tokenFiles).toHaveLength(1);
    expect((await stat(join(stateDir, 'wrappers', tokenFiles[0] ?? ''))).mode & 0o777).toBe(0o600);
    const texts: Record<string, string> = {
      stdout: daemon.stdout,
      'stderr (DEBUG=runtime-wrapper:*,txconfig:*)': daemon.log,
      'containers.json': await readFile(join(stateDir, 'containers.json'), 'utf8'),
      'wrapper file names': files.join('\n'),
      ...Object.fromEntries(answers.map((answer, index) => [`answer ${index}`, answer.text])),
    };
    for (const name of files.filter((file) => !tokenFiles.includes(file))) texts[`wrapper ${name}`] = await readFile(join(stateDir, 'wrappers', name), 'utf8');
    if (HAS_PROC) for (const [verb, id] of [['start', 'c1'], ['exec', 'c1'], ['start', 'c2']] as const) texts[`command lines during ${verb} ${id}`] = await recorded('cmdlines', verb, id);
    expect(daemon.log).toContain('txconfig:'); // the debug log was on
    if (HAS_PROC) expect(texts['command lines during start c2']).toContain(tokenRuntime); // and ps saw the runtime
    for (const secret of [first, second]) expect(holding(texts, secret)).toEqual({});
    // No hash that a guess could be checked against, except where the library logs one (see below).
    const ownTexts = { ...texts, 'stderr (DEBUG=runtime-wrapper:*,txconfig:*)': daemon.log };
    for (const hash of [...guessableHashes(first), ...guessableHashes(second)]) expect(holding(ownTexts, hash)).toEqual({});
  });

  // The watch of a secret file once logged the SHA-256 of the file's bytes, an unkeyed
  // hash that let anyone who read the debug log test a guess of the token offline.
  it('logs no unkeyed hash of a rotated token under DEBUG=txconfig:*', async () => {
    const token = makeCanary();
    await writeToken('first\n');
    await writeConfig();
    const daemon = await startDaemon();
    await writeToken(`${token}\n`);
    await eventually(async () => (await liveConfig(daemon)).generation === 2, 'the rotation applied');
    for (const hash of guessableHashes(token)) expect(daemon.log).not.toContain(hash);
  });

  it('rejects a reload whose token file is missing, out of the roots or unusable, naming the reference, and keeps serving the last token', async () => {
    const canary = makeCanary();
    await writeToken(`${canary}\n`);
    await writeConfig();
    const daemon = await startDaemon({ debug: false });
    const live = await liveConfig(daemon);
    const lines = (): string[] => daemon.log.split('\n').filter((line) => line !== '');

    // The file goes: the rotation is rejected, and said so on stderr.
    await rm(tokenPath);
    await eventually(() => lines().length > 0, 'the missing file rejected');
    expect(lines()[0]).toMatch(/^config reload on secret file change rejected, still serving generation 1: ERR_SECRET: .*ERR_SECRET: /);
    expect(lines()[0]).toContain(`file:${tokenPath}`);
    expect(await statusOf(daemon)).toMatchObject({ generation: 1, lastReloadSuccessful: false, lastError: { code: 'ERR_SECRET' } });
    expect(await liveConfig(daemon)).toEqual(live);
    expect((await daemon.request('POST', '/containers', { id: 'c1', runtime: 'private' })).status).toBe(201);
    expect(await recorded('token', 'start', 'c1')).toBe(canary);

    // A reference outside the roots is refused before anything is read.
    const outside = join(dir, 'elsewhere');
    await mkdir(outside);
    await writeToken(`${makeCanary()}\n`, join(outside, 'token'));
    await writeConfig(`file:${join(outside, 'token')}`);
    const refused = await daemon.request('POST', '/reload');
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ status: 'rejected', generation: 1, error: { code: 'ERR_SECRET' } });
    expect(refused.text).toContain(`file:${join(outside, 'token')}`);
    expect(refused.text).toContain('outside the allowed roots');

    // A token the wrapper cannot carry: refused by the plugin, which names the runtime only.
    await writeConfig();
    await writeToken(`${canary}\nsecond line\n`);
    const unusable = await daemon.request('POST', '/reload');
    expect(unusable.body).toMatchObject({ status: 'rejected', error: { code: 'ERR_PREPARE', failures: [{ participant: 'runtimes', error: { code: 'ERR_RUNTIME_CONFIG' } }] } });

    await writeToken('fixed\n');
    await eventually(async () => (await liveConfig(daemon)).generation === 2, 'the fixed file applied');
    expect(lines().some((line) => line.includes('registryToken holds a line break'))).toBe(true);
    expect(holding({ stderr: daemon.log, stdout: daemon.stdout, refused: refused.text, unusable: unusable.text, status: JSON.stringify(await statusOf(daemon)) }, canary)).toEqual({});
  });

  it('refuses to start, saying how to fix it, when the config references a secret and no --secrets-dir is given', async () => {
    await writeToken('tok\n');
    await writeConfig();
    const run = await runDaemon(['serve', '--config', configPath, '--state-dir', stateDir, '--runc', fake]);
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: ERR_SECRET: .*--secrets-dir/);
    expect(lines[0]).toContain(`file:${tokenPath}`);
  });

  it('refuses a registry token given as a flag (ps shows it), without repeating it', async () => {
    const canary = makeCanary();
    await writeConfig();
    for (const flag of [[`--runtimes.private.registryToken=${canary}`], ['--runtimes.other.registryToken', canary], [`--runtimes.x.registrytoken=${canary}`]]) {
      const run = await runDaemon(['serve', '--config', configPath, '--state-dir', stateDir, '--secrets-dir', secretsDir, ...flag]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^error: --runtimes\.\w+\.registry[Tt]oken: a secret on the command line is shown by ps to every user/);
      expect(run.stderr).not.toContain(canary);
    }
  });
});
