/**
 * `layered()`: one source made of layers, lowest first (DESIGN.md §5.2). Every read reads
 * every layer again, so a reload never mixes a new file with an old environment; the
 * readings merge (objects merge, arrays and scalars replace), and the origins of the
 * merge answer `store.explain()` for any path.
 */
import { ArgumentError } from '../../errors.js';
import { checkMilliseconds, describeValue } from '../../internal/argument-checks.js';
import { isPlainObject } from '../../json/plain-object.js';
import { SourceBinding, type ConfigSource, type SourceReading } from '../../store/config-source.js';
import { isDefaults } from './defaults.js';
import { mergeStack, stackOrigins, type ConflictPolicy, type StackEntry } from './layer-stack.js';
import { burstCoalescer } from './burst.js';

/** Options of {@link layered}. */
export interface LayeredOptions {
  /**
   * `override` (the default): a higher layer's value wins. `reject`: a key set by two
   * layers (other than `defaults()`) is an error naming both origins, at start and on
   * every reload (Moby's rule for flags and the config file).
   */
  readonly conflicts?: ConflictPolicy;
  /** Quiet period after a layer's change before the store is told: a burst is one reload. Default 50 ms. */
  readonly debounceMs?: number;
}

/**
 * A source made of layers, lowest first: `defaults()`, `file()`, `directory()`, `env()`,
 * `argv()`, or any {@link ConfigSource} whose reading is an object. Objects merge key by
 * key; scalars and arrays replace what is below them.
 *
 * Every read reads every layer again, in parallel, and merges what they read: the store
 * validates and commits the merge as one transaction, so no reload mixes layers of two
 * moments. A layer that cannot be read fails the whole read (the reload is rejected, the
 * live config stays). Every layer that can watch is watched; changes within `debounceMs`
 * of each other are one reload.
 *
 * Origins: for every path, the layer that won, its place (file and position, variable,
 * flag) and the values of lower layers it shadowed; the store's `explain()` answers with
 * them. Text values (environment, flags) are converted by the store by the schema's type.
 *
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `layers` (not a non-empty array of
 *   sources), `conflicts` or `debounceMs`
 * @example
 * ```ts
 * const store = await ConfigStore.create({
 *   schema,
 *   source: layered([
 *     defaults({ server: { port: 8080 } }),
 *     file('/etc/app/config.yaml', { optional: true }),
 *     directory('/etc/app/conf.d'),
 *     env({ prefix: 'APP_', separator: '__' }),
 *     argv(process.argv.slice(2)),
 *   ], { conflicts: 'reject' }),
 * });
 * store.explain('/server/port'); // { value: 9090, layer: 'argv', origin: { flag: '--server.port' }, shadowed: [...] }
 * ```
 */
export function layered(layers: readonly ConfigSource[], options: LayeredOptions = {}): ConfigSource {
  // The types say an array of sources; a JavaScript caller can pass anything.
  const given: unknown = layers;
  if (!Array.isArray(given) || given.length === 0) throw new ArgumentError('layers', `must be a non-empty array of sources, got ${describeValue(given)}`);
  // The shape check of the store's own binding, for each layer, before anything runs.
  layers.forEach((layer, index) => {
    try {
      new SourceBinding(layer);
    } catch (error) {
      throw new ArgumentError(`layers[${index}]`, `must be a ConfigSource, got ${describeValue(layer)}`, { cause: error });
    }
  });
  const conflicts: unknown = options.conflicts ?? 'override';
  if (conflicts !== 'override' && conflicts !== 'reject') throw new ArgumentError('conflicts', `must be 'override' or 'reject', got ${describeValue(conflicts)}`);
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  checkMilliseconds('debounceMs', debounceMs);
  const own = [...layers];
  return {
    name: `layered(${own.map((layer) => layer.name).join(', ')})`,
    async read({ signal }) {
      const readings = await readAll(own, signal);
      const entries: StackEntry[] = own.map((layer, index) => ({ layer: kindOf(layer), reading: readings[index] as SourceReading, exempt: isDefaults(layer) }));
      return { value: mergeStack(entries, conflicts), origins: stackOrigins(entries) };
    },
    watch(onChange) {
      const burst = burstCoalescer(debounceMs, onChange);
      const stops: (() => void)[] = [];
      const stopAll = (): void => {
        burst.stop();
        for (const stop of stops) stop();
      };
      try {
        for (const layer of own) {
          const stop = layer.watch?.(burst.touch);
          if (stop !== undefined) stops.push(stop);
        }
      } catch (error) {
        // No half-started watch: the layers already watching stop again.
        stopAll();
        throw error;
      }
      return stopAll;
    },
    async close() {
      const results = await Promise.allSettled(own.map((layer) => layer.close?.() ?? Promise.resolve()));
      const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
      if (failures.length === 1) throw failures[0];
      if (failures.length > 1) throw new AggregateError(failures, `closing ${failures.length} layers failed`);
    },
  };
}

const DEFAULT_DEBOUNCE_MS = 50;

/**
 * Every layer's reading, read in parallel. The first failure aborts the others and is
 * thrown once they all settled, so no read is left holding a file.
 * @throws the first layer's failure; an ArgumentError naming the layer whose reading is not an object
 */
async function readAll(layers: readonly ConfigSource[], signal: AbortSignal): Promise<SourceReading[]> {
  const stop = new AbortController();
  const aborts = AbortSignal.any([signal, stop.signal]);
  const reads = layers.map(async (layer, index) => {
    try {
      const reading: unknown = await layer.read({ signal: aborts });
      if (typeof reading !== 'object' || reading === null || !isPlainObject((reading as SourceReading).value)) {
        throw new ArgumentError(`layers[${index}]`, `${layer.name}: read() must resolve to { value } with an object, got ${describeValue(reading)}`);
      }
      return reading as SourceReading;
    } catch (error) {
      stop.abort(error);
      throw error;
    }
  });
  const results = await Promise.allSettled(reads);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<SourceReading>).value);
}

/** The kind of a layer, from its name (`file:/etc/app.json` is a `file`), for readings without origins. */
function kindOf(layer: ConfigSource): string {
  const colon = layer.name.indexOf(':');
  return colon > 0 ? layer.name.slice(0, colon) : layer.name;
}
