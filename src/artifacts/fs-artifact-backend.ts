/**
 * The {@link ArtifactBackend} of {@link FsArtifactStore}: one flat directory of
 * `<name>-<sha256>` files, written by {@link writeAtomic}, read without following a
 * symlink, all through the one {@link FileSystem} seam.
 */
import { join } from 'node:path';

import { ArtifactError } from '../errors.js';
import type { FileSystem } from '../file-system.js';
import { log } from '../internal/debug.js';
import { errnoCode } from '../internal/errno.js';
import type { ArtifactBackend, BackendCheckOptions, BackendFile, WriteIfAbsentOptions, WriteIfAbsentResult } from './artifact-backend.js';
import { asArtifactError } from './as-artifact-error.js';
import { checkExisting, isTempFileName, writeAtomic } from './write-atomic.js';

/** Artifact files in one directory. Call {@link FsArtifactBackend.open} before anything else. */
export class FsArtifactBackend implements ArtifactBackend {
  /** The absolute path of the directory; every file this backend touches is directly in it. */
  readonly dir: string;
  /** Every file system call goes through it: the one seam faults are injected at. */
  readonly #fs: FileSystem;

  /** A backend for the absolute directory `dir`, through `fs`. Touches nothing. */
  constructor(dir: string, fs: FileSystem) {
    this.dir = dir;
    this.#fs = fs;
  }

  /**
   * Creates the directory with `mode` if it is missing, refuses one that is a symlink or
   * not a directory, and removes the temporary files a crash left behind.
   * @throws {ArtifactError} `ERR_ARTIFACT_UNSAFE_PATH`, `ERR_ARTIFACT_IO`
   */
  async open(mode: number): Promise<void> {
    try {
      await this.#ensureDirectory(mode);
      await this.#removeTempFiles();
    } catch (error) {
      throw asArtifactError(error, this.dir, undefined, 'cannot open artifact directory');
    }
  }

  /** `<dir>/<fileName>`. */
  locate(fileName: string): string {
    return join(this.dir, fileName);
  }

  /**
   * Every regular file in the directory but temporary files. Symlinks, directories and
   * other file types are left out, so they are never collected.
   * @throws {ArtifactError} `ERR_ARTIFACT_IO`
   */
  async list(): Promise<readonly BackendFile[]> {
    try {
      const files: BackendFile[] = [];
      for (const fileName of await this.#fs.readdir(this.dir)) {
        if (isTempFileName(fileName)) continue;
        const stats = await this.#fs.lstat(this.locate(fileName)).catch((error: unknown) => {
          // Removed since the readdir: not there to list.
          if (errnoCode(error) === 'ENOENT') return undefined;
          throw error;
        });
        if (stats?.isFile() === true) files.push({ fileName, size: stats.size });
      }
      return files;
    } catch (error) {
      throw asArtifactError(error, this.dir, undefined, 'cannot list artifacts');
    }
  }

  /** {@link writeAtomic}: a temporary file linked into place, or the identical file already there. */
  writeIfAbsent(fileName: string, bytes: Uint8Array, options: WriteIfAbsentOptions): Promise<WriteIfAbsentResult> {
    return writeAtomic(this.dir, fileName, bytes, { mode: options.mode, digest: options.digest, fs: this.#fs });
  }

  /** {@link checkExisting}: a regular file, opened without following a symlink, with the size and digest. */
  async check(fileName: string, options: BackendCheckOptions): Promise<void> {
    await checkExisting(this.#fs, this.locate(fileName), options.digest, { size: options.size });
  }

  /** `unlink`, which never follows a symlink; a missing file is fine. */
  async remove(fileName: string): Promise<void> {
    try {
      await this.#fs.unlink(this.locate(fileName));
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
  }

  async #ensureDirectory(mode: number): Promise<void> {
    let stats = await this.#fs.lstat(this.dir).catch((error: unknown) => {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    });
    if (stats === undefined) {
      const created = await this.#fs.mkdir(this.dir, { recursive: true, mode });
      // mkdir's mode passes through the umask; the store's directory gets exactly `mode`.
      if (created !== undefined) await this.#fs.chmod(this.dir, mode);
      stats = await this.#fs.lstat(this.dir);
      log.artifacts('created %s (mode %o)', this.dir, mode);
    }
    if (stats.isSymbolicLink()) throw new ArtifactError('ERR_ARTIFACT_UNSAFE_PATH', 'artifact directory is a symlink', { path: this.dir });
    if (!stats.isDirectory()) throw new ArtifactError('ERR_ARTIFACT_UNSAFE_PATH', 'artifact directory is not a directory', { path: this.dir });
  }

  async #removeTempFiles(): Promise<void> {
    for (const fileName of await this.#fs.readdir(this.dir)) {
      if (!isTempFileName(fileName)) continue;
      try {
        await this.#fs.unlink(this.locate(fileName));
        log.artifacts('removed leftover temporary file %s', fileName);
      } catch (error) {
        const code = errnoCode(error);
        if (code === 'ENOENT') continue;
        // A directory named like a temp file is not ours to remove.
        if (code === 'EISDIR' || code === 'EPERM') log.artifacts('left %s alone (%s)', fileName, code);
        else throw error;
      }
    }
  }
}
