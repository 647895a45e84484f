// Question 3: memory. 100 generations of the 10,000-leaf config kept alive (pinned), each
// changing one leaf, against the heap of one generation. Each generation comes in as a
// whole new object (as from a file), the harder case for sharing. The naive approach
// keeps 100 full copies.
import { ConfigStore } from 'txconfig';
import { figure, type Figure } from './figure.js';
import { largeConfig, largeSchema, NaiveStore, type LargeConfig, type NaiveSnapshot } from './fixtures.js';
import { withLeaf } from './reload.js';

export const GENERATIONS = 100;

/** Heap after full garbage collections, in bytes. Needs `node --expose-gc`. */
async function settledHeap(): Promise<number> {
  const gc = globalThis.gc;
  if (gc === undefined) throw new Error('memory: run node with --expose-gc (npm run bench does)');
  // Let pending promise jobs and timers drop their references first.
  await new Promise((resolve) => setImmediate(resolve));
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
}

interface Heaps {
  /** Bytes retained by one generation of the large config. */
  readonly one: number;
  /** Bytes retained by all generations. */
  readonly all: number;
}

// Both stores start from an empty config, so the store itself and its compiled schema are
// measured before, not counted as part of "one generation".
const EMPTY: LargeConfig = { services: {} };

async function measureTxconfig(base: LargeConfig): Promise<Heaps> {
  const store = await ConfigStore.create({ schema: largeSchema, initial: EMPTY });
  const before = await settledHeap();
  await store.reload(structuredClone(base));
  const pins = [store.pin()];
  const one = (await settledHeap()) - before;
  for (let generation = 3; generation <= GENERATIONS + 1; generation++) {
    await store.reload(withLeaf(base, `generation ${generation}`));
    pins.push(store.pin());
  }
  const all = (await settledHeap()) - before;
  if (store.load().generation !== GENERATIONS + 1 || new Set(pins.map((pin) => pin.snapshot.generation)).size !== GENERATIONS) {
    throw new Error('memory: txconfig did not keep every generation');
  }
  for (const pin of pins) pin.release();
  return { one, all };
}

async function measureNaive(base: LargeConfig): Promise<Heaps> {
  const naive = new NaiveStore(largeSchema, EMPTY);
  const before = await settledHeap();
  naive.reload(structuredClone(base));
  const kept: NaiveSnapshot[] = [naive.load()];
  const one = (await settledHeap()) - before;
  for (let generation = 3; generation <= GENERATIONS + 1; generation++) {
    naive.reload(withLeaf(base, `generation ${generation}`));
    kept.push(naive.load());
  }
  const all = (await settledHeap()) - before;
  if (new Set(kept.map((snapshot) => snapshot.generation)).size !== GENERATIONS) throw new Error('memory: naive did not keep every generation');
  return { one, all };
}

export async function benchMemory(): Promise<Figure[]> {
  const base = largeConfig();
  const naive = await measureNaive(base);
  const txconfig = await measureTxconfig(base);
  const mib = (bytes: number): number => bytes / 2 ** 20;
  const name = `heap of ${GENERATIONS} pinned generations`;
  return [
    figure({ id: 'memory.txconfig.100-vs-1', question: 3, name: `txconfig: ${name}`, value: mib(txconfig.all), unit: 'MiB', baseline: 'txconfig: heap of one generation', baselineValue: mib(txconfig.one), target: { of: 'ratio', op: '<', limit: 3 } }),
    figure({ id: 'memory.naive.100-vs-1', question: 3, name: `naive: ${name}`, value: mib(naive.all), unit: 'MiB', baseline: 'naive: heap of one generation', baselineValue: mib(naive.one) }),
    figure({ id: 'memory.100.vs-naive', question: 3, name: `txconfig: ${name}`, value: mib(txconfig.all), unit: 'MiB', baseline: `naive: ${name}`, baselineValue: mib(naive.all) }),
    // The price of cheap digests: one generation also holds its digest cache (the text of small subtrees, the digests of large ones).
    figure({ id: 'memory.1.vs-naive', question: 3, name: 'txconfig: heap of one generation', value: mib(txconfig.one), unit: 'MiB', baseline: 'naive: heap of one generation', baselineValue: mib(naive.one) }),
  ];
}
