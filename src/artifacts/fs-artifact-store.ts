/**
 * The artifact store on disk: one flat directory of `<name>-<sha256>` files.
 * See docs/artifacts.md for the durability, symlink and collection guarantees.
 */
import { basename, dirname, join, resolve } from 'node:path';

import { ArtifactError } from '../errors.js';
import { log } from '../internal/debug.js';
import type { Artifact, ArtifactLease, ArtifactStore, CollectOptions, GcReport, PutOptions } from './artifact-store.js';
import { type ArtifactFs, asArtifactError, checkExisting, codeOf, resolveArtifactFs, writeAtomic } from './atomic-write.js';
import {
  artifactFileName,
  checkArtifactName,
  checkMode,
  contentBytes,
  DEFAULT_FILE_MODE,
  freezeArtifact,
  isTempFileName,
  parseArtifactFileName,
  sha256,
} from './content-name.js';
import { ArtifactCollector } from './gc.js';

/** Options of {@link FsArtifactStore.open}. */
export interface FsArtifactStoreOptions {
  /**
   * Artifacts to keep for the life of this store, whatever else holds them: file names
   * (`runc-debug-<digest>`), paths inside the directory, or {@link Artifact}s. Use it for
   * files that processes which outlived the previous daemon still use.
   */
  readonly keep?: Iterable<string | Artifact>;
  /**
   * Restart clean-up: remove, during `open()`, every artifact not on the keep-list
   * (left by an earlier process). Default `false`.
   */
  readonly removeUnkept?: boolean;
  /** Mode of the directory when `open()` creates it. Default `0o700`. An existing directory is left as it is. */
  readonly mode?: number;
  /** File system functions to use instead of Node's: a seam for tests and fault injection. */
  readonly fs?: Partial<ArtifactFs>;
}

/**
 * Content-addressed artifacts in a directory: atomic, durable, never overwritten,
 * garbage collected only when no root holds them.
 *
 * One store per directory: the leases and in-flight writes that protect files from
 * collection live in this object, not on disk.
 */
export class FsArtifactStore implements ArtifactStore {
  /** The absolute path of the directory. */
  readonly dir: string;
  readonly #fs: ArtifactFs;
  /** Owns every lease and root; every put, verify and removal goes through its guards. */
  readonly #collector: ArtifactCollector;

  private constructor(dir: string, fs: ArtifactFs, keep: Iterable<string>) {
    this.dir = dir;
    this.#fs = fs;
    this.#collector = new ArtifactCollector({ list: () => this.list(), remove: (artifact) => this.#remove(artifact) }, keep);
  }

  /**
   * Opens (creating it if missing) the artifact directory `dir`, removes temporary files
   * a crash left behind and, with `removeUnkept`, every artifact not on the keep-list.
   *
   * `dir` itself must not be a symlink: pass the real path if you mean it.
   * @throws {ArtifactError} `ERR_ARTIFACT_UNSAFE_PATH` (`dir` is a symlink or not a
   *   directory), `ERR_ARTIFACT_NAME` (a keep-list entry is not an artifact of `dir`),
   *   `ERR_ARTIFACT_IO`
   * @example
   * ```ts
   * const artifacts = await FsArtifactStore.open('/var/lib/mydaemon/wrappers', {
   *   keep: stillRunning.map((c) => c.wrapperPath),   // from containers that outlived us
   *   removeUnkept: true,
   * });
   * const a = await artifacts.put('runc-debug', script, { mode: 0o700 });
   * using lease = artifacts.lease(a, 'container c1');
   * ```
   */
  static async open(dir: string, options: FsArtifactStoreOptions = {}): Promise<FsArtifactStore> {
    const fs = resolveArtifactFs(options.fs);
    const root = resolve(dir);
    const mode = options.mode ?? 0o700;
    const keep = [...(options.keep ?? [])].map((entry) => resolveKeep(root, entry));
    try {
      await ensureDirectory(fs, root, mode);
      await removeTempFiles(fs, root);
    } catch (error) {
      throw asArtifactError(error, root, undefined, 'cannot open artifact directory');
    }
    const store = new FsArtifactStore(root, fs, keep);
    if (options.removeUnkept === true) {
      const report = await store.collect();
      log.artifacts('open %s: removed %d unkept artifacts', root, report.removed.length);
    }
    return store;
  }

  /**
   * Writes `content` as `<name>-<sha256>` and returns the artifact. Identical content
   * already stored is reused: nothing is written, the inode and mtime stay.
   * @throws {ArtifactError} `ERR_ARTIFACT_NAME`, `ERR_ARTIFACT_INTEGRITY` (a file with other
   *   bytes or another mode is at the path), `ERR_ARTIFACT_UNSAFE_PATH` (a symlink or
   *   non-regular file is at the path), `ERR_ARTIFACT_IO`
   */
  async put(name: string, content: string | Uint8Array, options: PutOptions = {}): Promise<Artifact> {
    checkArtifactName(name);
    const mode = checkMode(options.mode ?? DEFAULT_FILE_MODE);
    const bytes = contentBytes(content);
    const digest = sha256(bytes);
    const fileName = artifactFileName(name, digest);
    const path = join(this.dir, fileName);
    // Synchronous from here to beginPut: a collection either sees the put or has marked its deletion.
    const endPut = this.#collector.beginPut(path);
    try {
      await this.#collector.deletionSettled(path);
      await writeAtomic(this.dir, fileName, bytes, { mode, digest, fs: this.#fs });
    } finally {
      endPut();
    }
    return freezeArtifact({ name, digest, path, size: bytes.byteLength });
  }

  /**
   * Checks that the artifact's file is a regular file with its bytes. Waits for a
   * collection that is deleting it, so "lease, then verify" detects a removed artifact.
   * @throws {ArtifactError} `ERR_ARTIFACT_INTEGRITY` (missing or changed),
   *   `ERR_ARTIFACT_UNSAFE_PATH` (a symlink, a non-regular file, or not an artifact of this store),
   *   `ERR_ARTIFACT_IO`
   */
  async verify(artifact: Artifact): Promise<void> {
    const path = this.#ownPath(artifact);
    await this.#collector.settled(path);
    await checkExisting(this.#fs, path, artifact.digest, { size: artifact.size });
  }

  /**
   * Every artifact in the directory, sorted by path. Temporary files, symlinks,
   * directories and files whose names are not `<valid name>-<64 hex>` are ignored (and
   * never collected). Contents are not read: use {@link FsArtifactStore.verify}.
   * @throws {ArtifactError} `ERR_ARTIFACT_IO`
   */
  async list(): Promise<readonly Artifact[]> {
    try {
      const artifacts: Artifact[] = [];
      for (const fileName of (await this.#fs.readdir(this.dir)).sort()) {
        const parsed = parseArtifactFileName(fileName);
        if (parsed === undefined) continue;
        const path = join(this.dir, fileName);
        const stats = await this.#fs.lstat(path).catch((error: unknown) => {
          if (codeOf(error) === 'ENOENT') return undefined;
          throw error;
        });
        if (stats?.isFile() !== true) continue;
        artifacts.push(freezeArtifact({ ...parsed, path, size: stats.size }));
      }
      return artifacts;
    } catch (error) {
      throw asArtifactError(error, this.dir, undefined, 'cannot list artifacts');
    }
  }

  /**
   * Declares a use of `artifact` by `holder`: a GC root from this call until released.
   * A lease on an artifact a collection already removed still holds its path; detect it
   * with {@link FsArtifactStore.verify} and `put` the content again to recreate it.
   * @throws {ArtifactError} `ERR_ARTIFACT_UNSAFE_PATH` when `artifact` is not an artifact of this store
   */
  lease(artifact: Artifact, holder: string): ArtifactLease {
    this.#ownPath(artifact);
    return this.#collector.lease(artifact, holder);
  }

  /**
   * Removes every artifact that no root holds: leases, the keep-list, puts in flight,
   * and `options.roots()`, which is called again right before each deletion.
   * @throws {ArtifactError} `ERR_ARTIFACT_IO` (listing failed, or some removals failed; the others ran)
   */
  collect(options: CollectOptions = {}): Promise<GcReport> {
    return this.#collector.collect(options);
  }

  async #remove(artifact: Artifact): Promise<void> {
    try {
      // unlink never follows a symlink: at worst it removes the link itself.
      await this.#fs.unlink(artifact.path);
      log.artifacts('removed %s', artifact.path);
    } catch (error) {
      if (codeOf(error) !== 'ENOENT') throw asArtifactError(error, artifact.path, artifact.digest, 'cannot remove artifact');
    }
  }

  /** The artifact's path, after checking it is the path this store gives its name and digest. */
  #ownPath(artifact: Artifact): string {
    const parsed = parseArtifactFileName(`${artifact.name}-${artifact.digest}`);
    const path = parsed === undefined ? undefined : join(this.dir, artifactFileName(parsed.name, parsed.digest));
    if (path === undefined || path !== artifact.path) {
      throw new ArtifactError('ERR_ARTIFACT_UNSAFE_PATH', 'not an artifact of this store', { path: artifact.path, digest: artifact.digest });
    }
    return path;
  }
}

function resolveKeep(root: string, entry: string | Artifact): string {
  const given = typeof entry === 'string' ? entry : entry.path;
  const path = given.includes('/') ? resolve(given) : join(root, given);
  if (dirname(path) !== root || parseArtifactFileName(basename(path)) === undefined) {
    throw new ArtifactError('ERR_ARTIFACT_NAME', 'keep-list entry is not an artifact of this directory', { path: given });
  }
  return path;
}

async function ensureDirectory(fs: ArtifactFs, root: string, mode: number): Promise<void> {
  let stats = await fs.lstat(root).catch((error: unknown) => {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw error;
  });
  if (stats === undefined) {
    const created = await fs.mkdir(root, { recursive: true, mode });
    // mkdir's mode passes through the umask; the store's directory gets exactly `mode`.
    if (created !== undefined) await fs.chmod(root, mode);
    stats = await fs.lstat(root);
    log.artifacts('created %s (mode %o)', root, mode);
  }
  if (stats.isSymbolicLink()) throw new ArtifactError('ERR_ARTIFACT_UNSAFE_PATH', 'artifact directory is a symlink', { path: root });
  if (!stats.isDirectory()) throw new ArtifactError('ERR_ARTIFACT_UNSAFE_PATH', 'artifact directory is not a directory', { path: root });
}

async function removeTempFiles(fs: ArtifactFs, root: string): Promise<void> {
  for (const fileName of await fs.readdir(root)) {
    if (!isTempFileName(fileName)) continue;
    try {
      await fs.unlink(join(root, fileName));
      log.artifacts('removed leftover temporary file %s', fileName);
    } catch (error) {
      const code = codeOf(error);
      if (code === 'ENOENT') continue;
      // A directory named like a temp file is not ours to remove.
      if (code === 'EISDIR' || code === 'EPERM') log.artifacts('left %s alone (%s)', fileName, code);
      else throw error;
    }
  }
}
