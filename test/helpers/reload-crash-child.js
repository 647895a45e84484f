// Child process for test/reliability/crash-reload.test.ts: a daemon on the BUILT package
// and the BUILT runtime-wrapper plugin (examples/runtime-wrapper/plugin.ts), reloading and
// starting and stopping "containers" at random until it is killed with SIGKILL.
//
// State directory: config.json (always a valid config, replaced atomically, as an operator
// would), containers.json (the containers running, each with the wrapper it uses: the
// keep-list of the next start), artifacts/ (the wrappers).
// At start it does what a daemon does after a crash: reads containers.json, opens the
// artifact store with that keep-list and removeUnkept, and cold-starts from config.json.
//
// Reports on stdout, one character each, so the parent knows where a kill landed:
// 'R' reload begun, 'r' reload ended, 'W' artifact write begun (temporary file opened),
// 'w' temporary file removed (the write is over). 'ready\n' once started.
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';

import { ConfigStore, FsArtifactStore, defaultFileSystem, readConfigFile } from '../../dist/index.js';
import { runtimeConfigSchema, runtimeWrappers } from '../../build/examples/runtime-wrapper/plugin.js';

const stateDir = process.argv[2];
if (stateDir === undefined) throw new Error('usage: reload-crash-child.js <state dir>');
const configPath = join(stateDir, 'config.json');
const badPath = join(stateDir, 'bad.json');
const containersPath = join(stateDir, 'containers.json');

const say = (mark) => process.stdout.write(mark);

/** Writes `value` as JSON to `path` atomically: a temporary file, then rename. */
function replaceJson(path, value) {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(value));
  renameSync(temp, path);
}

/** A random runtime config: up to 5 runtimes, most with arguments, some large. */
function randomConfig() {
  const runtimes = {};
  for (let i = 0; i < 6; i++) {
    if (randomInt(3) === 0) continue;
    const args = [];
    for (let n = randomInt(4); n > 0; n--) args.push(randomInt(4) === 0 ? `--pad=${'x'.repeat(randomInt(256 * 1024))}` : `--flag-${randomInt(5)}`);
    runtimes[`rt${i}`] = { path: `/usr/bin/runtime-${i}`, ...(args.length > 0 ? { runtimeArgs: args } : {}) };
  }
  const names = Object.keys(runtimes);
  return { 'default-runtime': names.length > 0 && randomInt(2) === 0 ? names[randomInt(names.length)] : 'runc', runtimes };
}

let containers = [];
try {
  containers = JSON.parse(readFileSync(containersPath, 'utf8'));
} catch (error) {
  if (error.code !== 'ENOENT') throw error;
}

// The seam marks where a write is, so the parent can tell a kill mid-write.
const fs = {
  open: async (path, flags, mode) => {
    const fd = await defaultFileSystem.open(path, flags, mode);
    if (path.includes('/.tmp-')) say('W');
    return fd;
  },
  unlink: async (path) => {
    await defaultFileSystem.unlink(path);
    if (path.includes('/.tmp-')) say('w');
  },
};
const artifacts = await FsArtifactStore.open(join(stateDir, 'artifacts'), {
  keep: containers.map((c) => c.artifact.path),
  removeUnkept: true,
  fs,
});
const store = await ConfigStore.create({
  schema: runtimeConfigSchema,
  initial: await readConfigFile(configPath),
  participants: [runtimeWrappers({ builtins: { runc: '/bin/true' } })],
  artifacts,
});
process.stdout.write('ready\n');

const leases = new Map();

async function reload() {
  say('R');
  try {
    if (randomInt(5) === 0) {
      // A broken file: the reload is rejected, config.json stays the last good one.
      writeFileSync(badPath, randomInt(2) === 0 ? '{"runtimes": {"../evil": {"path": "/x", "runtimeArgs": ["a"]}}}' : '{"runtimes": ');
      // Directly, not through requestReload: requests coalesce, and a burst shares the latest load function.
      const applied = await readConfigFile(badPath)
        .then((config) => store.reload(config))
        .catch((error) => ({ error }));
      if (!('error' in applied)) throw new Error('a broken config was applied');
      if (!['ERR_PARSE', 'ERR_PREPARE'].includes(applied.error.code)) throw applied.error;
    } else {
      replaceJson(configPath, randomConfig());
      const outcome = await store.requestReload(() => readConfigFile(configPath));
      if (outcome.status === 'rejected') throw outcome.error;
    }
  } finally {
    say('r');
  }
}

function startContainer() {
  const live = store.load();
  const wrapped = Object.values(live.derived.runtimes.runtimes).filter((r) => r.wrapped);
  if (wrapped.length === 0) return;
  const runtime = wrapped[randomInt(wrapped.length)];
  const id = `c-${randomBytes(4).toString('hex')}`;
  // Lease first (same turn as load: the live snapshot's wrapper cannot be collected), then record.
  leases.set(id, artifacts.lease(runtime.artifact, id));
  containers = [...containers, { id, artifact: runtime.artifact }];
  replaceJson(containersPath, containers);
}

function stopContainer() {
  if (containers.length === 0) return;
  const gone = containers[randomInt(containers.length)];
  containers = containers.filter((c) => c !== gone);
  replaceJson(containersPath, containers);
  leases.get(gone.id)?.release();
  leases.delete(gone.id);
}

for (;;) {
  const actions = [];
  for (let n = 1 + randomInt(3); n > 0; n--) {
    const pick = randomInt(10);
    if (pick < 5) actions.push(reload());
    else if (pick < 7) startContainer();
    else if (pick < 9) stopContainer();
    else actions.push(store.collectGarbage());
  }
  await Promise.all(actions);
}
