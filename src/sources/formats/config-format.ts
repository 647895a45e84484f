/**
 * The formats a config file can be written in, and which one a file name says.
 */

/** A config file format: strict JSON, JSON5, YAML 1.2 or TOML 1.0. See docs/formats.md. */
export type ConfigFormat = 'json' | 'json5' | 'yaml' | 'toml';

const FORMAT_OF_EXTENSION: ReadonlyMap<string, ConfigFormat> = new Map([
  ['.json', 'json'],
  ['.json5', 'json5'],
  ['.yaml', 'yaml'],
  ['.yml', 'yaml'],
  ['.toml', 'toml'],
]);

/**
 * The format a file's extension names (`.json`, `.json5`, `.yaml`, `.yml`, `.toml`, in
 * any case), or `undefined` for any other name.
 *
 * @example
 * ```ts
 * formatOfPath('/etc/app/config.YML'); // 'yaml'
 * formatOfPath('/etc/app/config.ini'); // undefined
 * ```
 */
export function formatOfPath(path: string): ConfigFormat | undefined {
  // Only the last path segment has an extension: `/etc/app.json/config` has none.
  const name = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return undefined;
  return FORMAT_OF_EXTENSION.get(name.slice(dot).toLowerCase());
}
