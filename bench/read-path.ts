// Question 1: the read path. `store.load().config.a.b` against a plain module-level
// object (the limit), the `config` package's `get('a.b')` and convict's `get('a.b')`.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import convict from 'convict';
import { ConfigStore } from 'txconfig';
import { figure, type Figure } from './figure.js';
import { timeOf, timeTasks } from './measure.js';

/** Reads per timed call: one read is too short to time on its own. */
const READS = 1000;

const schema = {
  type: 'object',
  properties: { a: { type: 'object', properties: { b: { type: 'integer', default: 1 } }, additionalProperties: false, default: {} } },
  additionalProperties: false,
} as const;

// The limit: what a daemon without a config library does, a module-level object that a
// reload replaces.
// eslint-disable-next-line prefer-const -- reassigned by a reload in a real daemon; `let` keeps the read honest
let settings = { a: { b: 1 } };

// Every read goes into the sink, so the loops cannot be optimised away.
let sink = 0;

export async function benchReadPath(): Promise<Figure[]> {
  const store = await ConfigStore.create({ schema, initial: { a: { b: 1 } } });
  const dir = await mkdtemp(join(tmpdir(), 'txconfig-bench-config-'));
  try {
    // The `config` package reads its directory when first imported: point it at ours.
    await writeFile(join(dir, 'default.json'), JSON.stringify({ a: { b: 1 } }));
    process.env.NODE_CONFIG_DIR = dir;
    process.env.SUPPRESS_NO_CONFIG_WARNING = 'y';
    const { default: nodeConfig } = await import('config');
    const conv = convict({ a: { b: { doc: 'a number', format: 'int', default: 1 } } });
    conv.validate({ allowed: 'strict' });
    const check = [store.load().config.a.b, settings.a.b, nodeConfig.get<number>('a.b'), conv.get('a.b')];
    if (check.some((value) => value !== 1)) throw new Error(`read path: the four reads disagree: ${check.join(', ')}`);

    const times = await timeTasks(
      [
        {
          name: 'plain',
          opsPerCall: READS,
          fn: () => {
            let sum = 0;
            for (let i = 0; i < READS; i++) sum += settings.a.b;
            sink += sum;
          },
        },
        {
          name: 'txconfig',
          opsPerCall: READS,
          fn: () => {
            let sum = 0;
            for (let i = 0; i < READS; i++) sum += store.load().config.a.b;
            sink += sum;
          },
        },
        {
          name: 'config',
          opsPerCall: READS,
          fn: () => {
            let sum = 0;
            for (let i = 0; i < READS; i++) sum += nodeConfig.get<number>('a.b');
            sink += sum;
          },
        },
        {
          name: 'convict',
          opsPerCall: READS,
          fn: () => {
            let sum = 0;
            for (let i = 0; i < READS; i++) sum += conv.get('a.b');
            sink += sum;
          },
        },
      ],
      { rounds: 5, time: 200 },
    );
    if (sink === 0) throw new Error('read path: nothing was read');
    const ns = (name: string): number => timeOf(times, name) * 1e6;
    const txconfig = ns('txconfig');
    const read = 'read store.load().config.a.b';
    return [
      figure({ id: 'read.vs-plain', question: 1, name: read, value: txconfig, unit: 'ns/read', baseline: 'plain module-level object', baselineValue: ns('plain'), target: { of: 'ratio', op: '<=', limit: 1.5 } }),
      figure({ id: 'read.vs-config', question: 1, name: read, value: txconfig, unit: 'ns/read', baseline: "config.get('a.b') (config 5)", baselineValue: ns('config'), target: { of: 'ratio', op: '<', limit: 1 } }),
      figure({ id: 'read.vs-convict', question: 1, name: read, value: txconfig, unit: 'ns/read', baseline: "convict get('a.b') (convict 6)", baselineValue: ns('convict'), target: { of: 'ratio', op: '<', limit: 1 } }),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
