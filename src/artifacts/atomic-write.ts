/**
 * Atomic, durable, exclusive file writes for content-addressed files.
 *
 * The sequence: open `<dir>/.tmp-<random>` with O_CREAT|O_EXCL|O_NOFOLLOW (a planted
 * file or symlink there makes the open fail, it is never written through), write,
 * fchmod to the final mode, fsync, close, `link(temp, final)` (which fails with EEXIST
 * instead of replacing what is there), unlink the temp file, fsync the directory.
 *
 * When the final file already exists it is checked, never replaced: it must be a
 * regular file (lstat; opened with O_NOFOLLOW) with exactly the expected bytes and mode.
 */
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

import { ArtifactError } from '../errors.js';
import { log } from '../internal/debug.js';
import { TEMP_PREFIX, sha256 } from './content-name.js';

/**
 * The file system functions the artifact store uses: a seam for tests and fault
 * injection. Path functions mirror `node:fs/promises`; handle functions take the
 * `FileHandle` that `open` returned. Pass any subset; the rest default to Node's.
 */
export interface ArtifactFs {
  /** Opens a file; the store passes `O_NOFOLLOW` and, for new files, `O_CREAT | O_EXCL`. */
  readonly open: (path: string, flags: number, mode?: number) => Promise<FileHandle>;
  /** Writes all of `data` at the current position. */
  readonly write: (handle: FileHandle, data: Uint8Array) => Promise<void>;
  /** Reads the whole file from the start. */
  readonly read: (handle: FileHandle) => Promise<Buffer>;
  /** Stats an open file. */
  readonly fstat: (handle: FileHandle) => Promise<Stats>;
  /** Sets an open file's mode. */
  readonly fchmod: (handle: FileHandle, mode: number) => Promise<void>;
  /** Flushes an open file (or directory) to stable storage. */
  readonly fsync: (handle: FileHandle) => Promise<void>;
  /** Closes a handle. */
  readonly close: (handle: FileHandle) => Promise<void>;
  /** Creates a hard link; must fail with `EEXIST` rather than replace `newPath`. */
  readonly link: (existingPath: string, newPath: string) => Promise<void>;
  /** Removes a directory entry (never follows a symlink). */
  readonly unlink: (path: string) => Promise<void>;
  /** Stats a path without following a symlink. */
  readonly lstat: (path: string) => Promise<Stats>;
  /** Lists the entry names of a directory. */
  readonly readdir: (path: string) => Promise<string[]>;
  /** Creates a directory and its parents; resolves to the first one created, if any. */
  readonly mkdir: (path: string, options: { recursive: true; mode: number }) => Promise<string | undefined>;
  /** Sets a path's mode. */
  readonly chmod: (path: string, mode: number) => Promise<void>;
}

/** Node's own functions, the default {@link ArtifactFs}. */
export const nodeArtifactFs: ArtifactFs = {
  open: (path, flags, mode) => fsp.open(path, flags, mode),
  write: (handle, data) => handle.writeFile(data),
  read: (handle) => handle.readFile(),
  fstat: (handle) => handle.stat(),
  fchmod: (handle, mode) => handle.chmod(mode),
  fsync: (handle) => handle.sync(),
  close: (handle) => handle.close(),
  link: (existingPath, newPath) => fsp.link(existingPath, newPath),
  unlink: (path) => fsp.unlink(path),
  lstat: (path) => fsp.lstat(path),
  readdir: (path) => fsp.readdir(path),
  mkdir: (path, options) => fsp.mkdir(path, options),
  chmod: (path, mode) => fsp.chmod(path, mode),
};

/** `nodeArtifactFs` with the given functions replaced. */
export function resolveArtifactFs(fs: Partial<ArtifactFs> | undefined): ArtifactFs {
  return fs === undefined ? nodeArtifactFs : { ...nodeArtifactFs, ...fs };
}

/** Options of {@link writeAtomic}. */
export interface AtomicWriteOptions {
  /** Permission bits of the final file. */
  readonly mode: number;
  /** SHA-256 of `bytes` (hex), already computed by the caller. */
  readonly digest: string;
  /** The file system to write through. Default {@link nodeArtifactFs}. */
  readonly fs?: ArtifactFs;
  /** The random part of temporary file names: a seam for tests. */
  readonly tempSuffix?: () => string;
}

/** What {@link writeAtomic} did. */
export interface AtomicWriteResult {
  /** `true` when this call created the file; `false` when identical content was already there. */
  readonly created: boolean;
}

const TEMP_ATTEMPTS = 8;
const PERMISSION_BITS = 0o7777;
const O_TEMP = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW;
const O_READ = constants.O_RDONLY | constants.O_NOFOLLOW;
const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY;

/**
 * Writes `bytes` to `dir/fileName` atomically and durably, or reuses an identical file.
 *
 * A file already at the path is checked first (no symlink followed, size, mode, bytes)
 * and reused without writing anything: re-putting unchanged content, which participants
 * do on every reload that changed something else, costs a read, not a write. Only when
 * no file is there is a temporary file written and linked into place; `link` failing
 * with `EEXIST` (a file appeared meanwhile) falls back to the same check.
 *
 * On failure the temporary file is removed and no partial final file exists.
 * @throws {ArtifactError} `ERR_ARTIFACT_INTEGRITY` (a different file is already there),
 *   `ERR_ARTIFACT_UNSAFE_PATH` (a symlink or non-regular file is there),
 *   `ERR_ARTIFACT_IO` (any file system failure, as `cause`)
 */
export async function writeAtomic(dir: string, fileName: string, bytes: Uint8Array, options: AtomicWriteOptions): Promise<AtomicWriteResult> {
  const fs = options.fs ?? nodeArtifactFs;
  const finalPath = join(dir, fileName);
  const { digest, mode } = options;
  let tempPath: string | undefined;
  try {
    const reused = await reuseIfPresent(fs, dir, finalPath, digest, bytes.byteLength, mode);
    if (reused !== null) return reused;
    let handle: FileHandle;
    ({ handle, tempPath } = await openTemp(fs, dir, options.tempSuffix ?? randomSuffix));
    try {
      await fs.write(handle, bytes);
      // chmod before fsync, so the fsync covers the mode as well as the data.
      await fs.fchmod(handle, mode);
      await fs.fsync(handle);
    } finally {
      await fs.close(handle);
    }
    try {
      await fs.link(tempPath, finalPath);
    } catch (error) {
      if (codeOf(error) !== 'EEXIST') throw error;
      return await reuseExisting(fs, dir, finalPath, digest, bytes.byteLength, mode);
    }
    const linked = tempPath;
    tempPath = undefined;
    await fs.unlink(linked).catch((error: unknown) => {
      tempPath = linked;
      throw error;
    });
    await fsyncDir(fs, dir);
    log.artifacts('wrote %s (%d bytes, mode %o)', finalPath, bytes.byteLength, mode);
    return { created: true };
  } catch (error) {
    throw asArtifactError(error, finalPath, digest, 'cannot write artifact');
  } finally {
    if (tempPath !== undefined) await removeQuietly(fs, tempPath);
  }
}

/** {@link reuseExisting}, or `null` when nothing is at `finalPath` (then the caller writes it). */
async function reuseIfPresent(fs: ArtifactFs, dir: string, finalPath: string, digest: string, size: number, mode: number): Promise<AtomicWriteResult | null> {
  try {
    return await reuseExisting(fs, dir, finalPath, digest, size, mode);
  } catch (error) {
    const missing = error instanceof ArtifactError && error.code === 'ERR_ARTIFACT_INTEGRITY' && codeOf(error.cause) === 'ENOENT';
    if (missing) return null;
    throw error;
  }
}

/** Hands out the file already at `finalPath` if it is exactly the artifact; throws as {@link checkExisting} otherwise. */
async function reuseExisting(fs: ArtifactFs, dir: string, finalPath: string, digest: string, size: number, mode: number): Promise<AtomicWriteResult> {
  // fsync: the file (and below, its directory entry) may come from a writer that crashed before its own fsyncs.
  await checkExisting(fs, finalPath, digest, { size, mode, fsync: true });
  await fsyncDir(fs, dir);
  log.artifacts('reused %s', finalPath);
  return { created: false };
}

/** What {@link checkExisting} compares besides the digest, and whether it fsyncs. */
export interface CheckExistingOptions {
  /** Expected size in bytes, checked before the bytes are read and hashed. */
  readonly size?: number;
  /** Expected permission bits. */
  readonly mode?: number;
  /** fsync the file once it matched (when about to hand out a file someone else wrote). */
  readonly fsync?: boolean;
}

/**
 * Reads the file at `path` without following a symlink and checks it against `digest`
 * (and `size` and `mode`, when given).
 * @throws {ArtifactError} `ERR_ARTIFACT_INTEGRITY` (missing or different),
 *   `ERR_ARTIFACT_UNSAFE_PATH` (a symlink or non-regular file), `ERR_ARTIFACT_IO`
 */
export async function checkExisting(fs: ArtifactFs, path: string, digest: string, options: CheckExistingOptions = {}): Promise<Stats> {
  const { size, mode } = options;
  try {
    const before = await fs.lstat(path).catch((error: unknown) => {
      if (codeOf(error) === 'ENOENT') throw new ArtifactError('ERR_ARTIFACT_INTEGRITY', 'artifact is missing', { path, digest, cause: error });
      throw error;
    });
    refuseUnsafe(before, path, digest);
    const handle = await fs.open(path, O_READ).catch((error: unknown) => {
      // ELOOP: it became a symlink after the lstat.
      if (codeOf(error) === 'ELOOP') throw new ArtifactError('ERR_ARTIFACT_UNSAFE_PATH', 'artifact path is a symlink', { path, digest, cause: error });
      if (codeOf(error) === 'ENOENT') throw new ArtifactError('ERR_ARTIFACT_INTEGRITY', 'artifact is missing', { path, digest, cause: error });
      throw error;
    });
    try {
      const stats = await fs.fstat(handle);
      refuseUnsafe(stats, path, digest);
      if (size !== undefined && stats.size !== size) {
        throw new ArtifactError('ERR_ARTIFACT_INTEGRITY', `artifact has ${stats.size} bytes, expected ${size}`, { path, digest });
      }
      if (mode !== undefined && (stats.mode & PERMISSION_BITS) !== mode) {
        throw new ArtifactError('ERR_ARTIFACT_INTEGRITY', `artifact has mode ${(stats.mode & PERMISSION_BITS).toString(8)}, expected ${mode.toString(8)}`, { path, digest });
      }
      const actual = sha256(await fs.read(handle));
      if (actual !== digest) throw new ArtifactError('ERR_ARTIFACT_INTEGRITY', 'artifact bytes do not match its digest', { path, digest });
      // The fsync makes a file left by a crashed or concurrent writer as durable as our own.
      if (options.fsync === true) await fs.fsync(handle);
      return stats;
    } finally {
      await fs.close(handle);
    }
  } catch (error) {
    throw asArtifactError(error, path, digest, 'cannot read artifact');
  }
}

/** fsyncs a directory, so the entries created or removed in it survive a power loss. */
export async function fsyncDir(fs: ArtifactFs, dir: string): Promise<void> {
  const handle = await fs.open(dir, O_DIR);
  try {
    await fs.fsync(handle);
  } finally {
    await fs.close(handle);
  }
}

/** The `code` of a Node system error, if any. */
export function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const { code } = error;
  return typeof code === 'string' ? code : undefined;
}

/** `error` itself when it is an {@link ArtifactError}; otherwise `ERR_ARTIFACT_IO` wrapping it. */
export function asArtifactError(error: unknown, path: string, digest: string | undefined, what: string): ArtifactError {
  if (error instanceof ArtifactError) return error;
  const code = codeOf(error);
  return new ArtifactError('ERR_ARTIFACT_IO', `${what}${code === undefined ? '' : ` (${code})`}`, { path, digest, cause: error });
}

async function openTemp(fs: ArtifactFs, dir: string, suffix: () => string): Promise<{ handle: FileHandle; tempPath: string }> {
  for (let attempt = 1; ; attempt++) {
    const tempPath = join(dir, `${TEMP_PREFIX}${suffix()}`);
    try {
      // 0o600 until the data is complete; the final mode is applied before the link.
      return { handle: await fs.open(tempPath, O_TEMP, 0o600), tempPath };
    } catch (error) {
      // EEXIST: something (perhaps a planted symlink) holds that name. Never touch it; pick another.
      if (codeOf(error) !== 'EEXIST' || attempt >= TEMP_ATTEMPTS) throw error;
      log.artifacts('temporary name %s taken, retrying', tempPath);
    }
  }
}

function refuseUnsafe(stats: Stats, path: string, digest: string): void {
  if (stats.isSymbolicLink()) throw new ArtifactError('ERR_ARTIFACT_UNSAFE_PATH', 'artifact path is a symlink', { path, digest });
  if (!stats.isFile()) throw new ArtifactError('ERR_ARTIFACT_UNSAFE_PATH', 'artifact path is not a regular file', { path, digest });
}

async function removeQuietly(fs: ArtifactFs, path: string): Promise<void> {
  try {
    await fs.unlink(path);
  } catch (error) {
    // Already failing with the first error; open() removes what is left.
    if (codeOf(error) !== 'ENOENT') log.artifacts('cannot remove temporary file %s: %O', path, error);
  }
}

function randomSuffix(): string {
  return randomBytes(12).toString('hex');
}
