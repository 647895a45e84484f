/**
 * Reading a JSON config file safely: only regular files, a size limit enforced while
 * reading, strict UTF-8, strict JSON with positions in errors, no prototype keys.
 */
import { constants } from 'node:fs';
import fse from 'fs-extra';
import { ConfigFileError } from '../errors.js';
import { log } from '../internal/debug.js';
import { parseJsonObject } from './parse-json-object.js';

/** Default {@link ReadConfigFileOptions.maxBytes}: 16 MiB. */
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

/** Default {@link ReadConfigFileOptions.maxDepth}: 256 nested objects and arrays. */
export const DEFAULT_MAX_DEPTH = 256;

/** What {@link ConfigFileSystem.fstat} must report. A `fs.Stats` qualifies. */
export interface ConfigFileStats {
  /** Size in bytes. */
  readonly size: number;
  /** True for a regular file: the only kind that is read. */
  isFile(): boolean;
  /** True for a directory. */
  isDirectory(): boolean;
  /** True for a named pipe. */
  isFIFO(): boolean;
  /** True for a Unix socket. */
  isSocket(): boolean;
  /** True for a character device (`/dev/zero`, a terminal). */
  isCharacterDevice(): boolean;
  /** True for a block device. */
  isBlockDevice(): boolean;
}

/**
 * The file system calls {@link readConfigFile} makes, as a seam: tests inject faults
 * (EACCES, EIO) here instead of mocking modules. The default is fs-extra's.
 */
export interface ConfigFileSystem {
  /** Opens `path` read-only (with `O_NONBLOCK` and `O_NOCTTY` where the OS has them); resolves to a file descriptor. */
  open(path: string, flags: number): Promise<number>;
  /** Stats the open file. */
  fstat(fd: number): Promise<ConfigFileStats>;
  /** Reads up to `length` bytes at `position` into `buffer` at `offset`, as `fs.read`. */
  read(
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{
    /** How many bytes were read; 0 at the end of the file. */
    bytesRead: number;
  }>;
  /** Closes the descriptor. A failure is logged, never thrown over the read's outcome. */
  close(fd: number): Promise<void>;
}

/** Options of {@link readConfigFile}. */
export interface ReadConfigFileOptions {
  /** Largest accepted file, in bytes. Default {@link DEFAULT_MAX_BYTES} (16 MiB). */
  readonly maxBytes?: number;
  /** Deepest accepted nesting of objects and arrays (the root object is 1). Default 256. */
  readonly maxDepth?: number;
  /** Stops the read; the promise then rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** File system seam, for fault injection. Default: fs-extra. */
  readonly fs?: ConfigFileSystem;
}

/** Options of {@link parseConfigText}. */
export interface ParseConfigTextOptions {
  /** Names the text in errors (`error.path`). Default `'<text>'`. */
  readonly source?: string;
  /** Deepest accepted nesting of objects and arrays (the root object is 1). Default 256. */
  readonly maxDepth?: number;
}

const defaultFs: ConfigFileSystem = {
  open: (path, flags) => fse.open(path, flags),
  fstat: (fd) => fse.fstat(fd),
  read: (fd, buffer, offset, length, position) => fse.read(fd, buffer, offset, length, position),
  close: (fd) => fse.close(fd),
};

// O_NONBLOCK: opening a FIFO for reading must not wait for a writer; the type check
// after open refuses it. O_NOCTTY: opening a terminal must not make it ours.
// Windows lacks both (the typings claim otherwise).
const optional: Partial<typeof constants> = constants;
const OPEN_FLAGS = constants.O_RDONLY | (optional.O_NONBLOCK ?? 0) | (optional.O_NOCTTY ?? 0);

const MIN_CHUNK = 16 * 1024;
const MAX_CHUNK = 1024 * 1024;

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
 * @throws `signal.reason` when `signal` aborts.
 * @example
 * ```ts
 * const config = await readConfigFile('/etc/mydaemon/config.json', { maxBytes: 1 << 20 });
 * await store.reload(config);
 * ```
 */
export async function readConfigFile(path: string, options: ReadConfigFileOptions = {}): Promise<Record<string, unknown>> {
  const bytes = await readConfigBytes(path, options);
  return parseConfigBytes(bytes, { source: path, ...(options.maxDepth === undefined ? {} : { maxDepth: options.maxDepth }) });
}

/**
 * Parses config text (from an environment variable, a secret store, a request body)
 * with exactly the checks {@link readConfigFile} applies after reading.
 *
 * @throws {ParseError} `ERR_PARSE` with `line` and `column`.
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY` with `key`, `pointer`, `line`, `column`.
 * @example
 * ```ts
 * const config = parseConfigText(process.env.MYDAEMON_CONFIG ?? '', { source: 'MYDAEMON_CONFIG' });
 * ```
 */
export function parseConfigText(text: string, options: ParseConfigTextOptions = {}): Record<string, unknown> {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  checkLimit('maxDepth', maxDepth, 1);
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return parseJsonObject(body, { source: options.source ?? '<text>', maxDepth });
}

/**
 * Decodes bytes as UTF-8 and parses them like {@link parseConfigText}. Internal: the
 * watcher hashes and parses the very same bytes.
 *
 * @throws {ConfigFileError} `ERR_FILE_ENCODING`; and whatever parseConfigText throws.
 */
export function parseConfigBytes(bytes: Uint8Array, options: ParseConfigTextOptions & { readonly source: string }): Record<string, unknown> {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (error) {
    throw new ConfigFileError('ERR_FILE_ENCODING', options.source, 'not valid UTF-8', { cause: error });
  }
  return parseConfigText(text, options);
}

/**
 * Reads the bytes of a regular file with the limits of {@link readConfigFile}. Internal.
 *
 * @throws {ConfigFileError} every file code of readConfigFile except `ERR_FILE_ENCODING`.
 */
export async function readConfigBytes(path: string, options: Omit<ReadConfigFileOptions, 'maxDepth'> = {}): Promise<Uint8Array> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  checkLimit('maxBytes', maxBytes, 0);
  const fs = options.fs ?? defaultFs;
  const signal = options.signal;
  signal?.throwIfAborted();

  let fd: number;
  try {
    fd = await fs.open(path, OPEN_FLAGS);
  } catch (error) {
    throw fileError(path, error);
  }
  try {
    let stats: ConfigFileStats;
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
  fs: ConfigFileSystem,
  fd: number,
  path: string,
  maxBytes: number,
  expectedSize: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  // One byte past the limit tells a file that grew after fstat from one that fits.
  const limit = maxBytes + 1;
  const chunkSize = Math.min(Math.max(expectedSize + 1, MIN_CHUNK), MAX_CHUNK);
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total < limit) {
    const chunk = Buffer.allocUnsafe(Math.min(chunkSize, limit - total));
    let bytesRead: number;
    try {
      ({ bytesRead } = await fs.read(fd, chunk, 0, chunk.length, total));
    } catch (error) {
      throw fileError(path, error);
    }
    if (bytesRead === 0) break;
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    signal?.throwIfAborted();
  }
  if (total > maxBytes) throw tooLarge(path, maxBytes, total);
  return Buffer.concat(chunks, total);
}

function tooLarge(path: string, maxBytes: number, size: number): ConfigFileError {
  return new ConfigFileError('ERR_FILE_TOO_LARGE', path, `larger than the limit of ${maxBytes} bytes (at least ${size})`);
}

/** Maps a file system failure to a {@link ConfigFileError}; see docs/sources.md. Internal. */
export function fileError(path: string, error: unknown): ConfigFileError {
  const code = (error as { code?: unknown } | null)?.code;
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
      return new ConfigFileError('ERR_FILE_ACCESS', path, `cannot read (${typeof code === 'string' ? code : 'unknown error'})`, {
        cause: error,
      });
  }
}

function describeType(stats: ConfigFileStats): string {
  if (stats.isDirectory()) return 'directory';
  if (stats.isFIFO()) return 'FIFO';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isBlockDevice()) return 'block device';
  return 'unknown type';
}

function checkLimit(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
}
