/**
 * The one file-system seam of txconfig. Config sources and artifact stores take a
 * `Partial<FileSystem>` option (`fs`); every call they make goes through it, so tests
 * inject faults (EIO, ENOSPC, a crash between two steps) without mocking modules.
 *
 * Descriptor-based, as `fs.open` is: the defaults are fs-extra's, which queue `open`
 * and friends on `EMFILE` (graceful-fs) instead of failing a reload in a daemon that
 * is short of descriptors for a moment.
 */
import fse from 'fs-extra';

/** What {@link FileSystem.fstat} and {@link FileSystem.lstat} report. A `fs.Stats` qualifies. */
export interface FileStats {
  /** Size in bytes. */
  readonly size: number;
  /** File type and permission bits, as `stat(2)` gives them. */
  readonly mode: number;
  /** The device holding the file: with `ino`, its identity (a replaced directory has another). */
  readonly dev: number;
  /** The inode number. */
  readonly ino: number;
  /** True for a regular file. */
  isFile(): boolean;
  /** True for a directory. */
  isDirectory(): boolean;
  /** True for a symbolic link (only `lstat` can see one). */
  isSymbolicLink(): boolean;
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
 * The file system calls txconfig makes. Pass any subset as an `fs` option; the rest
 * default to {@link defaultFileSystem}.
 */
export interface FileSystem {
  /** Opens `path` with `flags` (`fs.constants`), creating it with `mode` when `O_CREAT` is set; resolves to a descriptor. */
  open(path: string, flags: number, mode?: number): Promise<number>;
  /** Stats an open descriptor. */
  fstat(fd: number): Promise<FileStats>;
  /** Reads up to `length` bytes at `position` into `buffer` at `offset`, as `fs.read`; `bytesRead` is 0 at the end. */
  read(
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{
    /** How many bytes were read; 0 at the end of the file. */
    readonly bytesRead: number;
  }>;
  /** Writes up to `length` bytes of `buffer` from `offset` at `position`, as `fs.write`. */
  write(
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{
    /** How many bytes were written (a short write is followed by another call). */
    readonly bytesWritten: number;
  }>;
  /** Sets an open file's mode. */
  fchmod(fd: number, mode: number): Promise<void>;
  /** Flushes an open file (or directory) to stable storage. */
  fsync(fd: number): Promise<void>;
  /** Closes a descriptor. */
  close(fd: number): Promise<void>;
  /** Creates a hard link; fails with `EEXIST` rather than replace `newPath`. */
  link(existingPath: string, newPath: string): Promise<void>;
  /** Removes a directory entry (never follows a symlink). */
  unlink(path: string): Promise<void>;
  /** Stats a path without following a symlink. */
  lstat(path: string): Promise<FileStats>;
  /** Stats a path, following symlinks. */
  stat(path: string): Promise<FileStats>;
  /** The canonical absolute path, symlinks resolved. */
  realpath(path: string): Promise<string>;
  /** The entry names of a directory. */
  readdir(path: string): Promise<string[]>;
  /** Creates a directory and its parents; resolves to the first one created, if any. */
  mkdir(path: string, options: { readonly recursive: true; readonly mode: number }): Promise<string | undefined>;
  /** Sets a path's mode. */
  chmod(path: string, mode: number): Promise<void>;
}

/** fs-extra's functions (graceful-fs underneath): the default {@link FileSystem}. */
export const defaultFileSystem: FileSystem = Object.freeze({
  open: (path: string, flags: number, mode?: number) => fse.open(path, flags, mode),
  fstat: (fd: number) => fse.fstat(fd),
  read: (fd: number, buffer: Uint8Array, offset: number, length: number, position: number) => fse.read(fd, buffer, offset, length, position),
  write: (fd: number, buffer: Uint8Array, offset: number, length: number, position: number) => fse.write(fd, buffer, offset, length, position),
  fchmod: (fd: number, mode: number) => fse.fchmod(fd, mode),
  fsync: (fd: number) => fse.fsync(fd),
  close: (fd: number) => fse.close(fd),
  link: (existingPath: string, newPath: string) => fse.link(existingPath, newPath),
  unlink: (path: string) => fse.unlink(path),
  lstat: (path: string) => fse.lstat(path),
  stat: (path: string) => fse.stat(path),
  realpath: (path: string) => fse.realpath(path),
  readdir: (path: string) => fse.readdir(path),
  mkdir: (path: string, options: { readonly recursive: true; readonly mode: number }) => fse.mkdir(path, options),
  chmod: (path: string, mode: number) => fse.chmod(path, mode),
});

/** {@link defaultFileSystem} with the functions of `fs` in place of its own. */
export function resolveFileSystem(fs: Partial<FileSystem> | undefined): FileSystem {
  return fs === undefined ? defaultFileSystem : { ...defaultFileSystem, ...fs };
}

/** Writes all of `bytes` at the start of the open file `fd`, looping over short writes. */
export async function writeAll(fs: FileSystem, fd: number, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) {
    const { bytesWritten } = await fs.write(fd, bytes, written, bytes.byteLength - written, written);
    if (bytesWritten <= 0) throw new Error(`write made no progress at byte ${written} of ${bytes.byteLength}`);
    written += bytesWritten;
  }
}

/**
 * Reads the open file `fd` from the start to its end, but never more than `limit`
 * bytes: a file that grows while it is read cannot make this read for ever.
 */
export async function readUpTo(fs: FileSystem, fd: number, limit: number, sizeHint = 0, signal?: AbortSignal): Promise<Buffer> {
  const chunkSize = Math.min(Math.max(sizeHint + 1, MIN_CHUNK), MAX_CHUNK);
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total < limit) {
    const chunk = Buffer.allocUnsafe(Math.min(chunkSize, limit - total));
    const { bytesRead } = await fs.read(fd, chunk, 0, chunk.length, total);
    if (bytesRead === 0) break;
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    signal?.throwIfAborted();
    // A short read of a regular file is its end at that moment: no read that returns 0 to
    // confirm it (one more round trip to the thread pool per file).
    if (bytesRead < chunk.length) break;
  }
  return Buffer.concat(chunks, total);
}

const MIN_CHUNK = 16 * 1024;
const MAX_CHUNK = 1024 * 1024;
