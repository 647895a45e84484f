// Where the daemon's config comes from, the way dockerd reads its own: built-in defaults,
// the config file (daemon.json), a conf.d directory, environment variables, and flags on
// the command line, lowest first. A setting given as a flag may not also be given in a
// file or in the environment: that is refused (Moby's rule for flags and daemon.json),
// at start and on every reload, naming both places.
//
// A runtime's `path` may be relative: it is taken from the directory of the file that
// names it (as Prometheus does for the files its config names), and from the working
// directory when a flag or a variable names it, as a shell user expects. The plugin
// itself only ever sees absolute paths, and still refuses any other.
import { dirname, isAbsolute, resolve } from 'node:path';

import { defaults, directory, env, file, layered, type ConfigSource } from 'txconfig';

/** Variables whose name starts with this set config paths: `RUNTIME_WRAPPER_RUNTIMES__CRUN__PATH` is `/runtimes/crun/path`. */
export const ENV_PREFIX = 'RUNTIME_WRAPPER_';

/** Keys a prefixed name cannot spell (a variable name has no `-`): mapped by hand. */
export const ENV_MAP: Readonly<Record<string, string>> = { RUNTIME_WRAPPER_DEFAULT_RUNTIME: '/default-runtime' };

/** What the daemon runs with when nothing else says: the built-in runtime, no others. */
export const DAEMON_DEFAULTS = { 'default-runtime': 'runc', runtimes: {} };

/** Options of {@link daemonConfigSource}. */
export interface DaemonConfigOptions {
  /** The config file (daemon.json): it must exist. */
  readonly configPath: string;
  /** The conf.d directory: its files, in name order, override the config file. */
  readonly configDir: string;
  /** A missing conf.d is an error (when it was named on the command line), or no files. */
  readonly configDirRequired: boolean;
  /** The config flags: an `argv()` layer of the command line. */
  readonly flags: ConfigSource;
  /** The environment to read, in place of `process.env` (tests, the demo). */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /** Where relative runtime paths given by flags and variables are taken from. Default: the working directory. */
  readonly workingDirectory?: string;
  /** Quiet period after a change of a file before the reload. Default 50 ms. */
  readonly debounceMs?: number;
}

/**
 * The daemon's config source:
 *
 *     defaults  <  [ daemon.json  <  conf.d  <  environment ]  ⊗  flags
 *
 * Inside the brackets a higher layer overrides a lower one. Between the brackets and the
 * flags, a setting given on both sides is a conflict (`ERR_CONFLICT`): the nested
 * `layered()` is one layer of the outer one, whose `conflicts: 'reject'` spares only the
 * defaults. Every file is watched, and every reload reads all of them again.
 * @throws {ArgumentError} as the layers do, for a bad path or option
 */
export function daemonConfigSource(options: DaemonConfigOptions): ConfigSource {
  const workingDirectory = options.workingDirectory ?? process.cwd();
  const { configPath, configDir } = options;
  const environment = options.environment === undefined ? {} : { environment: options.environment };
  const configured = layered(
    [
      resolvingRuntimePaths(file(configPath), dirname(resolve(configPath))),
      resolvingRuntimePaths(directory(configDir, { optional: !options.configDirRequired }), resolve(configDir)),
      resolvingRuntimePaths(env({ prefix: ENV_PREFIX, map: ENV_MAP, ...environment }), workingDirectory),
    ],
    // The outer stack waits for the quiet period; this one passes a change on at once.
    { debounceMs: 0 },
  );
  return layered([defaults(DAEMON_DEFAULTS), configured, resolvingRuntimePaths(options.flags, workingDirectory)], {
    conflicts: 'reject',
    ...(options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs }),
  });
}

/**
 * `layer` with every relative runtime `path` of what it reads resolved against `base`.
 * Its name (which `layered()` takes the layer's kind from), its origins, its watch and
 * its close are the layer's own.
 */
export function resolvingRuntimePaths(layer: ConfigSource, base: string): ConfigSource {
  const wrapped: ConfigSource = {
    name: layer.name,
    async read(options) {
      const reading = await layer.read(options);
      return isRecord(reading.value) ? { ...reading, value: resolveRuntimePaths(reading.value, base) } : reading;
    },
  };
  return withParts(wrapped, layer, { watch: true });
}

/** `source` without its watch: it is read at start and when asked, never on its own. */
export function unwatched(source: ConfigSource): ConfigSource {
  return withParts({ name: source.name, read: (options) => source.read(options) }, source, { watch: false });
}

/** `wrapped` with `source`'s `close`, and its `watch` when asked: each only when the source has it. */
function withParts(wrapped: ConfigSource, source: ConfigSource, keep: { readonly watch: boolean }): ConfigSource {
  return {
    ...wrapped,
    ...(keep.watch && source.watch !== undefined ? { watch: (onChange: () => void) => source.watch?.(onChange) ?? (() => undefined) } : {}),
    ...(source.close !== undefined ? { close: () => source.close?.() ?? Promise.resolve() } : {}),
  };
}

/**
 * A copy of `config` whose runtimes with a relative `path` have it resolved against
 * `base`. Anything that is not the expected shape is left as it is, for the schema to
 * reject; so is an empty path.
 */
export function resolveRuntimePaths(config: Record<string, unknown>, base: string): Record<string, unknown> {
  const { runtimes } = config;
  if (!isRecord(runtimes)) return config;
  const resolved = Object.entries(runtimes).map(([name, runtime]) =>
    isRecord(runtime) && typeof runtime.path === 'string' && runtime.path !== '' && !isAbsolute(runtime.path)
      ? [name, { ...runtime, path: resolve(base, runtime.path) }]
      : [name, runtime],
  );
  return { ...config, runtimes: Object.fromEntries(resolved) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
