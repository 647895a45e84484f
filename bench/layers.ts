// Question 9: layered sources (issue 14). A cold read of the 10k-leaf config from a JSON
// file with 20 environment variables and 5 flags over it, merged: txconfig's
// `layered([file, env, argv]).read()` and the whole `ConfigStore.create` cold start
// against the `config` package (its config directory with
// custom-environment-variables.json and --NODE_CONFIG) and c12 (the file, with the
// variables and flags as `overrides`). And a reload where one layer changed one key: a
// store on `layered([defaults, file, env, argv])` refreshed after one leaf of the file
// changed, against the same refresh of a store on the file alone and against issue 13's
// naive whole-file reload.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { loadConfig } from 'c12';
import { ConfigStore, argv, defaults, env, file, layered, readConfigFile, type ConfigSource } from 'txconfig';
import { figure, type Figure } from './figure.js';
import { LEAVES, NaiveStore, countLeaves, largeConfig, largeSchema, serviceName, type LargeConfig } from './fixtures.js';
import { timeOf, timeTasks } from './measure.js';
import { withLeaf } from './reload.js';

const PREFIX = 'APP_';

/** Variables over the file: the host of every 10th service (`APP_SERVICES__SVC000__HOST`). */
const VARIABLES: readonly { readonly name: string; readonly service: string; readonly value: string }[] = Array.from({ length: 20 }, (_, index) => {
  const service = serviceName(index * 10);
  return { name: `${PREFIX}SERVICES__${service.toUpperCase()}__HOST`, service, value: `env-host-${index}.internal.example` };
});

/**
 * Flags over the file and the variables: an environment variable of 5 other services.
 * Their paths are not the variables' (the `config` package ranks its variables above
 * --NODE_CONFIG, txconfig and c12 the flags above the variables: disjoint paths make the
 * three merges the same config).
 */
const FLAGS: readonly string[] = Array.from({ length: 5 }, (_, index) => `--services.${serviceName(index * 10 + 5)}.env.VAR_0${index}=flag-${index}`);

/** The 10k-leaf config with the variables and flags applied: what every loader must give. */
function expectedConfig(): Record<string, unknown> {
  const expected = largeConfig();
  for (const { service, value } of VARIABLES) expected.services[service]!.host = value;
  for (let index = 0; index < FLAGS.length; index++) expected.services[serviceName(index * 10 + 5)]!.env[`VAR_0${index}`] = `flag-${index}`;
  return expected as unknown as Record<string, unknown>;
}

/** Sets `value` at `keys` in `target`, making the objects on the way. */
function setPath(target: Record<string, unknown>, keys: readonly string[], value: unknown): void {
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    node = typeof next === 'object' && next !== null ? (next as Record<string, unknown>) : (node[key] = {});
  }
  node[keys.at(-1)!] = value;
}

/**
 * What c12 needs from its caller to take the same layers: it reads no variables into the
 * config and no flags, so a daemon maps the variables (the same rule as `env()`: split at
 * `__`, lowercased) and parses the flags (`util.parseArgs`, dotted paths), flags last.
 */
function c12Overrides(args: readonly string[]): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && name.startsWith(PREFIX)) setPath(overrides, name.slice(PREFIX.length).split('__').map((key) => key.toLowerCase()), value);
  }
  const { values } = parseArgs({ args: [...args], strict: false });
  for (const [flag, value] of Object.entries(values)) setPath(overrides, flag.split('.'), value);
  return overrides;
}

/**
 * The source without its watch: a watch's own read of a rewritten file (and the first read
 * a file watch makes when it starts) would fall into the next timing. What is measured is
 * the read, merge and transaction, which a watched store runs the same way.
 */
function unwatched(source: ConfigSource): ConfigSource {
  return { name: source.name, read: (options) => source.read(options) };
}

const never = new AbortController().signal;
const requireCache = createRequire(import.meta.url).cache;

export async function benchLayers(): Promise<Figure[]> {
  const base = largeConfig();
  if (countLeaves(base) !== LEAVES) throw new Error(`layers: the large config has ${countLeaves(base)} leaves, not ${LEAVES}`);
  const dir = await mkdtemp(join(tmpdir(), 'txconfig-bench-layers-'));
  const saved = { argv: process.argv, dir: process.env.NODE_CONFIG_DIR, suppress: process.env.SUPPRESS_NO_CONFIG_WARNING };
  try {
    for (const { name, value } of VARIABLES) process.env[name] = value;
    return [...(await coldRead(dir)), ...(await layeredReload(dir))];
  } finally {
    for (const { name } of VARIABLES) Reflect.deleteProperty(process.env, name);
    process.argv = saved.argv;
    restoreEnv('NODE_CONFIG_DIR', saved.dir);
    restoreEnv('SUPPRESS_NO_CONFIG_WARNING', saved.suppress);
    await rm(dir, { recursive: true, force: true });
  }
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) Reflect.deleteProperty(process.env, name);
  else process.env[name] = value;
}

async function coldRead(dir: string): Promise<Figure[]> {
  const cold = join(dir, 'cold');
  const path = join(cold, 'default.json');
  await mkdir(cold);
  // One file for the three: `config` reads default.json from its directory, c12 is told
  // its name, txconfig's file() is given its path.
  await writeFile(path, JSON.stringify(largeConfig()));
  const mapping: Record<string, unknown> = {};
  for (const { name, service } of VARIABLES) setPath(mapping, ['services', service, 'host'], name);
  await writeFile(join(cold, 'custom-environment-variables.json'), JSON.stringify(mapping));
  // The `config` package's flags are one JSON argument, read from process.argv.
  const flagConfig: Record<string, unknown> = {};
  for (const [flag, value] of Object.entries(parseArgs({ args: [...FLAGS], strict: false }).values)) setPath(flagConfig, flag.split('.'), value);
  process.argv = [...process.argv, `--NODE_CONFIG=${JSON.stringify(flagConfig)}`];
  // Its first import loads the directory it is pointed at; later loads name it (question 1
  // may have imported it first, pointed at its own directory).
  process.env.NODE_CONFIG_DIR = cold;
  process.env.SUPPRESS_NO_CONFIG_WARNING = 'y';
  const { default: nodeConfig } = await import('config');

  const readLayers = (): Promise<{ value: unknown }> => layered([file(path), env({ prefix: PREFIX }), argv(FLAGS)]).read({ signal: never });
  const createStore = () => ConfigStore.create({ schema: largeSchema, source: unwatched(layered([file(path), env({ prefix: PREFIX }), argv(FLAGS)])) });
  const loadNodeConfig = (): unknown => nodeConfig.util.loadFileConfigs(undefined, { configDir: cold });
  const loadC12 = async (): Promise<unknown> => {
    // c12 loads a .json config with require() (through jiti), whose cache keeps the first
    // reading for the life of the process: without this, every later load reads nothing.
    Reflect.deleteProperty(requireCache, path);
    return (await loadConfig({ cwd: cold, configFile: 'default', overrides: c12Overrides(FLAGS) })).config;
  };

  // The four must load the same config, or the timings compare different work.
  const expected = expectedConfig();
  const store = await createStore();
  const loaded = { read: (await readLayers()).value, create: store.load().config, config: loadNodeConfig(), c12: await loadC12() };
  await store.close();
  for (const [name, value] of Object.entries(loaded)) {
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(value)), expected)) throw new Error(`layers: ${name} did not load the file with the variables and flags over it`);
  }

  const open: { close(): Promise<void> }[] = [];
  const times = await timeTasks(
    [
      { name: 'txconfig read', fn: readLayers },
      {
        name: 'txconfig create',
        fn: async () => {
          open.push(await createStore());
        },
        // Closing is not part of the cold start.
        options: { afterEach: async () => { await Promise.all(open.splice(0).map((opened) => opened.close())); } },
      },
      { name: 'config', fn: loadNodeConfig },
      { name: 'c12', fn: loadC12 },
    ],
    { rounds: 5, time: 1000, iterations: 20 },
  );
  const ms = (name: string): number => timeOf(times, name);
  const read = 'cold read: 10k-leaf JSON file + 20 env vars + 5 flags, merged';
  const create = 'cold start: ConfigStore.create on the same layers';
  const configBaseline = 'config 5: util.loadFileConfigs (default.json, custom-environment-variables.json, --NODE_CONFIG)';
  const c12Baseline = 'c12 3: loadConfig (the file; variables and flags mapped by the caller as overrides)';
  const faster = { of: 'ratio', op: '<', limit: 1 } as const;
  return [
    figure({ id: 'layers.read.vs-config', question: 9, name: read, value: ms('txconfig read'), unit: 'ms', baseline: configBaseline, baselineValue: ms('config'), target: faster }),
    figure({ id: 'layers.read.vs-c12', question: 9, name: read, value: ms('txconfig read'), unit: 'ms', baseline: c12Baseline, baselineValue: ms('c12'), target: faster }),
    figure({ id: 'layers.create.vs-config', question: 9, name: create, value: ms('txconfig create'), unit: 'ms', baseline: configBaseline, baselineValue: ms('config') }),
    figure({ id: 'layers.create.vs-c12', question: 9, name: create, value: ms('txconfig create'), unit: 'ms', baseline: c12Baseline, baselineValue: ms('c12') }),
  ];
}

async function layeredReload(dir: string): Promise<Figure[]> {
  const base = largeConfig();
  // Two file contents that differ in one leaf; each task rewrites its own file with the
  // other one before each reload (outside the timing), so every reload applies.
  const texts = [JSON.stringify(base), JSON.stringify(withLeaf(base, 'changed'))] as const;
  const paths = { layered: join(dir, 'layered.json'), file: join(dir, 'file.json'), read: join(dir, 'read.json'), naive: join(dir, 'naive.json') };
  await Promise.all(Object.values(paths).map((path) => writeFile(path, texts[0])));
  const stack = layered([defaults({ services: { [serviceName(0)]: { timeoutMs: 5000, weight: 1 } } }), file(paths.layered), env({ prefix: PREFIX }), argv(FLAGS)]);
  const layeredStore = await ConfigStore.create({ schema: largeSchema, source: unwatched(stack) });
  const fileStore = await ConfigStore.create({ schema: largeSchema, source: unwatched(file(paths.file)) });
  // Question 2's whole-file reload, for what the source and its layers add to it.
  const readStore = await ConfigStore.create({ schema: largeSchema, initial: JSON.parse(texts[0]) as unknown as LargeConfig });
  const naive = new NaiveStore(largeSchema, JSON.parse(texts[0]));
  if (layeredStore.load().config.services[serviceName(0)]!.host !== VARIABLES[0]!.value) throw new Error('layers: the layered store does not have the variables over the file');

  const turns = { layered: 0, file: 0, read: 0, naive: 0 };
  const rewrite = (which: keyof typeof turns) => ({
    beforeEach: async () => {
      await writeFile(paths[which], texts[++turns[which] % 2]!);
    },
  });
  let applied = 0;
  let other = 0;
  const count = (status: string): void => {
    if (status === 'applied') applied++;
    else other++;
  };
  try {
    const times = await timeTasks(
      [
        {
          name: 'layered refresh',
          options: rewrite('layered'),
          fn: async () => {
            count((await layeredStore.refresh()).status);
          },
        },
        {
          name: 'file refresh',
          options: rewrite('file'),
          fn: async () => {
            count((await fileStore.refresh()).status);
          },
        },
        {
          name: 'txconfig read file',
          options: rewrite('read'),
          fn: async () => {
            count((await readStore.reload((await readConfigFile(paths.read)) as unknown as LargeConfig)).status);
          },
        },
        {
          // Issue 13's baseline of the whole-file reload (question 2, "naive read file").
          name: 'naive read file',
          options: rewrite('naive'),
          fn: async () => {
            count(naive.reload(JSON.parse(await readFile(paths.naive, 'utf8'))) ? 'applied' : 'unchanged');
          },
        },
      ],
      { rounds: 5, time: 1000, iterations: 20 },
    );
    if (other > 0 || applied === 0) throw new Error(`layers: ${other} reloads did not apply (${applied} did)`);
    const ms = (name: string): number => timeOf(times, name);
    const name = 'refresh layered([defaults, file, env, argv]), one leaf of the 10k-leaf file changed';
    const naiveBaseline = 'naive: readFile + JSON.parse + structuredClone + ajv + deep freeze + SHA-256 (sorted keys)';
    return [
      figure({ id: 'layers.refresh.vs-naive', question: 9, name, value: ms('layered refresh'), unit: 'ms', baseline: naiveBaseline, baselineValue: ms('naive read file'), target: { of: 'ratio', op: '<=', limit: 0.5 } }),
      figure({ id: 'layers.refresh.vs-file', question: 9, name, value: ms('layered refresh'), unit: 'ms', baseline: 'txconfig: the same refresh of a store on file() alone', baselineValue: ms('file refresh') }),
      figure({ id: 'layers.refresh.vs-read-file', question: 9, name, value: ms('layered refresh'), unit: 'ms', baseline: "txconfig: readConfigFile + store.reload (question 2's read-file row)", baselineValue: ms('txconfig read file') }),
      figure({ id: 'layers.refresh-file.vs-naive', question: 9, name: 'refresh file() alone, one leaf of the 10k-leaf file changed', value: ms('file refresh'), unit: 'ms', baseline: naiveBaseline, baselineValue: ms('naive read file') }),
    ];
  } finally {
    await Promise.all([layeredStore.close(), fileStore.close(), readStore.close()]);
  }
}
