// Child process for test/reliability/retention.test.ts and test/soak/retention.soak.ts:
// runs N reloads on the BUILT package with subscribers, pins taken and released, a
// participant writing artifacts, and periodic garbage collections; forces a full GC at
// checkpoints and reports the heap and how many sampled old snapshots are still alive.
// Usage: node --expose-gc retention-child.js <reloads>. Prints one JSON line.
import process from 'node:process';
import { setImmediate as tick } from 'node:timers/promises';

import { ConfigStore, MemoryArtifactStore } from '../../dist/index.js';

const reloads = Number(process.argv[2] ?? '10000');
if (!Number.isSafeInteger(reloads) || reloads < 1000) throw new Error('usage: node --expose-gc retention-child.js <reloads, at least 1000>');
if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');

/** A full collection, after the current job ends (WeakRef targets are kept alive until then). */
async function collect() {
  await tick();
  globalThis.gc();
  await tick();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

// A config of some size: 40 upstreams, a list, a few scalars. Each reload changes one
// upstream's weight and the counter; every 10th is a whole new object parsed from text.
const base = {
  counter: 0,
  debug: false,
  upstreams: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`u${i}`, { url: `http://10.0.0.${i}:8080`, weight: 1, tags: ['a', 'b'] }])),
  list: Array.from({ length: 50 }, (_, i) => `item-${i}`),
};

const artifacts = new MemoryArtifactStore();
const wrappers = {
  name: 'wrappers',
  async prepare({ config, artifacts: out }) {
    // 20 distinct scripts: artifacts are reused and superseded all the time.
    const artifact = await out.put(`w${config.counter % 20}`, `#!/bin/sh\nexec /usr/bin/runc --n ${config.counter % 20} "$@"\n`, { mode: 0o700 });
    let switched = false;
    return {
      derived: { program: artifact.path },
      commit: () => {
        switched = true;
      },
      rollback: () => {
        if (switched) throw new Error('rolled back after commit');
      },
    };
  },
};

const store = await ConfigStore.create({ schema: { type: 'object' }, initial: base, participants: [wrappers], artifacts });

let events = 0;
let latest = null;
const unsubscribe = [
  store.subscribe(() => {
    events++;
  }),
  store.subscribe((event) => {
    latest = event.snapshot.generation;
  }),
  store.subscribe(async () => {
    await Promise.resolve();
  }),
];

const pins = [];
const sampled = [];
const checkpoints = [];
let baseline = 0;
const started = Date.now();

for (let i = 1; i <= reloads; i++) {
  if (i % 10 === 0) {
    const text = JSON.stringify({ ...store.load().config, counter: i });
    await store.reload(JSON.parse(text));
  } else {
    await store.reload((draft) => {
      draft.counter = i;
      draft.upstreams[`u${i % 40}`].weight = i % 7;
    });
  }
  // Pins: one taken every 7 reloads, released 5 reloads later.
  if (i % 7 === 0) pins.push({ pin: store.pin(), until: i + 5 });
  while (pins.length > 0 && pins[0].until <= i) pins.shift().pin.release();
  if (i % 1000 === 0) {
    await store.collectGarbage();
    sampled.push(new WeakRef(store.load()));
  }
  if (i === 1000) baseline = await collect();
  if (i % Math.floor(reloads / 10) === 0) checkpoints.push({ reloads: i, heapUsed: await collect() });
}
for (const { pin } of pins.splice(0)) pin.release();
await store.synchronize({ timeoutMs: 1000 });
await store.collectGarbage();
const final = await collect();
const live = store.load();
const alive = sampled.filter((ref) => {
  const snapshot = ref.deref();
  return snapshot !== undefined && snapshot !== live;
}).length;
for (const stop of unsubscribe) stop();

process.stdout.write(
  JSON.stringify({
    reloads,
    seconds: (Date.now() - started) / 1000,
    generation: live.generation,
    events,
    latest,
    status: store.status(),
    heapBaseline: baseline,
    heapFinal: final,
    checkpoints,
    sampledSnapshots: sampled.length,
    sampledStillAlive: alive,
    artifactsStored: (await artifacts.list()).length,
    liveArtifacts: live.artifacts.length,
  }) + '\n',
);
