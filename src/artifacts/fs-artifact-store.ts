/**
 * The artifact store on disk: the {@link ArtifactStore} engine over one flat directory of
 * `<name>-<sha256>` files. See docs/artifacts.md for the durability, symlink and
 * collection guarantees.
 */
import { resolve } from 'node:path';

import { type FileSystem, resolveFileSystem } from '../file-system.js';
import { checkNonEmptyString } from '../internal/argument-checks.js';
import { log } from '../internal/debug.js';
import type { Artifact } from './artifact.js';
import { ArtifactStore } from './artifact-store.js';
import { FsArtifactBackend } from './fs-artifact-backend.js';

/** Options of {@link FsArtifactStore.open}. */
export interface FsArtifactStoreOptions {
  /**
   * Artifacts to keep for the life of this store, whatever else holds them: file names
   * (`runc-debug-<digest>`), paths inside the directory (a relative path with a `/` is
   * taken from the working directory), or {@link Artifact}s. Use it for files that
   * processes which outlived the previous daemon still use.
   */
  readonly keep?: Iterable<string | Artifact>;
  /**
   * Restart clean-up: remove, during `open()`, every artifact not on the keep-list
   * (left by an earlier process). Default `false`.
   */
  readonly removeUnkept?: boolean;
  /** Mode of the directory when `open()` creates it. Default `0o700`. An existing directory is left as it is. */
  readonly mode?: number;
  /** File system functions to use instead of the defaults: the seam for tests and fault injection. */
  readonly fs?: Partial<FileSystem>;
}

/**
 * Content-addressed artifacts in a directory: atomic, durable, never overwritten,
 * garbage collected only when no root holds them.
 *
 * One store per directory: the leases and in-flight writes that protect files from
 * collection live in this object, not on disk.
 */
export class FsArtifactStore extends ArtifactStore {
  /** The absolute path of the directory. */
  readonly dir: string;

  private constructor(backend: FsArtifactBackend, keep: FsArtifactStoreOptions['keep']) {
    super(backend, keep === undefined ? {} : { keep });
    this.dir = backend.dir;
  }

  /**
   * Opens (creating it if missing) the artifact directory `dir`, removes temporary files
   * a crash left behind and, with `removeUnkept`, every artifact not on the keep-list.
   *
   * `dir` itself must not be a symlink: pass the real path if you mean it.
   * @throws {ArgumentError} `ERR_ARGUMENT` (a keep-list entry is neither a string nor an artifact)
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
    checkNonEmptyString('dir', dir);
    const backend = new FsArtifactBackend(resolve(dir), resolveFileSystem(options.fs));
    // The engine checks the keep-list, before anything touches the disk.
    const store = new FsArtifactStore(backend, fromWorkingDirectory(options.keep));
    await backend.open(options.mode ?? 0o700);
    if (options.removeUnkept === true) {
      const report = await store.collect();
      log.artifacts('open %s: removed %d unkept artifacts', backend.dir, report.removed.length);
    }
    return store;
  }
}

/** The keep-list with relative paths taken from the working directory, as everywhere else in Node. */
function fromWorkingDirectory(keep: FsArtifactStoreOptions['keep']): FsArtifactStoreOptions['keep'] {
  // Not an iterable at all (null too, whatever the type says): left for the engine to refuse as a bad argument.
  const given: unknown = keep;
  if (typeof given !== 'object' || given === null || !(Symbol.iterator in given)) return keep;
  // As typed, or not: an entry of another type is the engine's to refuse, unchanged.
  return [...(given as Iterable<string | Artifact>)].map((entry) => (typeof entry === 'string' && entry.includes('/') ? resolve(entry) : entry));
}
