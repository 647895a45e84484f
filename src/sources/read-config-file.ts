/**
 * Reading a JSON config file safely: only regular files, a size limit enforced while
 * reading, strict UTF-8, strict JSON with positions in errors, no prototype keys.
 */
import { constants } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ArgumentError, ConfigFileError } from '../errors.js';
import { readUpTo, resolveFileSystem, type FileStats, type FileSystem } from '../file-system.js';
import { log } from '../internal/debug.js';
import { errnoCode } from '../internal/errno.js';
import { checkInteger, checkNonEmptyString, describeValue } from '../internal/argument-checks.js';
import { TWO_TURN_TEXT, parseJsonObject, parseJsonObjectInTurns } from './parse-json-object.js';

/** Default {@link ReadConfigFileOptions.maxBytes}: 16 MiB. */
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

/** Default {@link ReadConfigFileOptions.maxDepth}: 256 nested objects and arrays. */
export const DEFAULT_MAX_DEPTH = 256;

/** Options of {@link readConfigFile}. */
export interface ReadConfigFileOptions {
  /** Largest accepted file, in bytes. Default {@link DEFAULT_MAX_BYTES} (16 MiB). */
  readonly maxBytes?: number;
  /** Deepest accepted nesting of objects and arrays (the root object is 1). Default 256. */
  readonly maxDepth?: number;
  /** Stops the read; the promise then rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /**
   * File system seam, for fault injection: any of the {@link FileSystem} calls
   * (`open`, `fstat`, `read` and `close` are the ones a read makes). The rest are
   * fs-extra's.
   */
  readonly fs?: Partial<FileSystem>;
}

/** Options of {@link parseConfigText}. */
export interface ParseConfigTextOptions {
  /** Names the text in errors (`error.path`). Default `'<text>'`. */
  readonly source?: string;
  /** Deepest accepted nesting of objects and arrays (the root object is 1). Default 256. */
  readonly maxDepth?: number;
}

// O_NONBLOCK: opening a FIFO for reading must not wait for a writer; the type check
// after open refuses it. O_NOCTTY: opening a terminal must not make it ours.
// Windows lacks both (the typings claim otherwise).
const optional: Partial<typeof constants> = constants;
const OPEN_FLAGS = constants.O_RDONLY | (optional.O_NONBLOCK ?? 0) | (optional.O_NOCTTY ?? 0);

// fatal: invalid UTF-8 is an error, not U+FFFD. ignoreBOM: keep the BOM so that
// parseConfigText strips exactly one, whoever calls it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Reads a JSON config file whose top level is an object.
 *
 * Only a regular file (symlinks followed) is read; its size is checked before reading
 * and again while reading, so neither a huge file nor one that grows is read whole.
 * A UTF-8 BOM is skipped; invalid UTF-8 is refused. The JSON must be strict RFC 8259
 * with an object at the root, no duplicate keys and no `__proto__`, `constructor` or
 * `prototype` key at any depth. The result is a tree of ordinary objects and arrays.
 *
 * @param path - The file; relative paths resolve against the working directory.
 * @throws {ConfigFileError} `ERR_FILE_NOT_FOUND` (no such file, or a path component is
 *   not a directory), `ERR_FILE_ACCESS` (permission denied, or any other I/O failure;
 *   see `cause`), `ERR_FILE_TYPE` (a directory, FIFO, socket, device, or a symlink
 *   loop), `ERR_FILE_TOO_LARGE` (over `maxBytes`), `ERR_FILE_ENCODING` (not UTF-8).
 * @throws {ParseError} `ERR_PARSE` with `line` and `column`: not JSON, empty, root not
 *   an object, duplicate key, number out of range, nesting deeper than `maxDepth`.
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY` with `key`, `pointer`, `line`, `column`.
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `path` (not a non-empty string),
 *   `maxBytes` (not an integer >= 0) or `maxDepth` (not an integer >= 1); nothing is opened.
 * @throws `signal.reason` when `signal` aborts.
 * @example
 * ```ts
 * const config = await readConfigFile('/etc/mydaemon/config.json', { maxBytes: 1 << 20 });
 * await store.reload(config);
 * ```
 */
export async function readConfigFile(path: string, options: ReadConfigFileOptions = {}): Promise<Record<string, unknown>> {
  checkNonEmptyString('path', path);
  checkReadLimits(options);
  const bytes = await readConfigBytes(path, options);
  const text = decodeConfigBytes(bytes, path);
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  // A long text is decoded, parsed and checked in three turns of the event loop
  // (parse-json-object.ts): about 2, 7 and 6 ms for 3 MB, instead of 15 in one.
  if (text.length > TWO_TURN_TEXT) await nextTurn();
  return parseJsonObjectInTurns(withoutBom(text), { source: path, maxDepth });
}

/**
 * Parses config text (from an environment variable, a secret store, a request body)
 * with exactly the checks {@link readConfigFile} applies after reading.
 *
 * @throws {ParseError} `ERR_PARSE` with `line` and `column`.
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY` with `key`, `pointer`, `line`, `column`.
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `text` (not a string) or `maxDepth` (not an integer >= 1).
 * @example
 * ```ts
 * const config = parseConfigText(process.env.MYDAEMON_CONFIG ?? '', { source: 'MYDAEMON_CONFIG' });
 * ```
 */
export function parseConfigText(text: string, options: ParseConfigTextOptions = {}): Record<string, unknown> {
  if (typeof text !== 'string') throw new ArgumentError('text', `must be a string, got ${describeValue(text)}`);
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  checkInteger('maxDepth', maxDepth, 1);
  return parseJsonObject(withoutBom(text), { source: options.source ?? '<text>', maxDepth });
}

/**
 * Decodes bytes as UTF-8 and parses them like {@link parseConfigText}. Internal: the
 * watcher hashes and parses the very same bytes.
 *
 * @throws {ConfigFileError} `ERR_FILE_ENCODING`; and whatever parseConfigText throws.
 */
export function parseConfigBytes(bytes: Uint8Array, options: ParseConfigTextOptions & { readonly source: string }): Record<string, unknown> {
  return parseConfigText(decodeConfigBytes(bytes, options.source), options);
}

/** `text` without the byte order mark it may start with. Internal: the layers' file reads use it. */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Strict UTF-8 decoding, the BOM kept. Internal: the layers' file reads use it.
 * @throws {ConfigFileError} `ERR_FILE_ENCODING` when `bytes` are not UTF-8
 */
export function decodeConfigBytes(bytes: Uint8Array, source: string): string {
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw new ConfigFileError('ERR_FILE_ENCODING', source, 'not valid UTF-8', { cause: error });
  }
}

/**
 * Checks the limits {@link readConfigFile} takes, before anything is opened. Internal:
 * the watcher checks its `read` options with it (`prefix` `'read.'`).
 *
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `maxBytes` or `maxDepth`.
 */
export function checkReadLimits(options: Pick<ReadConfigFileOptions, 'maxBytes' | 'maxDepth'>, prefix = ''): void {
  if (options.maxBytes !== undefined) checkInteger(`${prefix}maxBytes`, options.maxBytes, 0);
  if (options.maxDepth !== undefined) checkInteger(`${prefix}maxDepth`, options.maxDepth, 1);
}

/**
 * Reads the bytes of a regular file with the limits of {@link readConfigFile}, which
 * the caller has checked ({@link checkReadLimits}). Internal.
 *
 * @throws {ConfigFileError} every file code of readConfigFile except `ERR_FILE_ENCODING`.
 */
export async function readConfigBytes(path: string, options: Omit<ReadConfigFileOptions, 'maxDepth'> = {}): Promise<Uint8Array> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const fs = resolveFileSystem(options.fs);
  const signal = options.signal;
  signal?.throwIfAborted();

  let fd: number;
  try {
    fd = await fs.open(path, OPEN_FLAGS);
  } catch (error) {
    throw fileError(path, error);
  }
  try {
    let stats: FileStats;
    try {
      stats = await fs.fstat(fd);
    } catch (error) {
      throw fileError(path, error);
    }
    // Refuse before the first read: reading a FIFO, a socket or /dev/zero would block
    // or never end.
    if (!stats.isFile()) throw new ConfigFileError('ERR_FILE_TYPE', path, `not a regular file (${describeType(stats)})`);
    if (stats.size > maxBytes) throw tooLarge(path, maxBytes, stats.size);
    signal?.throwIfAborted();
    return await readLimited(fs, fd, path, maxBytes, stats.size, signal);
  } finally {
    await fs.close(fd).catch((error: unknown) => {
      log.sources('closing %s failed: %O', path, error);
    });
  }
}

/** Reads to the end of the file, but never more than `maxBytes + 1` bytes. */
async function readLimited(
  fs: FileSystem,
  fd: number,
  path: string,
  maxBytes: number,
  expectedSize: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    // One byte past the limit tells a file that grew after fstat from one that fits.
    bytes = await readUpTo(fs, fd, maxBytes + 1, expectedSize, signal);
  } catch (error) {
    // An abort rejects with the signal's reason, as Node's own fs functions do.
    if (signal?.aborted === true && error === signal.reason) throw error;
    throw fileError(path, error);
  }
  if (bytes.byteLength > maxBytes) throw tooLarge(path, maxBytes, bytes.byteLength);
  return bytes;
}

function tooLarge(path: string, maxBytes: number, size: number): ConfigFileError {
  return new ConfigFileError('ERR_FILE_TOO_LARGE', path, `larger than the limit of ${maxBytes} bytes (at least ${size})`);
}

/** Maps a file system failure to a {@link ConfigFileError}; see docs/sources.md. Internal. */
export function fileError(path: string, error: unknown): ConfigFileError {
  const code = errnoCode(error);
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new ConfigFileError('ERR_FILE_NOT_FOUND', path, 'no such file', { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new ConfigFileError('ERR_FILE_ACCESS', path, 'permission denied', { cause: error });
    case 'ELOOP':
      return new ConfigFileError('ERR_FILE_TYPE', path, 'too many levels of symbolic links (a symlink loop)', { cause: error });
    case 'EISDIR':
      return new ConfigFileError('ERR_FILE_TYPE', path, 'not a regular file (directory)', { cause: error });
    case 'ENXIO':
      // open(2) of a Unix socket fails this way on Linux.
      return new ConfigFileError('ERR_FILE_TYPE', path, 'not a regular file (socket or device)', { cause: error });
    default:
      return new ConfigFileError('ERR_FILE_ACCESS', path, `cannot read (${code ?? 'unknown error'})`, {
        cause: error,
      });
  }
}

function describeType(stats: FileStats): string {
  if (stats.isDirectory()) return 'directory';
  if (stats.isFIFO()) return 'FIFO';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isBlockDevice()) return 'block device';
  return 'unknown type';
}
