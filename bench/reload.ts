// Question 2: a reload of a large config (10,000 leaves, one leaf changed), validation
// included, against the careful naive reload (structuredClone + the same ajv validation +
// deep freeze + SHA-256 of the whole config). Two ways in: a whole new object freshly
// parsed from a file, and a one-leaf change in code (an immer recipe in txconfig). And the
// parse a file reload adds, txconfig's checked parser against JSON.parse.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigStore, parseConfigText, readConfigFile } from 'txconfig';
import { figure, type Figure } from './figure.js';
import { CHANGED_SERVICE, CHANGED_VAR, LEAVES, countLeaves, largeConfig, largeSchema, NaiveStore, type LargeConfig } from './fixtures.js';
import { timeOf, timeTasks } from './measure.js';

export async function benchReload(): Promise<Figure[]> {
  const base = largeConfig();
  if (countLeaves(base) !== LEAVES) throw new Error(`reload: the large config has ${countLeaves(base)} leaves, not ${LEAVES}`);
  // Two file contents that differ in one leaf; alternating them makes every reload apply.
  const texts = [JSON.stringify(base), JSON.stringify(withLeaf(base, 'changed'))];
  const store = await ConfigStore.create({ schema: largeSchema, initial: JSON.parse(texts[0]!) as unknown });
  const sorted = new NaiveStore(largeSchema, JSON.parse(texts[0]!));
  const stringify = new NaiveStore(largeSchema, JSON.parse(texts[0]!), { hash: 'stringify' });

  // The same two contents as files, for the reload that reads and parses (issue 13).
  const dir = await mkdtemp(join(tmpdir(), 'txconfig-bench-reload-'));
  const paths = [join(dir, 'a.json'), join(dir, 'b.json')];
  await Promise.all(paths.map((path, index) => writeFile(path, texts[index]!)));

  let turn = 0;
  let input: unknown;
  // The parse is the same for both and not part of a reload: it runs outside the timing.
  const parseNext = { beforeEach: () => { input = JSON.parse(texts[turn++ % 2]!); } };
  let applied = 0;
  let counter = 0;

  const times = await timeTasks(
    [
      {
        name: 'txconfig file',
        options: parseNext,
        fn: async () => {
          if ((await store.reload(input as LargeConfig)).status === 'applied') applied++;
        },
      },
      {
        name: 'naive file',
        options: parseNext,
        fn: () => {
          if (sorted.reload(input)) applied++;
        },
      },
      {
        name: 'naive-stringify file',
        options: parseNext,
        fn: () => {
          if (stringify.reload(input)) applied++;
        },
      },
      {
        // The whole file reload: read, parse with every check, reload.
        name: 'txconfig read file',
        fn: async () => {
          if ((await store.reload((await readConfigFile(paths[turn++ % 2]!)) as unknown as LargeConfig)).status === 'applied') applied++;
        },
      },
      {
        name: 'naive read file',
        fn: async () => {
          if (sorted.reload(JSON.parse(await readFile(paths[turn++ % 2]!, 'utf8')))) applied++;
        },
      },
      {
        // What a file reload adds before the reload proper: txconfig's parser with all its
        // checks (duplicate keys, depth, unsafe keys; positions on error) against JSON.parse.
        name: 'txconfig parse',
        fn: () => {
          parseConfigText(texts[turn++ % 2]!);
        },
      },
      {
        name: 'JSON.parse',
        fn: () => {
          JSON.parse(texts[turn++ % 2]!);
        },
      },
      {
        name: 'txconfig recipe',
        fn: async () => {
          const value = `v${counter++}`;
          const result = await store.reload((draft) => {
            draft.services[CHANGED_SERVICE]!.env[CHANGED_VAR] = value;
          });
          if (result.status === 'applied') applied++;
        },
      },
      {
        name: 'naive recipe',
        fn: () => {
          const value = `v${counter++}`;
          if (sorted.update((draft) => { (draft as LargeConfig).services[CHANGED_SERVICE]!.env[CHANGED_VAR] = value; })) applied++;
        },
      },
      {
        name: 'naive-stringify recipe',
        fn: () => {
          const value = `v${counter++}`;
          if (stringify.update((draft) => { (draft as LargeConfig).services[CHANGED_SERVICE]!.env[CHANGED_VAR] = value; })) applied++;
        },
      },
    ],
    { rounds: 3, time: 1000, iterations: 20 },
  );
  await rm(dir, { recursive: true, force: true });
  if (applied === 0) throw new Error('reload: no reload applied');
  const ms = (name: string): number => timeOf(times, name);
  const target = { of: 'ratio', op: '<=', limit: 0.5 } as const;
  const naive = 'naive: structuredClone + ajv + deep freeze + SHA-256';
  return [
    figure({ id: 'reload.file.vs-sorted', question: 2, name: 'reload 10k leaves from a parsed file', value: ms('txconfig file'), unit: 'ms', baseline: `${naive} (sorted keys)`, baselineValue: ms('naive file'), target }),
    figure({ id: 'reload.file.vs-stringify', question: 2, name: 'reload 10k leaves from a parsed file', value: ms('txconfig file'), unit: 'ms', baseline: `${naive} (JSON.stringify)`, baselineValue: ms('naive-stringify file'), target }),
    figure({ id: 'reload.read-file.vs-sorted', question: 2, name: 'read, parse and reload a 10k-leaf file', value: ms('txconfig read file'), unit: 'ms', baseline: `naive: readFile + JSON.parse + structuredClone + ajv + deep freeze + SHA-256 (sorted keys)`, baselineValue: ms('naive read file'), target }),
    figure({ id: 'parse.vs-json-parse', question: 2, name: 'parse the 10k-leaf file text (273 KB)', value: ms('txconfig parse'), unit: 'ms', baseline: 'JSON.parse (no checks)', baselineValue: ms('JSON.parse'), target: { of: 'ratio', op: '<=', limit: 2 } }),
    figure({ id: 'reload.recipe.vs-sorted', question: 2, name: 'reload 10k leaves by recipe (one leaf)', value: ms('txconfig recipe'), unit: 'ms', baseline: `${naive} (sorted keys)`, baselineValue: ms('naive recipe'), target }),
    figure({ id: 'reload.recipe.vs-stringify', question: 2, name: 'reload 10k leaves by recipe (one leaf)', value: ms('txconfig recipe'), unit: 'ms', baseline: `${naive} (JSON.stringify)`, baselineValue: ms('naive-stringify recipe'), target }),
  ];
}

/** A copy of `config` with the benchmark's leaf set to `value`. */
export function withLeaf(config: LargeConfig, value: string): LargeConfig {
  const copy = structuredClone(config);
  copy.services[CHANGED_SERVICE]!.env[CHANGED_VAR] = value;
  return copy;
}
