/**
 * The `env()` layer: environment variables, and optionally a `.env` file, as text values
 * at config paths. Read again on every `read()`, so one reload sees one environment.
 */
import { parseEnv } from 'node:util';
import { ArgumentError, ConfigFileError, UnsafeKeyError, hasErrorCode } from '../../errors.js';
import { checkNonEmptyString, checkOptionalBoolean, describeValue } from '../../internal/argument-checks.js';
import { log } from '../../internal/debug.js';
import { sha256Hex } from '../../internal/sha256.js';
import { parsePointer, toPointer } from '../../json/json-pointer.js';
import { UNSAFE_KEYS, isPlainObject } from '../../json/plain-object.js';
import type { Origin } from '../../origin.js';
import type { ConfigSource, SourceReading } from '../../store/config-source.js';
import { decodeConfigBytes, readConfigBytes, withoutBom } from '../read-config-file.js';
import { watchConfigFile, type ConfigWatcher } from '../watch-config-file.js';
import { TextTree } from './text-tree.js';

/** Options of {@link env}. Give a `prefix`, a `map`, or both: the layer never takes the whole environment. */
export interface EnvOptions {
  /**
   * Variables whose name starts with it (case-sensitive, matched literally: include the
   * trailing `_`) are config paths: the rest of the name is split at each `separator`,
   * and each segment lowercased. `APP_SERVER__PORT` is `/server/port` with `'APP_'`.
   */
  readonly prefix?: string;
  /** What separates the keys of a path in a prefixed name. Default `'__'`. */
  readonly separator?: string;
  /**
   * Variable names mapped to the JSON Pointer they set, for names the prefix rule cannot
   * express (camelCase keys, keys holding the separator, names without the prefix):
   * `{ APP_MAX_CONN: '/server/maxConnections', PORT: '/server/port' }`. A mapped name is
   * taken only through its map entry, even when it starts with the prefix.
   */
  readonly map?: Readonly<Record<string, string>>;
  /**
   * A `.env` file read on every `read()` too, parsed by Node's own `util.parseEnv`. The
   * same names are taken from it; a variable set in the environment wins over the file's
   * entry. The file is watched (`watch()`); it never changes `process.env`.
   */
  readonly file?: string;
  /** A missing `file` reads as empty instead of failing with `ERR_FILE_NOT_FOUND`; it is still watched. Default `false`. */
  readonly optional?: boolean;
  /** The variables to read, in place of `process.env` (read again on every `read()` either way). */
  readonly environment?: Readonly<Record<string, string | undefined>>;
}

/** The default {@link EnvOptions.separator}. */
const DEFAULT_SEPARATOR = '__';

/**
 * A layer of environment variables: each name the `prefix` or the `map` takes becomes a
 * text value at its path (the store converts it by the schema's type there), with the
 * origin `{ env: NAME }`, or `{ env: NAME, file, line }` for an entry of the `.env` file.
 * The environment (and the file) are read again on every `read()`. It has a `watch`
 * only when there is a `file`: the environment of a running process does not change.
 *
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `options` (not an object), `prefix`,
 *   `separator`, `file` (not a non-empty string), `optional` (not a boolean, or given
 *   without `file`), `environment` (not an object), `map` or `map.NAME` (not an object of
 *   JSON Pointers below the root); `prefix` when neither a prefix nor a map entry is given.
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY` when a `map` pointer holds `__proto__`,
 *   `constructor` or `prototype`.
 * @returns A source named `env` (`env:APP_` with a prefix) whose `read()` rejects with
 *   `ConfigFileError` `ERR_PARSE` naming the variable (`env APP_A____B`) for a name with
 *   an empty key (two separators in a row, a separator at either end, only the prefix),
 *   `UnsafeKeyError` `ERR_UNSAFE_KEY` for a key `__proto__`, `constructor` or `prototype`,
 *   `ConflictError` `ERR_CONFLICT` for two variables that set one path or a path and one
 *   below it (`APP_SERVER` and `APP_SERVER__PORT`), and the file codes of
 *   `readConfigFile` for the `.env` file (`ERR_FILE_NOT_FOUND`, `ERR_FILE_ENCODING`, …);
 *   `ArgumentError` `ERR_ARGUMENT` naming `environment.NAME` for a value of `environment`
 *   that is not a string.
 * @example
 * ```ts
 * const source = layered([
 *   defaults({ server: { port: 8080 } }),
 *   env({ prefix: 'APP_', map: { APP_MAX_CONN: '/server/maxConnections' }, file: '.env', optional: true }),
 * ]);
 * // APP_SERVER__PORT=9090 -> /server/port = '9090', converted to 9090 by the schema
 * ```
 */
export function env(options: EnvOptions): ConfigSource {
  const settings = checkEnvOptions(options);
  const { prefix, file } = settings;
  // The SHA-256 of the .env bytes the last read() used (undefined: no file read yet, or
  // it was missing), so the watch does not ask for a read that would find the same file.
  let lastDigest: string | undefined;
  const read = async ({ signal }: { readonly signal: AbortSignal }): Promise<SourceReading> => {
    signal.throwIfAborted();
    const environment = settings.environment ?? process.env;
    // Forgotten before reading: after a failed read, the same bytes coming back are news
    // (the store's status then turns healthy again).
    lastDigest = undefined;
    const fromFile = file === undefined ? undefined : await readEnvFile(file, settings.optional, signal);
    lastDigest = fromFile?.digest;
    return collect(settings, environment, fromFile).reading();
  };
  const name = prefix === undefined ? 'env' : `env:${prefix}`;
  if (file === undefined) return { name, read };
  return {
    name,
    read,
    watch: (onChange) => watchEnvFile(file, onChange, () => lastDigest),
  };
}

/** The options, checked, with the map's pointers parsed. */
interface EnvSettings {
  readonly prefix: string | undefined;
  readonly separator: string;
  /** Variable name: the keys its pointer names. A Map: a name is never looked up on a prototype. */
  readonly map: ReadonlyMap<string, readonly string[]>;
  readonly file: string | undefined;
  readonly optional: boolean;
  readonly environment: Readonly<Record<string, string | undefined>> | undefined;
}

function checkEnvOptions(options: unknown): EnvSettings {
  if (!isPlainObject(options)) throw new ArgumentError('options', `must be an object of env options, got ${describeValue(options)}`);
  const { prefix, separator = DEFAULT_SEPARATOR, map = {}, file, optional, environment } = options as Partial<Record<keyof EnvOptions, unknown>>;
  if (prefix !== undefined) checkNonEmptyString('prefix', prefix);
  checkNonEmptyString('separator', separator);
  if (file !== undefined) checkNonEmptyString('file', file);
  checkOptionalBoolean('optional', optional);
  if (optional !== undefined && file === undefined) throw new ArgumentError('optional', 'applies to `file`, which is not given');
  if (environment !== undefined && (typeof environment !== 'object' || environment === null)) {
    throw new ArgumentError('environment', `must be an object of variables when given, got ${describeValue(environment)}`);
  }
  const mapped = checkMap(map);
  if (prefix === undefined && mapped.size === 0) {
    throw new ArgumentError('prefix', 'env() takes the variables a prefix or a map names: give one of them (it never reads the whole environment)');
  }
  return {
    prefix,
    separator,
    map: mapped,
    file,
    optional: optional ?? false,
    // Checked to be an object above; its values are read as they come (undefined: unset).
    environment: environment as Readonly<Record<string, string | undefined>> | undefined,
  };
}

/**
 * The map's names and the keys of their pointers.
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `map` or `map.NAME`
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY` for a pointer through an unsafe key
 */
function checkMap(map: unknown): Map<string, readonly string[]> {
  if (!isPlainObject(map)) throw new ArgumentError('map', `must be an object of variable names to JSON Pointers, got ${describeValue(map)}`);
  const mapped = new Map<string, readonly string[]>();
  for (const [name, pointer] of Object.entries(map)) {
    const keys = typeof pointer === 'string' ? parsePointer(pointer) : undefined;
    if (name === '' || keys === undefined || keys.length === 0) {
      throw new ArgumentError(`map.${name}`, `must map a variable name to a JSON Pointer below the root ('/server/port'), got ${describeValue(pointer)}`);
    }
    const unsafe = keys.findIndex((key) => UNSAFE_KEYS.has(key));
    if (unsafe >= 0) throw new UnsafeKeyError(`map.${name}`, keys[unsafe] as string, toPointer(keys.slice(0, unsafe)));
    mapped.set(name, keys);
  }
  return mapped;
}

/** What a read of the `.env` file found: its entries, where each is, and its digest. */
interface EnvFile {
  readonly path: string;
  readonly entries: ReadonlyMap<string, string>;
  /** The line of each name defined on exactly one line; computed on first use. */
  lineOf(name: string): number | undefined;
  readonly digest: string;
}

/**
 * Reads and parses the `.env` file; `undefined` when it is missing and `optional`.
 * @throws {ConfigFileError} the file codes of `readConfigFile`
 */
async function readEnvFile(path: string, optional: boolean, signal: AbortSignal): Promise<EnvFile | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readConfigBytes(path, { signal });
  } catch (error) {
    if (optional && hasErrorCode(error, 'ERR_FILE_NOT_FOUND')) return undefined;
    throw error;
  }
  const text = withoutBom(decodeConfigBytes(bytes, path));
  const entries = new Map<string, string>();
  for (const [name, value] of Object.entries(parseEnv(text))) if (value !== undefined) entries.set(name, value);
  let lines: Map<string, number> | undefined;
  return {
    path,
    entries,
    lineOf: (name) => (lines ??= definitionLines(text)).get(name),
    digest: sha256Hex(bytes),
  };
}

/**
 * The line of each name defined on exactly one line of a `.env` text (`NAME=`, `export
 * NAME=`). A name found on two lines (defined twice, or a line inside a quoted value that
 * looks like a definition) has no line: a position is given only when it is certain.
 */
function definitionLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  const twice = new Set<string>();
  text.split(/\r\n|\n|\r/).forEach((line, index) => {
    const name = /^\s*(?:export\s+)?([^=\s#][^=]*?)\s*=/.exec(line)?.[1];
    if (name === undefined || twice.has(name)) return;
    if (lines.has(name)) {
      lines.delete(name);
      twice.add(name);
    } else {
      lines.set(name, index + 1);
    }
  });
  return lines;
}

/**
 * The layer's tree: every variable the map or the prefix takes, the environment's
 * first and the file's where the environment has none.
 * @throws {ConfigFileError} `ERR_PARSE`; `UnsafeKeyError` `ERR_UNSAFE_KEY`; `ConflictError` `ERR_CONFLICT`
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `environment.NAME` when a value of `environment` is not a string
 */
function collect(settings: EnvSettings, environment: Readonly<Record<string, string | undefined>>, fromFile: EnvFile | undefined): TextTree {
  const tree = new TextTree('env');
  const taken = new Set<string>();
  // Sorted: the config's key order and the first error reported do not depend on the
  // order the environment lists its variables in.
  for (const name of Object.keys(environment).sort()) {
    const value: unknown = environment[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new ArgumentError(`environment.${name}`, `must be a string or undefined, got ${describeValue(value)}`);
    taken.add(name);
    const keys = keysOf(settings, name, `env ${name}`);
    if (keys !== undefined) tree.set(keys, value, { env: name }, `env ${name}`);
  }
  if (fromFile === undefined) return tree;
  for (const name of [...fromFile.entries.keys()].sort()) {
    // The environment wins over the file, as with Node's --env-file and dotenv.
    if (taken.has(name)) continue;
    const input = `env ${name} in ${fromFile.path}`;
    const keys = keysOf(settings, name, input);
    if (keys === undefined) continue;
    const line = fromFile.lineOf(name);
    const origin: Origin = line === undefined ? { env: name, file: fromFile.path } : { env: name, file: fromFile.path, line };
    tree.set(keys, fromFile.entries.get(name) as string, origin, input);
  }
  return tree;
}

/**
 * The keys `name` sets: its map entry's, or its segments after the prefix, lowercased;
 * `undefined` when the layer does not take it.
 * @throws {ConfigFileError} `ERR_PARSE` for an empty segment
 */
function keysOf(settings: EnvSettings, name: string, input: string): readonly string[] | undefined {
  const mapped = settings.map.get(name);
  if (mapped !== undefined) return mapped;
  const { prefix, separator } = settings;
  if (prefix === undefined || !name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  if (rest === '') throw new ConfigFileError('ERR_PARSE', input, `the name is only the prefix ${prefix}: it names no key`);
  const segments = rest.split(separator);
  if (segments.includes('')) {
    throw new ConfigFileError('ERR_PARSE', input, `an empty key: ${JSON.stringify(separator)} at the start or end of ${rest}, or twice in a row (name such a key with the map option)`);
  }
  return segments.map((segment) => segment.toLowerCase());
}

/**
 * Watches the `.env` file: `onChange` when its bytes differ from those the last read
 * used, or when it cannot be read (so the store's refresh shows why). Returns the stop.
 */
function watchEnvFile(path: string, onChange: () => void, lastDigest: () => string | undefined): () => void {
  let watcher: ConfigWatcher<undefined>;
  try {
    watcher = watchConfigFile<undefined>(
      path,
      ({ digest }) => {
        if (digest !== lastDigest()) onChange();
      },
      {
        // The content at start is compared too: a change between the store's read and
        // this watch's first read raises no event.
        emitInitial: true,
        // An empty read may be an editor's save caught between truncate and write: the
        // watcher re-reads after its quiet period, and only a file that stays empty counts.
        parse: (bytes) => {
          if (bytes.byteLength === 0) throw new ConfigFileError('ERR_PARSE', path, 'empty .env file');
          return undefined;
        },
        onError: (error, { phase }) => {
          // A file that stays missing or unreadable: the store's read reports it (or,
          // with `optional`, takes it as empty).
          if (phase === 'read') onChange();
          else log.sources('watching %s: %O', path, error);
        },
        // Never what keeps a process alive: the daemon's own work does that.
        persistent: false,
      },
    );
  } catch (error) {
    // Its directory cannot be watched: every read still sees the file as it is.
    log.sources('cannot watch %s, changes are seen on the next refresh only: %O', path, error);
    return () => undefined;
  }
  return () => {
    void watcher.close();
  };
}
