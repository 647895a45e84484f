// `daemon.js demo`: the runtime-wrapper story, end to end, on a fresh temporary
// directory, with a fake runtime binary that prints its arguments. The config comes from
// layers, as the daemon reads it: defaults, daemon.json, a conf.d, the environment and
// flags; a registry token comes from a secrets directory laid out like a Kubernetes Secret
// volume. Every step checks what it claims; any check that fails makes the exit code non-zero.
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { ConflictError, ReloadError, argv, fileSecrets, isTxConfigError, type Explanation, type Origin } from 'txconfig';

import { describeConfig } from './control-api.js';
import { daemonConfigSource } from './daemon-config.js';
import { openDaemon, type RuntimeStore } from './open-daemon.js';
import { RuntimeConfigError, quoteShellArg } from './plugin.js';

/** The fake runtime: prints each argument on its own line between `<` and `>`. */
const FAKE_RUNTIME = `#!/bin/sh
for arg in "$@"; do printf '<%s>\\n' "$arg"; done
`;

/** A runtime that needs a registry token: it writes the REGISTRY_TOKEN it got to `received`, and prints its arguments. */
function registryRuntime(received: string): string {
  return `#!/bin/sh
printf '%s' "$REGISTRY_TOKEN" > ${quoteShellArg(received)}
for arg in "$@"; do printf '<%s>\\n' "$arg"; done
`;
}

/** Arguments a shell would mangle, or run as commands that create `marker`, if the wrapper did not quote them. */
function hostileArgs(marker: string): string[] {
  return ['--log', '/var/log/a b.log', "it's", `$(touch ${marker})`, `\`touch ${marker}\``, `a; touch ${marker}`, 'two\nlines', ''];
}

let failures = 0;

function step(title: string): void {
  console.log(`\n== ${title}`);
}

function check(condition: boolean, what: string): void {
  console.log(`   ${condition ? 'ok  ' : 'FAIL'} ${what}`);
  if (!condition) failures += 1;
}

function show(text: string): void {
  for (const line of text.trimEnd().split('\n')) console.log(`     | ${line}`);
}

/** What the fake runtime prints for `args`. */
function printed(args: readonly string[]): string {
  return args.map((arg) => `<${arg}>\n`).join('');
}

/** A place in a layer, short: `daemon.json:4:16`, `env RUNTIME_WRAPPER_DEFAULT_RUNTIME`, `flag --x`. */
function place(layer: string, origin: Origin): string {
  if (origin.file !== undefined) return `${layer} ${basename(origin.file)}${origin.line === undefined ? '' : `:${origin.line}:${origin.column ?? 0}`}`;
  if (origin.env !== undefined) return `env ${origin.env}`;
  if (origin.flag !== undefined) return `flag ${origin.flag}`;
  return layer;
}

/** One line of `store.explain()`: where the value came from, and what it shadowed. */
function originLine(explanation: Explanation): string {
  const shadowed = explanation.shadowed.map((lower) => place(lower.layer, lower.origin));
  return `${explanation.pointer} from ${place(explanation.layer, explanation.origin)}${shadowed.length > 0 ? `, over ${shadowed.join(', ')}` : ''}`;
}

/** Writes JSON the way editors and config management do: a temporary file (a dot name, which a conf.d never reads) renamed over it. */
async function writeJson(path: string, value: unknown): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.tmp`);
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temp, path);
}

/**
 * Writes `files` into the Secret volume `volume` the way the kubelet does: into a new
 * directory `..v<version>`, then `..data` swapped to it by one rename (each file is a
 * symlink through `..data`), then the previous directory removed.
 */
async function writeSecretVolume(volume: string, files: Readonly<Record<string, string>>, version: number): Promise<void> {
  const data = `..v${version}`;
  await mkdir(join(volume, data), { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(volume, data, name), text, { mode: 0o600 });
  await symlink(data, join(volume, '..data_tmp'));
  await rename(join(volume, '..data_tmp'), join(volume, '..data'));
  for (const name of Object.keys(files)) if (!existsSync(join(volume, name))) await symlink(join('..data', name), join(volume, name));
  for (const entry of await readdir(volume)) if (entry.startsWith('..v') && entry !== data) await rm(join(volume, entry), { recursive: true });
}

/** Resolves once `condition` holds, polling; false after `timeoutMs`. */
async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

/** Runs the demo; resolves to the process exit code. */
export async function runDemo(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'runtime-wrapper-demo-'));
  try {
    await walkStory(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(failures === 0 ? '\nAll steps behaved.' : `\n${failures} check(s) FAILED.`);
  return failures === 0 ? 0 : 1;
}

async function walkStory(dir: string): Promise<void> {
  const etc = join(dir, 'etc');
  const configPath = join(etc, 'daemon.json');
  const configDir = join(etc, 'daemon.d');
  await mkdir(configDir, { recursive: true });
  const fake = join(etc, 'fake-runtime');
  await writeFile(fake, FAKE_RUNTIME, { mode: 0o755 });
  await chmod(fake, 0o755);
  const stateDir = join(dir, 'state');
  const secretsDir = join(dir, 'secrets');
  await mkdir(secretsDir);
  const marker = join(dir, 'injected');
  const hostile = hostileArgs(marker);
  const layers = (flags: readonly string[]) =>
    daemonConfigSource({
      configPath,
      configDir,
      configDirRequired: true,
      environment: { RUNTIME_WRAPPER_DEFAULT_RUNTIME: 'trace' },
      flags: argv(flags),
    });

  step('Cold start from five layers: defaults, daemon.json, daemon.d/, the environment, flags');
  // daemon.json names its runtimes' program relative to itself, as ./fake-runtime.
  await writeJson(configPath, {
    'default-runtime': 'runc',
    runtimes: { debug: { path: fake, runtimeArgs: ['--debug', ...hostile] }, trace: { path: './fake-runtime', runtimeArgs: ['--trace'] } },
  });
  await writeJson(join(configDir, '10-crun.json'), { runtimes: { crun: { path: fake } } });
  console.log('     RUNTIME_WRAPPER_DEFAULT_RUNTIME=trace  --runtimes.crun.runtimeArgs=\'["--systemd-cgroup"]\'');
  const { store, artifacts, engine } = await openDaemon({
    stateDir,
    source: layers(['--runtimes.crun.runtimeArgs=["--systemd-cgroup"]']),
    builtins: { runc: fake },
    secrets: [fileSecrets({ roots: [secretsDir] })],
  });
  try {
    await walkWithStore(store, { fake, configPath, configDir, stateDir, secretsDir, marker, hostile, layers }, engine, artifacts);
  } finally {
    await store.close();
  }
}

/** What the steps after the cold start need. */
interface Story {
  readonly fake: string;
  readonly configPath: string;
  readonly configDir: string;
  readonly stateDir: string;
  readonly secretsDir: string;
  readonly marker: string;
  readonly hostile: readonly string[];
  readonly layers: (flags: readonly string[]) => ReturnType<typeof daemonConfigSource>;
}

type Opened = Awaited<ReturnType<typeof openDaemon>>;

async function walkWithStore(store: RuntimeStore, story: Story, engine: Opened['engine'], artifacts: Opened['artifacts']): Promise<void> {
  const { fake, configPath, configDir, marker, hostile } = story;
  for (const pointer of ['/default-runtime', '/runtimes/debug/path', '/runtimes/trace/path', '/runtimes/crun/path', '/runtimes/crun/runtimeArgs']) {
    console.log(`     ${originLine(store.explain(pointer))}`);
  }
  const live = store.load();
  const fallback = store.explain('/default-runtime');
  check(live.config['default-runtime'] === 'trace' && fallback.layer === 'env' && fallback.shadowed[0]?.layer === 'file', 'the environment overrides daemon.json, which overrides the defaults');
  check(live.config.runtimes.trace?.path === fake, `./fake-runtime in daemon.json is taken from its directory: ${live.config.runtimes.trace?.path ?? '?'}`);
  check(live.derived.runtimes.runtimes.crun?.wrapped === true, 'crun, from daemon.d/, runs through a wrapper: its arguments came as a flag');
  const debugWrapper = live.derived.runtimes.runtimes.debug;
  check(debugWrapper?.wrapped === true, `generation ${live.generation}: "debug" runs through ${debugWrapper?.program ?? '?'}`);
  show(await readFile(debugWrapper?.program ?? '', 'utf8'));

  step('A flag that daemon.json also sets is refused at start, naming both');
  try {
    const refused = await openDaemon({ stateDir: join(story.stateDir, 'refused'), source: story.layers(['--runtimes.trace.path=/usr/bin/runc']), builtins: { runc: fake } });
    await refused.store.close();
    check(false, 'a flag that daemon.json also sets must be refused');
  } catch (error) {
    const cause = error instanceof ReloadError ? error.failures[0]?.error : undefined;
    console.log(`     ${isTxConfigError(error) ? error.code : String(error)}: ${cause instanceof Error ? cause.message : '?'}`);
    check(isTxConfigError(error) && error.code === 'ERR_LOAD' && cause instanceof ConflictError, 'refused with ERR_LOAD, caused by ERR_CONFLICT');
    check(cause instanceof ConflictError && cause.sides[0].origin.file === configPath && cause.sides[1].origin.flag === '--runtimes.trace.path', 'the error names daemon.json (line and column) and the flag');
  }

  step('Start container c1 with the wrapped runtime "debug"');
  const c1 = await engine.start('c1', 'debug');
  show(c1.result.stdout);
  check(c1.result.stdout === printed(['--debug', ...hostile, 'start', 'c1']), 'every argument reached the binary exactly as configured, none ran as shell');
  check(!existsSync(marker), 'no injected command ran');

  step('Edit daemon.json (drop "debug") and add daemon.d/20-trace.json (more "trace" arguments) together');
  const before = store.load().generation;
  await writeJson(join(configDir, '20-trace.json'), { runtimes: { trace: { runtimeArgs: ['--trace', '--verbose'] } } });
  await writeJson(configPath, { 'default-runtime': 'runc', runtimes: { trace: { path: './fake-runtime', runtimeArgs: ['--trace'] } } });
  // The store watches every file of every layer: the two changes are one burst, one reload.
  const reloaded = await waitFor(() => store.load().generation > before, 10_000);
  await sleep(500); // long enough for a second reload, had there been one
  const after = store.load();
  console.log(`     generation ${before} -> ${after.generation}`);
  console.log(`     ${originLine(store.explain('/runtimes/trace/runtimeArgs'))}`);
  console.log(`     /runtimes/debug ${'debug' in after.config.runtimes ? `from ${place(store.explain('/runtimes/debug').layer, store.explain('/runtimes/debug').origin)}` : 'gone: no layer sets it'}`);
  check(reloaded && after.generation === before + 1, 'both files were applied as one generation');
  check(!('debug' in after.config.runtimes) && after.config.runtimes.trace?.runtimeArgs?.join(' ') === '--trace --verbose', 'it holds both changes: no "debug", and the conf.d file\'s "trace" arguments');
  const gcAfterReload = await store.collectGarbage();
  const held = gcAfterReload.entries.find((entry) => entry.artifact.path === c1.container.program);
  check(existsSync(c1.container.program), `c1's wrapper is still on disk, held by: ${held?.roots.map((root) => `${root.kind} ${root.detail}`).join(', ') ?? 'nothing'}`);

  step('Exec into c1: it runs through its old wrapper, for real');
  const exec = await engine.exec('c1', ['ps', '-ef']);
  show(exec.stdout);
  check(exec.stdout === printed(['--debug', ...hostile, 'exec', 'c1', 'ps', '-ef']), 'the old wrapper ran with the old arguments');

  // Before the hand-made transaction below: adding a conf.d file re-reads every layer,
  // which would put back what the files say over what that transaction changed.
  const c3 = await walkRegistryToken(store, story, engine);

  step('Start c2 with "trace" while a transaction that changes "trace" commits');
  const oldTrace = store.load().derived.runtimes.runtimes.trace?.program ?? '';
  // A transaction driven by hand, as an admin API would: it changes the live config (the
  // files say otherwise until they are next read), and explain() says so.
  const transaction = (await store.begin()).update((draft) => {
    const trace = draft.runtimes.trace;
    if (trace !== undefined) trace.runtimeArgs = ['--trace', '--verbose', '--v2'];
  });
  const prepared = await transaction.prepare();
  const starting = engine.start('c2', 'trace'); // reads the live snapshot and takes its lease now, in this turn
  const committed = prepared.commit();
  const collected = await store.collectGarbage();
  const c2 = await starting;
  check(committed.status === 'applied', `the transaction committed generation ${committed.snapshot.generation} while c2 was starting; ${originLine(store.explain('/runtimes/trace/runtimeArgs'))}`);
  check(c2.container.program === oldTrace && existsSync(oldTrace), 'c2 used the wrapper that existed when it started, and it still exists');
  check(!collected.removed.some((artifact) => artifact.path === oldTrace), 'the collection that ran during the start left that wrapper alone');
  check(c2.result.stdout === printed(['--trace', '--verbose', 'start', 'c2']), 'c2 started through it');
  const newTrace = store.load().derived.runtimes.runtimes.trace?.program ?? '';
  check(newTrace !== oldTrace, `new containers get the new wrapper ${newTrace}`);

  step('Reload a broken config: a runtime named "runc", a relative path, a default naming nothing');
  const current = store.load();
  try {
    // Given whole to reload(): a relative path can only come this way (the layers resolve theirs).
    await store.reload({ 'default-runtime': 'missing', runtimes: { runc: { path: 'bin/runc', runtimeArgs: ['x'] } } });
    check(false, 'the broken config must be rejected');
  } catch (error) {
    const cause = error instanceof ReloadError ? error.failures[0]?.error : undefined;
    check(isTxConfigError(error) && error.code === 'ERR_PREPARE', `rejected with ${isTxConfigError(error) ? error.code : String(error)}`);
    if (cause instanceof RuntimeConfigError) for (const problem of cause.problems) console.log(`     - ${problem}`);
    check(cause instanceof RuntimeConfigError && cause.problems.length === 3, 'the error names all three problems');
  }
  check(store.load() === current, `the live config is the very same snapshot, generation ${current.generation}, still serving`);
  check(store.status().lastError?.code === 'ERR_PREPARE', `status() reports the failure: ${store.status().lastError?.message ?? ''}`);
  const stillServing = await engine.exec('c1', ['true']);
  check(stillServing.stdout.endsWith('<exec>\n<c1>\n<true>\n'), 'c1 still execs');

  step('Stop the containers: each stop collects garbage, and their old wrappers (and token file) go');
  const stopped1 = await engine.stop('c1');
  check(!existsSync(c1.container.program), `c1's wrapper is gone: removed ${stopped1.gc.removed.length} file(s)`);
  const stopped2 = await engine.stop('c2');
  check(!existsSync(oldTrace) && existsSync(newTrace), "c2's old wrapper is gone; the live wrapper stays");
  check(stopped2.gc.removed.length === 1, `removed ${stopped2.gc.removed.length} file(s)`);
  const stopped3 = await engine.stop('c3');
  check(
    stopped3.gc.removed.map((artifact) => artifact.path).sort().join('\n') === [c3.program, c3.tokenFile?.path ?? '?'].sort().join('\n'),
    "c3's wrapper and the old token's file are gone",
  );
  await engine.stop('c4');
  const left = (await artifacts.list()).map((artifact) => artifact.path).sort();
  const liveFiles = Object.values(store.load().derived.runtimes.runtimes).flatMap((runtime) => [runtime.artifact?.path ?? [], runtime.tokenFile?.path ?? []].flat()).sort();
  check(left.join('\n') === liveFiles.join('\n'), `${left.length} files left on disk: the live ones (${liveFiles.map((path) => basename(path).slice(0, -65)).join(', ')})`);
}

/**
 * The registry token: a runtime that needs it gets it from a secret file, in its
 * environment; nothing shows it; rotating the file applies a new wrapper. Leaves c3 (on
 * the first token's wrapper) and c4 (on the second's) running, and returns c3's files.
 */
async function walkRegistryToken(store: RuntimeStore, story: Story, engine: Opened['engine']): Promise<{ program: string; tokenFile: { path: string } | null }> {
  const { configDir, secretsDir } = story;
  const tokens = ['demo-registry-token-1', 'demo-registry-token-2'] as const;
  const received = join(dirname(configDir), 'received-token');
  const runtimePath = join(dirname(configDir), 'registry-runtime');
  await writeFile(runtimePath, registryRuntime(received), { mode: 0o755 });
  const shows = (text: string): boolean => tokens.some((token) => text.includes(token));

  step('Add a runtime "private" whose registry token is a secret file, like a Kubernetes Secret volume');
  await writeSecretVolume(secretsDir, { 'registry-token': `${tokens[0]}\n` }, 1);
  const reference = join(secretsDir, 'registry-token');
  console.log(`     daemon.d/30-private.json: "registryToken": { "$secret": "file:${reference}" }`);
  const before = store.load().generation;
  await writeJson(join(configDir, '30-private.json'), { runtimes: { private: { path: runtimePath, registryToken: { $secret: `file:${reference}` } } } });
  const added = await waitFor(() => store.load().generation > before, 10_000);
  const first = store.load().derived.runtimes.runtimes.private;
  check(added && first?.wrapped === true && first.tokenFile !== null, `generation ${store.load().generation}: "private" runs through a wrapper that reads a token file`);
  const script = await readFile(first?.program ?? '', 'utf8');
  show(script);
  const tokenMode = first?.tokenFile === undefined || first.tokenFile === null ? 0 : (await stat(first.tokenFile.path)).mode & 0o777;
  check(!shows(script) && tokenMode === 0o600, `the wrapper holds no token; the token file beside it has mode ${tokenMode.toString(8)}`);

  const c3 = await engine.start('c3', 'private');
  show(c3.result.stdout);
  check((await readFile(received, 'utf8')) === tokens[0] && !shows(c3.result.stdout), 'the runtime got REGISTRY_TOKEN in its environment; its arguments are only "start c3"');
  const answer = describeConfig(store, { origins: true });
  const { private: shown } = (answer.config as { runtimes: Record<string, unknown> }).runtimes;
  console.log(`     GET /config: "private": ${JSON.stringify(shown)}`);
  check(!shows(JSON.stringify(answer)) && !shows(JSON.stringify(store.status())), '/config, /config?origins=1 and /status show [redacted], never the token');

  step('Rotate the token: the kubelet writes the new one and swaps ..data');
  const rotatedFrom = store.load().generation;
  await writeSecretVolume(secretsDir, { 'registry-token': `${tokens[1]}\n` }, 2);
  const rotated = await waitFor(() => store.load().generation > rotatedFrom, 10_000);
  await sleep(500); // long enough for a second reload, had there been one
  const second = store.load().derived.runtimes.runtimes.private;
  check(rotated && store.load().generation === rotatedFrom + 1, `one reload: generation ${rotatedFrom} -> ${store.load().generation}`);
  check(second !== undefined && second.program !== first?.program, `"private" has a new wrapper: ${basename(second?.program ?? '?')}`);
  const c4 = await engine.start('c4', 'private');
  check(c4.container.program === second?.program && (await readFile(received, 'utf8')) === tokens[1], 'c4 starts with the new token');
  await engine.exec('c3', ['ps']);
  check((await readFile(received, 'utf8')) === tokens[0], 'c3 keeps its wrapper, and the token it started with');
  check(!shows(JSON.stringify(describeConfig(store, { origins: true }))), '/config still shows [redacted]');
  return { program: c3.container.program, tokenFile: c3.container.tokenFile };
}
