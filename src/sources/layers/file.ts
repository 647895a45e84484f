/**
 * The `file()` layer: one config file in any supported format, read whole on every read,
 * watched through {@link watchConfigFile}, with lazy positions for its origins.
 */
import { resolve } from 'node:path';
import { ArgumentError, hasErrorCode } from '../../errors.js';
import { checkInteger, checkNonEmptyString, checkOptionalBoolean } from '../../internal/argument-checks.js';
import { log } from '../../internal/debug.js';
import { sha256Hex } from '../../internal/sha256.js';
import { parsePointer } from '../../json/json-pointer.js';
import type { Origins } from '../../origin.js';
import type { ConfigSource, SourceReading } from '../../store/config-source.js';
import { formatOfPath, type ConfigFormat } from '../formats/config-format.js';
import { locateInText, parseConfigFormat } from '../formats/parse-config-format.js';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, decodeConfigBytes, readConfigBytes, withoutBom } from '../read-config-file.js';
import { watchConfigFile } from '../watch-config-file.js';
import { retriedWatch } from '../retried-watch.js';
import { valueAt } from '../../json/value-at.js';


/** Options of {@link file}. */
export interface FileLayerOptions {
  /** A missing file is an empty layer instead of an error. Default `false`. */
  readonly optional?: boolean;
  /** The format, when the extension does not say it (`.json`, `.json5`, `.yaml`, `.yml`, `.toml`). */
  readonly format?: ConfigFormat;
  /** Largest accepted file, in bytes. Default 16 MiB. */
  readonly maxBytes?: number;
  /** Deepest accepted nesting (the root object is 1). Default 256. */
  readonly maxDepth?: number;
}

/** What one read of a file gave: the reading, and the digest of the bytes. */
export interface FileRead {
  readonly reading: SourceReading;
  /**
   * The SHA-256 of the bytes read, hashed on the first call: only a watch event asks, so
   * a read alone never pays for it. `undefined` when the file was absent.
   */
  readonly digest: (() => string) | undefined;
}

/** A file's path and how to read it, checked. Internal: `directory()` reads its files with it. */
export interface FileSpec {
  readonly path: string;
  readonly format: ConfigFormat;
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly layer: string;
}

/**
 * A layer that reads one config file (DESIGN.md §5.2). The format comes from the
 * extension (or `format`); YAML, TOML and JSON5 need their optional parser package
 * (docs/formats.md). Every read reads the whole file again; `watch` reports every change
 * of its bytes (editor saves, renames over it, a ConfigMap swap) once.
 *
 * Origins: `{ layer: 'file', origin: { file, line, column } }`, the position found only
 * when `store.explain()` asks (JSON, JSON5 and YAML; TOML names the file).
 *
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `path`, `format` (missing and not given by
 *   the extension, or unknown), `optional`, `maxBytes` or `maxDepth`
 * @example
 * ```ts
 * const source = layered([defaults({ port: 8080 }), file('/etc/app/config.yaml', { optional: true })]);
 * ```
 */
export function file(path: string, options: FileLayerOptions = {}): ConfigSource {
  const spec = fileSpec(path, options, 'file');
  const optional = options.optional === true;
  // The digest of the bytes the last read used: a watch event for the same bytes is no
  // change. It keeps those bytes until the next read, and hashes them when first asked.
  let lastDigest: (() => string) | undefined;
  let lastMissing = false;
  return {
    name: `file:${spec.path}`,
    async read({ signal }) {
      // Forgotten until this read succeeds: after a failed read, any content is news,
      // even the bytes of the last good read (a broken file put back as it was).
      lastDigest = undefined;
      lastMissing = false;
      const read = await readFileLayer(spec, optional, signal);
      lastDigest = read.digest;
      lastMissing = read.digest === undefined;
      return read.reading;
    },
    watch(onChange) {
      return retriedWatch(spec.path, () =>
        watchConfigFile(
          spec.path,
          (change) => {
            if (change.digest !== lastDigest?.()) onChange();
          },
          {
            emitInitial: true,
            // The watcher only tells that the bytes changed; the read parses them.
            parse: () => undefined,
            read: { maxBytes: spec.maxBytes },
            persistent: false,
            onError: (error, context) => {
              // A file that stays missing, as it was at the last read, is no news.
              if (optional && lastMissing && hasErrorCode(error, 'ERR_FILE_NOT_FOUND')) return;
              log.sources('%s: %s failed: %O', spec.path, context.phase, error);
              // Let the reload read it and report the failure in the store's status.
              if (context.phase !== 'change') onChange();
            },
          },
        ),
      );
    },
  };
}

/** @throws {ArgumentError} as {@link file} */
export function fileSpec(path: unknown, options: FileLayerOptions, layer: string): FileSpec {
  checkNonEmptyString('path', path);
  checkOptionalBoolean('optional', options.optional);
  if (options.maxBytes !== undefined) checkInteger('maxBytes', options.maxBytes, 0);
  if (options.maxDepth !== undefined) checkInteger('maxDepth', options.maxDepth, 1);
  const format = options.format ?? formatOfPath(path);
  if (format === undefined) throw new ArgumentError('format', `${path}: the extension does not name a format (.json, .json5, .yaml, .yml, .toml); pass { format }`);
  if (!FORMATS.has(format)) throw new ArgumentError('format', `must be one of ${[...FORMATS].join(', ')}, got ${JSON.stringify(format)}`);
  return { path: resolve(path), format, maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES, maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH, layer };
}

const FORMATS: ReadonlySet<string> = new Set<ConfigFormat>(['json', 'json5', 'yaml', 'toml']);

/**
 * Reads and parses one file: its value, and origins that locate a path in its text when
 * asked. A missing file with `optional` is an empty layer.
 * @throws {ConfigFileError} every code of readConfigFile; {@link MissingDependencyError} for a parser that is not installed
 */
export async function readFileLayer(spec: FileSpec, optional: boolean, signal: AbortSignal): Promise<FileRead> {
  let bytes: Uint8Array;
  try {
    bytes = await readConfigBytes(spec.path, { maxBytes: spec.maxBytes, signal });
  } catch (error) {
    if (optional && hasErrorCode(error, 'ERR_FILE_NOT_FOUND')) return { reading: { value: {} }, digest: undefined };
    throw error;
  }
  const text = withoutBom(decodeConfigBytes(bytes, spec.path));
  const value = await parseConfigFormat(text, { format: spec.format, source: spec.path, maxDepth: spec.maxDepth, signal });
  let digest: string | undefined;
  return { reading: { value, origins: fileOrigins(spec, text, value) }, digest: () => (digest ??= sha256Hex(bytes)) };
}

function fileOrigins(spec: FileSpec, text: string, value: Record<string, unknown>): Origins {
  return {
    explain(pointer) {
      const keys = parsePointer(pointer);
      if (keys === undefined || valueAt(value, keys).kind !== 'found') return undefined;
      const position = locateInText(text, spec.format, keys);
      return { layer: spec.layer, origin: position === undefined ? { file: spec.path } : { file: spec.path, line: position.line, column: position.column }, shadowed: [] };
    },
  };
}
