/**
 * The artifact store: one engine over a narrow {@link ArtifactBackend}, as unstorage is one
 * storage over many drivers. An artifact is a generated file (a wrapper script, a rendered
 * config) named by its logical name plus the SHA-256 of its bytes, so a path, once handed
 * out, always has the same content.
 *
 * The engine owns everything that needs care: names and their checks, modes, digests and
 * file names, puts in flight, the put-versus-delete protocol, leases, the keep-list and
 * garbage collection (through {@link ArtifactCollector}). A backend only stores bytes.
 */
import { ArgumentError, ArtifactError } from '../errors.js';
import { checkFunction, checkNonEmptyString, checkOptionalBoolean, checkOptionalFunction, describeValue } from '../internal/argument-checks.js';
import { log } from '../internal/debug.js';
import { sha256Hex } from '../internal/sha256.js';
import type { Artifact, ArtifactLease } from './artifact.js';
import type { ArtifactBackend, BackendFile } from './artifact-backend.js';
import { ArtifactCollector } from './artifact-collector.js';
import { artifactFileName, checkArtifactName, parseArtifactFileName } from './artifact-name.js';
import { asArtifactError } from './as-artifact-error.js';
import type { CollectOptions, GcReport } from './gc-report.js';

/** Options of {@link ArtifactStore.put}. */
export interface PutOptions {
  /** File mode applied before the file becomes visible: an integer from 0 to `0o7777`. Default `0o600`. */
  readonly mode?: number;
}

/** Options of the {@link ArtifactStore} constructor. */
export interface ArtifactStoreOptions {
  /**
   * Artifacts to keep for the life of the store, whatever else holds them: file names
   * (`runc-debug-<digest>`), paths the store hands out, or {@link Artifact}s. Use it for
   * files that processes which outlived the previous daemon still use.
   */
  readonly keep?: Iterable<string | Artifact>;
}

/** The file mode of an artifact when `put` is given none. */
const DEFAULT_FILE_MODE = 0o600;

/**
 * Content-addressed artifacts over any {@link ArtifactBackend}: names checked, bytes
 * never changed under a path once handed out, removed only when no root holds them.
 * {@link FsArtifactStore} and {@link MemoryArtifactStore} are this engine over their
 * backends; give it your own backend for anything else.
 *
 * One store per backend's storage: the leases and in-flight puts that protect files
 * from collection live in this object.
 *
 * @example
 * ```ts
 * const artifacts = new ArtifactStore(myBackend, { keep: stillInUse });
 * const a = await artifacts.put('runc-debug', script, { mode: 0o700 });
 * using lease = artifacts.lease(a, 'container c1');
 * await artifacts.collect({ dryRun: true });
 * ```
 */
export class ArtifactStore {
  /** Holds the bytes; called only with file names this engine made and checked. */
  readonly #backend: ArtifactBackend;
  /** Owns every lease and root; every put, verify and removal goes through its guards. */
  readonly #collector: ArtifactCollector;

  /**
   * The engine over `backend`. Touches no storage.
   * @throws {ArgumentError} `ERR_ARGUMENT` when `backend` lacks one of the five methods of
   *   {@link ArtifactBackend}, or `keep` is not an iterable of strings and artifacts
   * @throws {ArtifactError} `ERR_ARTIFACT_NAME` when a keep-list entry is not an artifact of this store
   */
  constructor(backend: ArtifactBackend, options: ArtifactStoreOptions = {}) {
    checkBackend(backend);
    this.#backend = backend;
    const keep = keepEntries(options.keep).map((entry) => this.#keepPath(entry));
    this.#collector = new ArtifactCollector({ list: () => this.list(), remove: (artifact) => this.#remove(artifact) }, keep);
  }

  /**
   * Stores `content` under `name` and returns the artifact. Writing content that is
   * already stored writes nothing; the same bytes under the same name with another mode
   * is `ERR_ARTIFACT_INTEGRITY`. If a collection is deleting that path, waits for it and
   * writes the file anew.
   * @throws {ArgumentError} `ERR_ARGUMENT` (content neither a string nor a `Uint8Array`, or an invalid mode)
   * @throws {ArtifactError} `ERR_ARTIFACT_NAME`, `ERR_ARTIFACT_INTEGRITY` (a file with other
   *   bytes or another mode is at the path), `ERR_ARTIFACT_UNSAFE_PATH` (a symlink or
   *   non-regular file is at the path), `ERR_ARTIFACT_IO`
   */
  async put(name: string, content: string | Uint8Array, options: PutOptions = {}): Promise<Artifact> {
    checkArtifactName(name);
    const mode = checkMode(options.mode ?? DEFAULT_FILE_MODE);
    const bytes = contentBytes(content);
    const digest = sha256Hex(bytes);
    const fileName = artifactFileName(name, digest);
    const path = this.#backend.locate(fileName);
    // Synchronous from the call to beginPut: a collection either sees the put or has marked its deletion.
    const endPut = this.#collector.beginPut(path);
    try {
      await this.#collector.deletionSettled(path);
      await this.#backend.writeIfAbsent(fileName, bytes, { mode, digest });
    } catch (error) {
      throw asArtifactError(error, path, digest, 'cannot write artifact');
    } finally {
      endPut();
    }
    return freezeArtifact(name, digest, path, bytes.byteLength);
  }

  /**
   * Checks that the artifact's bytes still hash to its digest. Waits for a deletion or
   * a put of its path in progress, so "lease, then verify" detects a removed artifact.
   * A verify does not root the artifact: without a lease, a collection may remove it
   * while it is checked, and verify then reports what it read or that the file is missing.
   * @throws {ArtifactError} `ERR_ARTIFACT_INTEGRITY` when missing or changed,
   *   `ERR_ARTIFACT_UNSAFE_PATH` when not an artifact of this store (or a symlink or
   *   non-regular file stands at its path), `ERR_ARTIFACT_IO`
   */
  async verify(artifact: Artifact): Promise<void> {
    const fileName = this.#ownFileName(artifact);
    // settled() resolves a turn after it looked, and a collection may mark the path in that
    // turn: look again in the turn that starts the check, as ArtifactBackend promises.
    do {
      await this.#collector.settled(artifact.path);
    } while (this.#collector.isDeleting(artifact.path));
    try {
      await this.#backend.check(fileName, { digest: artifact.digest, size: artifact.size });
    } catch (error) {
      throw asArtifactError(error, artifact.path, artifact.digest, 'cannot read artifact');
    }
  }

  /**
   * Every artifact stored, sorted by path. Files whose names are not
   * `<valid name>-<64 hex>` are ignored (and never collected). Contents are not read:
   * use {@link ArtifactStore.verify}.
   * @throws {ArtifactError} `ERR_ARTIFACT_IO`
   */
  async list(): Promise<readonly Artifact[]> {
    let files: readonly BackendFile[];
    try {
      files = await this.#backend.list();
    } catch (error) {
      throw asArtifactError(error, undefined, undefined, 'cannot list artifacts');
    }
    const artifacts: Artifact[] = [];
    for (const { fileName, size } of files) {
      const parsed = parseArtifactFileName(fileName);
      if (parsed !== undefined) artifacts.push(freezeArtifact(parsed.name, parsed.digest, this.#backend.locate(fileName), size));
    }
    return artifacts.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /**
   * Declares a use of `artifact` by `holder`: a GC root from this call until released.
   * A lease on an artifact a collection already removed still holds its path; detect it
   * with {@link ArtifactStore.verify} and `put` the content again to recreate it.
   * @throws {ArtifactError} `ERR_ARTIFACT_UNSAFE_PATH` when `artifact` is not an artifact of this store
   * @throws {ArgumentError} `ERR_ARGUMENT` when `holder` is not a non-empty string
   */
  lease(artifact: Artifact, holder: string): ArtifactLease {
    checkNonEmptyString('holder', holder);
    this.#ownFileName(artifact);
    return this.#collector.lease(artifact, holder);
  }

  /**
   * Removes every artifact that no root holds: leases, the keep-list, puts in flight,
   * and `options.roots()`, which is called again right before each deletion.
   * @throws {ArtifactError} `ERR_ARTIFACT_IO` (listing failed, or some removals failed; the others ran)
   * @throws whatever `options.roots` throws, before any further deletion
   * @throws {ArgumentError} `ERR_ARGUMENT` when `dryRun` is not a boolean or `roots` not a function
   */
  async collect(options: CollectOptions = {}): Promise<GcReport> {
    checkOptionalBoolean('dryRun', options.dryRun);
    checkOptionalFunction('roots', options.roots);
    return this.#collector.collect(options);
  }

  async #remove(artifact: Artifact): Promise<void> {
    try {
      await this.#backend.remove(artifactFileName(artifact.name, artifact.digest));
    } catch (error) {
      throw asArtifactError(error, artifact.path, artifact.digest, 'cannot remove artifact');
    }
    log.artifacts('removed %s', artifact.path);
  }

  /** The artifact's file name, after checking that its path is the one this store gives its name and digest. */
  #ownFileName(artifact: Artifact): string {
    let fileName: string;
    try {
      fileName = artifactFileName(artifact.name, artifact.digest);
    } catch (error) {
      // A refused name or a malformed digest: no store hands out such an artifact.
      throw notOwnArtifact(artifact, error);
    }
    if (this.#backend.locate(fileName) !== artifact.path) throw notOwnArtifact(artifact);
    return fileName;
  }

  /**
   * The path a keep-list entry names: an artifact file name, a path this store hands
   * out, or an artifact of this store. A string that is none of these is refused as a
   * name rather than ignored: a typo must not turn into a deletion.
   */
  #keepPath(entry: string | Artifact): string {
    const given = typeof entry === 'string' ? entry : entry.path;
    const fileName = this.#locatedFileName(given) ?? (parseArtifactFileName(given) === undefined ? undefined : given);
    if (fileName === undefined) throw new ArtifactError('ERR_ARTIFACT_NAME', 'keep-list entry is not an artifact of this store', { path: given });
    return this.#backend.locate(fileName);
  }

  /** The artifact file name the backend locates at `path`, if any. `locate` has no inverse, so each suffix is tried. */
  #locatedFileName(path: string): string | undefined {
    for (let cut = 0; cut < path.length; cut++) {
      const fileName = path.slice(cut);
      if (parseArtifactFileName(fileName) !== undefined && this.#backend.locate(fileName) === path) return fileName;
    }
    return undefined;
  }
}

/** `ERR_ARTIFACT_UNSAFE_PATH` for an artifact this store did not hand out (or one forged to look like it). */
function notOwnArtifact(artifact: Artifact, cause?: unknown): ArtifactError {
  return new ArtifactError('ERR_ARTIFACT_UNSAFE_PATH', 'not an artifact of this store', { path: artifact.path, digest: artifact.digest, cause });
}

/** A frozen artifact record with exactly the contract's fields. */
function freezeArtifact(name: string, digest: string, path: string, size: number): Artifact {
  return Object.freeze({ name, digest, path, size });
}

/** The bytes of `content`, always a private copy, so a caller changing its array later cannot change what is stored. */
function contentBytes(content: unknown): Buffer {
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  if (content instanceof Uint8Array) return Buffer.from(content);
  throw new ArgumentError('content', `must be a string or a Uint8Array, got ${describeValue(content)}`);
}

/** `mode` when it is a valid permission mode (an integer from 0 to 0o7777). */
function checkMode(mode: unknown): number {
  if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new ArgumentError('mode', `must be an integer from 0 to 0o7777, got ${describeValue(mode)}`);
  }
  return mode;
}

/** The keep-list as an array, after checking each entry is at least a string or an artifact-shaped object. */
function keepEntries(keep: unknown): (string | Artifact)[] {
  if (keep === undefined) return [];
  if (typeof keep !== 'object' || keep === null || !(Symbol.iterator in keep)) {
    throw new ArgumentError('keep', `must be an iterable of file names, paths or artifacts, got ${describeValue(keep)}`);
  }
  const entries = [...(keep as Iterable<unknown>)];
  for (const entry of entries) {
    const isArtifact = typeof entry === 'object' && entry !== null && typeof (entry as { path?: unknown }).path === 'string';
    if (typeof entry !== 'string' && !isArtifact) {
      throw new ArgumentError('keep', `entries must be file names, paths or artifacts, got ${describeValue(entry)}`);
    }
  }
  return entries as (string | Artifact)[];
}

/**
 * Checks that `backend` has the five methods of the contract.
 * @throws {ArgumentError} `ERR_ARGUMENT` naming the missing one
 */
function checkBackend(backend: unknown): asserts backend is ArtifactBackend {
  if (typeof backend !== 'object' || backend === null) throw new ArgumentError('backend', `must be an ArtifactBackend, got ${describeValue(backend)}`);
  const methods = backend as Partial<Record<keyof ArtifactBackend, unknown>>;
  for (const method of ['locate', 'list', 'writeIfAbsent', 'check', 'remove'] as const) checkFunction(`backend.${method}`, methods[method]);
}
