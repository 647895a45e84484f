// Reading the daemon's config file. A runtime's `path` may be relative: it is taken from
// the config file's directory (as Prometheus does for the files its config names), so a
// config and the programs beside it can move together. The plugin itself only ever sees
// absolute paths, and still refuses any other.
import { dirname, isAbsolute, resolve } from 'node:path';

import { parseConfigText, readConfigFile } from 'txconfig';

/** Strict UTF-8, as `readConfigFile` decodes: invalid bytes are an invalid file, not U+FFFD. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the daemon's config file at `path` (safely, with `readConfigFile`), with every
 * relative runtime `path` resolved against the file's directory.
 * @throws {ConfigFileError} `ERR_FILE_NOT_FOUND`, `ERR_PARSE`, … as `readConfigFile`
 */
export async function readDaemonConfig(path: string): Promise<Record<string, unknown>> {
  return resolveRuntimePaths(await readConfigFile(path), dirname(path));
}

/**
 * {@link readDaemonConfig} for bytes already read: the `parse` option of
 * `reloadOnFileChange`, which hands over the config parsed from exactly the bytes it hashed.
 * @throws {ParseError} `ERR_PARSE`, and a TypeError for bytes that are not UTF-8
 */
export function parseDaemonConfig(bytes: Uint8Array, path: string): Record<string, unknown> {
  return resolveRuntimePaths(parseConfigText(utf8.decode(bytes), { source: path }), dirname(path));
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
