/**
 * The `argv()` layer: command-line flags as text values at config paths
 * (`--server.port=9090`). Parsed once, by `util.parseArgs`, when the layer is made:
 * a process's arguments never change.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ArgumentError, ConfigFileError, UnsafeKeyError } from '../../errors.js';
import { describeValue } from '../../internal/argument-checks.js';
import { parsePointer, toPointer } from '../../json/json-pointer.js';
import { UNSAFE_KEYS, isPlainObject } from '../../json/plain-object.js';
import type { ConfigSource, SourceReading } from '../../store/config-source.js';
import { TextTree } from './text-tree.js';

/** Options of {@link argv}. */
export interface ArgvOptions {
  /**
   * Flag names (without dashes) mapped to the JSON Pointer they set, for keys a dotted
   * name cannot express (a key holding a dot) and for short flags:
   * `{ p: '/server/port', 'max-conn': '/server/maxConnections' }`. A one-character name
   * is the short flag `-p` (and `--p`). Unmapped short flags are refused.
   */
  readonly map?: Readonly<Record<string, string>>;
  /**
   * The daemon's own flags, in `util.parseArgs`' `options` form
   * (`{ config: { type: 'string', short: 'c' } }`). They are parsed, so a string flag's
   * value is not taken for something else, and left out of the config; `--no-NAME` of an
   * own flag too.
   */
  readonly own?: Readonly<NonNullable<ParseArgsConfig['options']>>;
}

/** One config flag: the keys it sets, its text and how it was written. */
interface Flag {
  readonly keys: readonly string[];
  readonly text: string;
  /** The flag as given, without its value: `--server.port`, `--no-debug`, `-p`. */
  readonly flag: string;
}

/**
 * A layer of command-line flags: every long flag that is not one of the daemon's `own`
 * is a config path in dotted form, its value a text at that path (the store converts it
 * by the schema's type there), with the origin `{ flag: '--server.port' }`.
 * `--server.port=9090` and `--server.port 9090` give `'9090'`, a bare `--debug` gives
 * `'true'` and `--no-debug` gives `'false'`. Keys are taken as written (no case change).
 * Arguments after `--` are left to the daemon. The flags are parsed, and refused, here:
 * `read()` gives the same config every time, and the layer has no `watch`.
 *
 * @param args - The flags, usually `process.argv.slice(2)`.
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `args` (not an array of strings),
 *   `options`, `map` or `map.NAME` (not an object of flag names without dashes to JSON
 *   Pointers below the root, or a name of an own flag), `own` (not a valid
 *   `util.parseArgs` options object).
 * @throws {ConfigFileError} `ERR_PARSE` whose `path` names the argument: an unknown or
 *   grouped short flag (`-x`, `argv[2]` for `-vx`), a positional argument (`argv[3]`), an
 *   empty key (`--server..port`), a name that is not a path (`---x`), a value given to
 *   `--no-NAME`.
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY` for a key `__proto__`, `constructor` or
 *   `prototype`, in a flag (`--__proto__.x`) or a `map` pointer.
 * @throws {ConflictError} `ERR_CONFLICT` for a path set twice (`--port 1 --port 2`,
 *   `--debug --no-debug`) or a path and one below it (`--server=x --server.port=1`).
 * @example
 * ```ts
 * // mydaemon --config /etc/app.yaml --server.port 9090 --no-tls.enabled -w 8
 * const source = layered([
 *   file(values.config),
 *   argv(process.argv.slice(2), {
 *     own: { config: { type: 'string', short: 'c' } },
 *     map: { w: '/workers' },
 *   }),
 * ]);
 * ```
 */
export function argv(args: readonly string[], options: ArgvOptions = {}): ConfigSource {
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) {
    throw new ArgumentError('args', `must be an array of strings (process.argv.slice(2)), got ${describeValue(args)}`);
  }
  if (!isPlainObject(options)) throw new ArgumentError('options', `must be an object of argv options, got ${describeValue(options)}`);
  const own = checkOwn(options.own);
  const map = checkMap(options.map, own);
  const flags = parseFlags(args, own, map);
  // Built once here so a bad flag fails at start; each read builds a fresh tree, which
  // the store may convert and freeze as its own.
  buildTree(flags);
  return {
    name: 'argv',
    // A throw in the executor rejects: read() never throws synchronously.
    read: ({ signal }) =>
      new Promise<SourceReading>((resolve) => {
        signal.throwIfAborted();
        resolve(buildTree(flags).reading());
      }),
  };
}

/** The daemon's own flags, checked by parseArgs itself. */
interface OwnFlags {
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** Every long name and short letter the daemon owns, which the map may not name. */
  readonly names: ReadonlySet<string>;
}

/** @throws {ArgumentError} `ERR_ARGUMENT` naming `own` */
function checkOwn(own: unknown): OwnFlags {
  if (own === undefined) return { options: {}, names: new Set() };
  if (!isPlainObject(own)) throw new ArgumentError('own', `must be a util.parseArgs options object, got ${describeValue(own)}`);
  // Trusted as parseArgs options once parseArgs accepted them; it checks types and shorts.
  const options = own as NonNullable<ParseArgsConfig['options']>;
  try {
    parseArgs({ args: [], options, strict: true });
  } catch (error) {
    throw new ArgumentError('own', `is not a valid util.parseArgs options object: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const names = new Set<string>();
  for (const [name, config] of Object.entries(options)) {
    names.add(name);
    if (config.short !== undefined) names.add(config.short);
  }
  return { options, names };
}

/**
 * The map's flag names and the keys of their pointers.
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `map` or `map.NAME`
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY` for a pointer through an unsafe key
 */
function checkMap(map: unknown, own: OwnFlags): ReadonlyMap<string, readonly string[]> {
  const mapped = new Map<string, readonly string[]>();
  if (map === undefined) return mapped;
  if (!isPlainObject(map)) throw new ArgumentError('map', `must be an object of flag names to JSON Pointers, got ${describeValue(map)}`);
  for (const [name, pointer] of Object.entries(map)) {
    if (name === '' || name.startsWith('-') || name.includes('=')) {
      throw new ArgumentError(`map.${name}`, "must be a flag name without dashes ('p', 'max-conn')");
    }
    if (own.names.has(name)) throw new ArgumentError(`map.${name}`, 'is one of the daemon\'s own flags (`own`), which the layer leaves out');
    const keys = typeof pointer === 'string' ? parsePointer(pointer) : undefined;
    if (keys === undefined || keys.length === 0) {
      throw new ArgumentError(`map.${name}`, `must map a flag name to a JSON Pointer below the root ('/server/port'), got ${describeValue(pointer)}`);
    }
    const unsafe = keys.findIndex((key) => UNSAFE_KEYS.has(key));
    if (unsafe >= 0) throw new UnsafeKeyError(`map.${name}`, keys[unsafe] as string, toPointer(keys.slice(0, unsafe)));
    mapped.set(name, keys);
  }
  return mapped;
}

/**
 * The config flags of `args`, in order.
 * @throws {ConfigFileError} `ERR_PARSE` naming the argument
 */
function parseFlags(args: readonly string[], own: OwnFlags, map: ReadonlyMap<string, readonly string[]>): Flag[] {
  // strict: false, so flags parseArgs does not know (every config flag) come as tokens,
  // and own string flags still take their value.
  const { tokens } = parseArgs({ args: [...args], options: own.options, strict: false, allowPositionals: true, tokens: true });
  const flags: Flag[] = [];
  for (let at = 0; at < tokens.length; at++) {
    const token = tokens[at] as (typeof tokens)[number];
    // After `--`, the arguments are the daemon's.
    if (token.kind === 'option-terminator') break;
    if (token.kind === 'positional') {
      throw new ConfigFileError('ERR_PARSE', `argv[${token.index}]`, 'a positional argument: every argument is a flag (put what the daemon takes itself after --)');
    }
    // parseArgs names an own flag by its long name, however it was written.
    if (Object.hasOwn(own.options, token.name)) continue;
    const negated = token.rawName.startsWith('--no-') && !map.has(token.name) ? token.name.slice(3) : undefined;
    if (negated !== undefined && Object.hasOwn(own.options, negated)) continue;

    let keys: readonly string[];
    if (!token.rawName.startsWith('--')) {
      // A short flag parseArgs does not know: only the map gives it a path, and only alone
      // (in `-vp9090` the letters after p would be taken for flags).
      if (token.rawName !== args[token.index]) {
        throw new ConfigFileError('ERR_PARSE', `argv[${token.index}]`, `${token.rawName} in a group of short flags: give it alone, its value after a space`);
      }
      const mapped = map.get(token.name);
      if (mapped === undefined) throw new ConfigFileError('ERR_PARSE', token.rawName, 'an unknown short flag (short flags are the daemon\'s own or mapped)');
      keys = mapped;
    } else if (negated !== undefined) {
      if (token.inlineValue === true) throw new ConfigFileError('ERR_PARSE', token.rawName, `takes no value: it sets ${negated} to false`);
      flags.push({ keys: map.get(negated) ?? dottedKeys(negated, token.rawName), text: 'false', flag: token.rawName });
      continue;
    } else {
      // `--=x` comes as the name `=x`: name it by its place, not by a value.
      keys = map.get(token.name) ?? dottedKeys(token.name, token.name.includes('=') ? `argv[${token.index}]` : token.rawName);
    }

    let text = 'true';
    if (token.inlineValue === true) {
      text = token.value;
    } else {
      // `--server.port 9090`: the argument right after the flag, when it is not a flag.
      const next = tokens[at + 1];
      if (next?.kind === 'positional' && next.index === token.index + 1) {
        text = next.value;
        at++;
      }
    }
    flags.push({ keys, text, flag: token.rawName });
  }
  return flags;
}

/**
 * The keys of a dotted flag name: `server.port` is `['server', 'port']`.
 * @throws {ConfigFileError} `ERR_PARSE` for an empty key or a name that starts like no path
 */
function dottedKeys(name: string, flag: string): string[] {
  if (name.startsWith('-') || name.startsWith('=')) throw new ConfigFileError('ERR_PARSE', flag, 'not a flag name: a config flag is --path.to.key');
  const keys = name.split('.');
  if (keys.includes('')) {
    throw new ConfigFileError('ERR_PARSE', flag, 'an empty key: a dot at the start or end of the name, or two in a row (name such a key with the map option)');
  }
  return keys;
}

/**
 * The layer's tree.
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY`; `ConflictError` `ERR_CONFLICT`
 */
function buildTree(flags: readonly Flag[]): TextTree {
  const tree = new TextTree('argv');
  for (const { keys, text, flag } of flags) tree.set(keys, text, { flag }, flag);
  return tree;
}
