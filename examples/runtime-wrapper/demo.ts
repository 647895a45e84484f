// `daemon.js demo`: the runtime-wrapper story, end to end, on a fresh temporary state
// directory, with a fake runtime binary that prints its arguments. Every step checks
// what it claims; any check that fails makes the exit code non-zero.
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { isTxConfigError, ReloadError } from 'txconfig';

import { openDaemon } from './open-daemon.js';
import { RuntimeConfigError } from './plugin.js';

/** The fake runtime: prints each argument on its own line between `<` and `>`. */
const FAKE_RUNTIME = `#!/bin/sh
for arg in "$@"; do printf '<%s>\\n' "$arg"; done
`;

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

/** Runs the demo; resolves to the process exit code. */
export async function runDemo(): Promise<number> {
  const stateDir = await mkdtemp(join(tmpdir(), 'runtime-wrapper-demo-'));
  try {
    await walkStory(stateDir);
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
  console.log(failures === 0 ? '\nAll steps behaved.' : `\n${failures} check(s) FAILED.`);
  return failures === 0 ? 0 : 1;
}

async function walkStory(stateDir: string): Promise<void> {
  const fake = join(stateDir, 'fake-runtime');
  await writeFile(fake, FAKE_RUNTIME, { mode: 0o755 });
  await chmod(fake, 0o755);
  const config = (runtimes: Record<string, { path: string; runtimeArgs?: string[] }>, fallback = 'runc') => ({
    'default-runtime': fallback,
    runtimes,
  });

  step('Cold start: a config with a wrapped runtime "debug"');
  const marker = join(stateDir, 'injected');
  const hostile = hostileArgs(marker);
  const initial = config({ debug: { path: fake, runtimeArgs: ['--debug', ...hostile] }, trace: { path: fake, runtimeArgs: ['--trace'] } });
  const { store, artifacts, engine } = await openDaemon({ stateDir, initial, builtins: { runc: fake } });
  const debugWrapper = store.load().derived.runtimes.runtimes.debug;
  check(debugWrapper?.wrapped === true, `generation ${store.load().generation}: "debug" runs through ${debugWrapper?.program ?? '?'}`);
  show(await readFile(debugWrapper?.program ?? '', 'utf8'));

  step('Start container c1 with the wrapped runtime "debug"');
  const c1 = await engine.start('c1', 'debug');
  show(c1.result.stdout);
  check(c1.result.stdout === printed(['--debug', ...hostile, 'start', 'c1']), 'every argument reached the binary exactly as configured, none ran as shell');
  check(!existsSync(marker), 'no injected command ran');

  step('Reload a config that drops "debug" (garbage collection runs right after)');
  const dropped = await store.reload(config({ trace: { path: fake, runtimeArgs: ['--trace'] } }));
  const gcAfterReload = await store.collectGarbage();
  check(dropped.status === 'applied' && !('debug' in store.load().derived.runtimes.runtimes), `generation ${store.load().generation} is live without "debug"`);
  const held = gcAfterReload.entries.find((entry) => entry.artifact.path === c1.container.program);
  check(existsSync(c1.container.program), `c1's wrapper is still on disk, held by: ${held?.roots.map((root) => `${root.kind} ${root.detail}`).join(', ') ?? 'nothing'}`);

  step('Exec into c1: it runs through its old wrapper, for real');
  const exec = await engine.exec('c1', ['ps', '-ef']);
  show(exec.stdout);
  check(exec.stdout === printed(['--debug', ...hostile, 'exec', 'c1', 'ps', '-ef']), 'the old wrapper ran with the old arguments');

  step('Start c2 with "trace" while a reload that changes "trace" commits');
  const oldTrace = store.load().derived.runtimes.runtimes.trace?.program ?? '';
  const transaction = (await store.begin()).set(config({ trace: { path: fake, runtimeArgs: ['--trace', '--verbose'] } }));
  const prepared = await transaction.prepare();
  const starting = engine.start('c2', 'trace'); // reads the live snapshot and takes its lease now, in this turn
  const committed = prepared.commit();
  const collected = await store.collectGarbage();
  const c2 = await starting;
  check(committed.status === 'applied', `the reload committed generation ${committed.snapshot.generation} while c2 was starting`);
  check(c2.container.program === oldTrace && existsSync(oldTrace), 'c2 used the wrapper that existed when it started, and it still exists');
  check(!collected.removed.some((artifact) => artifact.path === oldTrace), 'the collection that ran during the start left that wrapper alone');
  check(c2.result.stdout === printed(['--trace', 'start', 'c2']), 'c2 started through it');
  const newTrace = store.load().derived.runtimes.runtimes.trace?.program ?? '';
  check(newTrace !== oldTrace, `new containers get the new wrapper ${newTrace}`);

  step('Reload a broken config: a runtime named "runc", a relative path, a default naming nothing');
  const live = store.load();
  try {
    await store.reload(config({ runc: { path: 'bin/runc', runtimeArgs: ['x'] } }, 'missing'));
    check(false, 'the broken config must be rejected');
  } catch (error) {
    const cause = error instanceof ReloadError ? error.failures[0]?.error : undefined;
    check(isTxConfigError(error) && error.code === 'ERR_PREPARE', `rejected with ${isTxConfigError(error) ? error.code : String(error)}`);
    if (cause instanceof RuntimeConfigError) for (const problem of cause.problems) console.log(`     - ${problem}`);
    check(cause instanceof RuntimeConfigError && cause.problems.length === 3, 'the error names all three problems');
  }
  check(store.load() === live, `the live config is the very same snapshot, generation ${live.generation}, still serving`);
  check(store.status().lastError?.code === 'ERR_PREPARE', `status() reports the failure: ${store.status().lastError?.message ?? ''}`);
  const stillServing = await engine.exec('c1', ['true']);
  check(stillServing.stdout.endsWith('<exec>\n<c1>\n<true>\n'), 'c1 still execs');

  step('Stop c1 and c2: each stop collects garbage, and their old wrappers go');
  const stopped1 = await engine.stop('c1');
  check(!existsSync(c1.container.program), `c1's wrapper is gone: removed ${stopped1.gc.removed.length} file(s)`);
  const stopped2 = await engine.stop('c2');
  check(!existsSync(oldTrace) && existsSync(newTrace), "c2's old wrapper is gone; the live wrapper stays");
  check(stopped2.gc.removed.length === 1, `removed ${stopped2.gc.removed.length} file(s)`);
  const left = await artifacts.list();
  check(left.length === 1 && left[0]?.path === newTrace, `${left.length} wrapper left on disk: the live one`);
}
