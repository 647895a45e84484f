/**
 * Atomic, durable, exclusive file writes for content-addressed files, through the one
 * {@link FileSystem} seam.
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
import { constants } from 'node:fs';
import { join } from 'node:path';

import { ArtifactError, hasErrorCode } from '../errors.js';
import { defaultFileSystem, type FileStats, type FileSystem, readUpTo, writeAll } from '../file-system.js';
import { log } from '../internal/debug.js';
import { errnoCode } from '../internal/errno.js';
import { sha256Hex } from '../internal/sha256.js';
import { asArtifactError } from './as-artifact-error.js';

/** The prefix of every temporary file {@link writeAtomic} creates. Starts with a dot, like no artifact name. */
export const TEMP_PREFIX = '.tmp-';

/** True for a file name {@link writeAtomic} uses for temporary files. */
export function isTempFileName(fileName: string): boolean {
  return fileName.startsWith(TEMP_PREFIX);
}

/** Options of {@link writeAtomic}. */
export interface WriteAtomicOptions {
  /** Permission bits of the final file. */
  readonly mode: number;
  /** SHA-256 of `bytes` (hex), already computed by the caller. */
  readonly digest: string;
  /** The file system to write through. Default {@link defaultFileSystem}. */
  readonly fs?: FileSystem;
  /** The random part of temporary file names: a seam for tests. */
  readonly tempSuffix?: () => string;
}

/** What {@link writeAtomic} did. */
export interface WriteAtomicResult {
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
export async function writeAtomic(dir: string, fileName: string, bytes: Uint8Array, options: WriteAtomicOptions): Promise<WriteAtomicResult> {
  const fs = options.fs ?? defaultFileSystem;
  const finalPath = join(dir, fileName);
  const { digest, mode } = options;
  let tempPath: string | undefined;
  try {
    const reused = await reuseIfPresent(fs, dir, finalPath, digest, bytes.byteLength, mode);
    if (reused !== null) return reused;
    let fd: number;
    ({ fd, tempPath } = await openTemp(fs, dir, options.tempSuffix ?? randomSuffix));
    try {
      await writeAll(fs, fd, bytes);
      // chmod before fsync, so the fsync covers the mode as well as the data.
      await fs.fchmod(fd, mode);
      await fs.fsync(fd);
    } finally {
      await fs.close(fd);
    }
    try {
      await fs.link(tempPath, finalPath);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error;
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
async function reuseIfPresent(fs: FileSystem, dir: string, finalPath: string, digest: string, size: number, mode: number): Promise<WriteAtomicResult | null> {
  try {
    return await reuseExisting(fs, dir, finalPath, digest, size, mode);
  } catch (error) {
    if (hasErrorCode(error, 'ERR_ARTIFACT_INTEGRITY') && errnoCode(error.cause) === 'ENOENT') return null;
    throw error;
  }
}

/** Hands out the file already at `finalPath` if it is exactly the artifact; throws as {@link checkExisting} otherwise. */
async function reuseExisting(fs: FileSystem, dir: string, finalPath: string, digest: string, size: number, mode: number): Promise<WriteAtomicResult> {
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
export async function checkExisting(fs: FileSystem, path: string, digest: string, options: CheckExistingOptions = {}): Promise<FileStats> {
  const { size, mode } = options;
  try {
    const before = await fs.lstat(path).catch((error: unknown) => {
      if (errnoCode(error) === 'ENOENT') throw new ArtifactError('ERR_ARTIFACT_INTEGRITY', 'artifact is missing', { path, digest, cause: error });
      throw error;
    });
    refuseUnsafe(before, path, digest);
    const fd = await fs.open(path, O_READ).catch((error: unknown) => {
      // ELOOP: it became a symlink after the lstat.
      if (errnoCode(error) === 'ELOOP') throw new ArtifactError('ERR_ARTIFACT_UNSAFE_PATH', 'artifact path is a symlink', { path, digest, cause: error });
      if (errnoCode(error) === 'ENOENT') throw new ArtifactError('ERR_ARTIFACT_INTEGRITY', 'artifact is missing', { path, digest, cause: error });
      throw error;
    });
    try {
      const stats = await fs.fstat(fd);
      refuseUnsafe(stats, path, digest);
      if (size !== undefined && stats.size !== size) {
        throw new ArtifactError('ERR_ARTIFACT_INTEGRITY', `artifact has ${stats.size} bytes, expected ${size}`, { path, digest });
      }
      if (mode !== undefined && (stats.mode & PERMISSION_BITS) !== mode) {
        throw new ArtifactError('ERR_ARTIFACT_INTEGRITY', `artifact has mode ${(stats.mode & PERMISSION_BITS).toString(8)}, expected ${mode.toString(8)}`, { path, digest });
      }
      // The size fstat just reported, in one read for a file of normal size: a file that
      // grew since then is no longer the one checked above either way.
      const actual = sha256Hex(await readUpTo(fs, fd, stats.size, stats.size));
      if (actual !== digest) throw new ArtifactError('ERR_ARTIFACT_INTEGRITY', 'artifact bytes do not match its digest', { path, digest });
      // The fsync makes a file left by a crashed or concurrent writer as durable as our own.
      if (options.fsync === true) await fs.fsync(fd);
      return stats;
    } finally {
      await fs.close(fd);
    }
  } catch (error) {
    throw asArtifactError(error, path, digest, 'cannot read artifact');
  }
}

/** fsyncs a directory, so the entries created or removed in it survive a power loss. */
export async function fsyncDir(fs: FileSystem, dir: string): Promise<void> {
  const fd = await fs.open(dir, O_DIR);
  try {
    await fs.fsync(fd);
  } finally {
    await fs.close(fd);
  }
}

async function openTemp(fs: FileSystem, dir: string, suffix: () => string): Promise<{ fd: number; tempPath: string }> {
  for (let attempt = 1; ; attempt++) {
    const tempPath = join(dir, `${TEMP_PREFIX}${suffix()}`);
    try {
      // 0o600 until the data is complete; the final mode is applied before the link.
      return { fd: await fs.open(tempPath, O_TEMP, 0o600), tempPath };
    } catch (error) {
      // EEXIST: something (perhaps a planted symlink) holds that name. Never touch it; pick another.
      if (errnoCode(error) !== 'EEXIST' || attempt >= TEMP_ATTEMPTS) throw error;
      log.artifacts('temporary name %s taken, retrying', tempPath);
    }
  }
}

function refuseUnsafe(stats: FileStats, path: string, digest: string): void {
  if (stats.isSymbolicLink()) throw new ArtifactError('ERR_ARTIFACT_UNSAFE_PATH', 'artifact path is a symlink', { path, digest });
  if (!stats.isFile()) throw new ArtifactError('ERR_ARTIFACT_UNSAFE_PATH', 'artifact path is not a regular file', { path, digest });
}

async function removeQuietly(fs: FileSystem, path: string): Promise<void> {
  try {
    await fs.unlink(path);
  } catch (error) {
    // Already failing with the first error; open() removes what is left.
    if (errnoCode(error) !== 'ENOENT') log.artifacts('cannot remove temporary file %s: %O', path, error);
  }
}

function randomSuffix(): string {
  return randomBytes(12).toString('hex');
}
