/**
 * The contract between the {@link ArtifactStore} engine and the place that holds the
 * bytes. A backend stores files by name and nothing else: it has no notion of leases,
 * roots, collections or concurrent puts, because the engine serialises everything that
 * needs it. See docs/artifacts.md, "Writing a backend".
 */

/** One file a backend holds, as {@link ArtifactBackend.list} reports it. */
export interface BackendFile {
  /** Its file name, as the engine gave it to {@link ArtifactBackend.writeIfAbsent}. */
  readonly fileName: string;
  /** Its size in bytes. */
  readonly size: number;
}

/** What the engine asks {@link ArtifactBackend.writeIfAbsent} to store. */
export interface WriteIfAbsentOptions {
  /** Permission bits the file must have (`0o600`, `0o700`, …); part of its identity. */
  readonly mode: number;
  /** SHA-256 of the bytes, lowercase hex: what an existing file must hash to. */
  readonly digest: string;
}

/** What {@link ArtifactBackend.writeIfAbsent} did. */
export interface WriteIfAbsentResult {
  /** `true` when this call stored the file; `false` when an identical one was already there. */
  readonly created: boolean;
}

/** What {@link ArtifactBackend.check} compares a stored file with. */
export interface BackendCheckOptions {
  /** SHA-256 of the bytes the file must have, lowercase hex. */
  readonly digest: string;
  /** The size in bytes the file must have. */
  readonly size: number;
}

/**
 * Where an {@link ArtifactStore} keeps its bytes: five methods, no concurrency logic.
 *
 * The engine calls a backend only with file names it has checked (`<name>-<sha256>`,
 * never starting with a dot, never containing a path separator), so a backend may keep
 * files of its own (temporary files) under names that start with a dot. The engine
 * never calls `writeIfAbsent` for a file name while it removes that file, nor starts
 * removing a file while a `writeIfAbsent` of it runs, and never removes a file a root
 * holds. It never *starts* a `check` of a file while it removes that file, but a
 * collection may start removing an unrooted file while a `check` of it runs: `check`
 * then reports the bytes it read or the file as missing, whichever it saw. Any error
 * a method throws that is not an {@link ArtifactError} reaches the caller as
 * `ERR_ARTIFACT_IO` with it as `cause`.
 *
 * @example
 * ```ts
 * const store = new ArtifactStore(myBackend, { keep: stillInUse });
 * ```
 */
export interface ArtifactBackend {
  /**
   * The path of `fileName`: the `Artifact.path` the engine hands out, which other
   * processes use. Synchronous, without I/O, and the same for the same name every time;
   * two file names never share a path.
   */
  locate(fileName: string): string;
  /**
   * Every file stored, with its size. Files of the backend's own (temporary files) may be
   * left out or listed: the engine ignores every name that is not an artifact file name,
   * and never removes what it does not list.
   * @throws anything, for a failure to list
   */
  list(): Promise<readonly BackendFile[]>;
  /**
   * Stores `bytes` under `fileName` with `options.mode`, atomically: at no moment does
   * anyone see a partial file or another mode under that name, and an existing file is
   * never replaced. When a file is already there, it is checked instead: exactly these
   * bytes and this mode is `{ created: false }`; anything else is an error and the file
   * stays as it is. Stores a private copy of `bytes` or `bytes` itself: the engine never
   * changes them.
   * @throws {ArtifactError} `ERR_ARTIFACT_INTEGRITY` (a file with other bytes or another
   *   mode is there), `ERR_ARTIFACT_UNSAFE_PATH` (something that is not a regular file,
   *   such as a symlink, is there); anything else for a failure to store
   */
  writeIfAbsent(fileName: string, bytes: Uint8Array, options: WriteIfAbsentOptions): Promise<WriteIfAbsentResult>;
  /**
   * Checks that the file stored under `fileName` has `options.size` bytes hashing to
   * `options.digest`. May run while the file is removed (see above): a file gone before
   * it could be read is missing.
   * @throws {ArtifactError} `ERR_ARTIFACT_INTEGRITY` (missing, or other bytes),
   *   `ERR_ARTIFACT_UNSAFE_PATH` (not a regular file); anything else for a failure to read
   */
  check(fileName: string, options: BackendCheckOptions): Promise<void>;
  /**
   * Removes the file stored under `fileName`. A missing file is not an error. Never
   * follows a symlink: at worst the link itself goes.
   * @throws anything, for a failure to remove
   */
  remove(fileName: string): Promise<void>;
}
