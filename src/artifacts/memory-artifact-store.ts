/**
 * An {@link ArtifactStore} in memory, for tests of code that writes artifacts. Same
 * names, digests, reuse, leases and collection as `FsArtifactStore`; no files.
 */
import { ArtifactError } from '../errors.js';
import type { Artifact, ArtifactLease, ArtifactStore, CollectOptions, GcReport, PutOptions } from './artifact-store.js';
import {
  artifactFileName,
  checkArtifactName,
  checkMode,
  contentBytes,
  DEFAULT_FILE_MODE,
  freezeArtifact,
  parseArtifactFileName,
  sha256,
} from './content-name.js';
import { ArtifactCollector } from './gc.js';

/** The prefix of every {@link MemoryArtifactStore} path: `memory:<name>-<sha256>`. */
export const MEMORY_PATH_PREFIX = 'memory:';

/** Options of the {@link MemoryArtifactStore} constructor. */
export interface MemoryArtifactStoreOptions {
  /** Artifacts to keep for the life of the store: file names, `memory:` paths, or artifacts. */
  readonly keep?: Iterable<string | Artifact>;
}

/** What {@link MemoryArtifactStore.inspect} shows of a stored artifact. */
export interface MemoryArtifactFile {
  /** A copy of the stored bytes. */
  readonly bytes: Uint8Array;
  /** The mode given to `put`. */
  readonly mode: number;
}

interface StoredFile {
  readonly name: string;
  readonly digest: string;
  bytes: Uint8Array;
  readonly mode: number;
}

/**
 * Content-addressed artifacts in memory, paths `memory:<name>-<sha256>`: for tests.
 *
 * @example
 * ```ts
 * const artifacts = new MemoryArtifactStore();
 * const a = await artifacts.put('runc-debug', '#!/bin/sh\n', { mode: 0o700 });
 * new TextDecoder().decode(artifacts.inspect(a)?.bytes); // '#!/bin/sh\n'
 * ```
 */
export class MemoryArtifactStore implements ArtifactStore {
  /** Files by path; an entry's bytes hash to its digest unless `tamper` changed them. */
  readonly #files = new Map<string, StoredFile>();
  /** Owns every lease and root; every put, verify and removal goes through its guards. */
  readonly #collector: ArtifactCollector;

  /** @throws {ArtifactError} `ERR_ARTIFACT_NAME` when a keep-list entry is not an artifact path */
  constructor(options: MemoryArtifactStoreOptions = {}) {
    const keep = [...(options.keep ?? [])].map(resolveKeep);
    this.#collector = new ArtifactCollector({ list: () => this.list(), remove: (artifact) => this.#remove(artifact) }, keep);
  }

  /**
   * Stores `content` under `name`; identical content already stored is reused.
   * @throws {ArtifactError} `ERR_ARTIFACT_NAME`, `ERR_ARTIFACT_INTEGRITY` (other bytes or another mode at the path)
   */
  async put(name: string, content: string | Uint8Array, options: PutOptions = {}): Promise<Artifact> {
    checkArtifactName(name);
    const mode = checkMode(options.mode ?? DEFAULT_FILE_MODE);
    const bytes = contentBytes(content);
    const digest = sha256(bytes);
    const path = MEMORY_PATH_PREFIX + artifactFileName(name, digest);
    const endPut = this.#collector.beginPut(path);
    try {
      await this.#collector.deletionSettled(path);
      const existing = this.#files.get(path);
      if (existing === undefined) this.#files.set(path, { name, digest, bytes, mode });
      else {
        checkBytes(existing, path, bytes.byteLength);
        if (existing.mode !== mode) throw new ArtifactError('ERR_ARTIFACT_INTEGRITY', 'artifact exists with another mode', { path, digest });
      }
    } finally {
      endPut();
    }
    return freezeArtifact({ name, digest, path, size: bytes.byteLength });
  }

  /**
   * Checks that the artifact is stored with its bytes; waits for a deletion in progress.
   * @throws {ArtifactError} `ERR_ARTIFACT_INTEGRITY` (missing or changed), `ERR_ARTIFACT_UNSAFE_PATH` (not an artifact of this store)
   */
  async verify(artifact: Artifact): Promise<void> {
    const path = ownPath(artifact);
    await this.#collector.settled(path);
    const file = this.#files.get(path);
    if (file === undefined) throw new ArtifactError('ERR_ARTIFACT_INTEGRITY', 'artifact is missing', { path, digest: artifact.digest });
    checkBytes(file, path, artifact.size);
  }

  /** Every stored artifact, sorted by path. */
  list(): Promise<readonly Artifact[]> {
    const artifacts = [...this.#files]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([path, { name, digest, bytes }]) => freezeArtifact({ name, digest, path, size: bytes.byteLength }));
    return Promise.resolve(artifacts);
  }

  /**
   * Declares a use of `artifact` by `holder`: a GC root until released.
   * @throws {ArtifactError} `ERR_ARTIFACT_UNSAFE_PATH` when `artifact` is not an artifact of this store
   */
  lease(artifact: Artifact, holder: string): ArtifactLease {
    ownPath(artifact);
    return this.#collector.lease(artifact, holder);
  }

  /**
   * Removes every artifact that no root holds (see {@link ArtifactStore.collect}).
   * @throws whatever `options.roots` throws
   */
  collect(options: CollectOptions = {}): Promise<GcReport> {
    return this.#collector.collect(options);
  }

  /** Test helper: the stored bytes (a copy) and mode at `artifact.path`, or `undefined` when nothing is stored there. */
  inspect(artifact: Artifact | string): MemoryArtifactFile | undefined {
    const file = this.#files.get(typeof artifact === 'string' ? artifact : artifact.path);
    return file === undefined ? undefined : { bytes: Uint8Array.from(file.bytes), mode: file.mode };
  }

  /**
   * Test seam: replaces the bytes stored at `path` (simulating a file changed on disk),
   * or removes the entry when `bytes` is `undefined`. `verify` and `put` then report
   * `ERR_ARTIFACT_INTEGRITY`, as the file store does.
   * @throws {ArtifactError} `ERR_ARTIFACT_INTEGRITY` when nothing is stored at `path`
   */
  tamper(artifact: Artifact | string, bytes: string | Uint8Array | undefined): void {
    const path = typeof artifact === 'string' ? artifact : artifact.path;
    const file = this.#files.get(path);
    if (file === undefined) throw new ArtifactError('ERR_ARTIFACT_INTEGRITY', 'nothing stored to tamper with', { path });
    if (bytes === undefined) this.#files.delete(path);
    else file.bytes = contentBytes(bytes);
  }

  #remove(artifact: Artifact): Promise<void> {
    this.#files.delete(artifact.path);
    return Promise.resolve();
  }
}

function checkBytes(file: StoredFile, path: string, size: number): void {
  if (file.bytes.byteLength !== size || sha256(file.bytes) !== file.digest) {
    throw new ArtifactError('ERR_ARTIFACT_INTEGRITY', 'artifact bytes do not match its digest', { path, digest: file.digest });
  }
}

function ownPath(artifact: Artifact): string {
  const parsed = parseArtifactFileName(`${artifact.name}-${artifact.digest}`);
  const path = parsed === undefined ? undefined : MEMORY_PATH_PREFIX + artifactFileName(parsed.name, parsed.digest);
  if (path === undefined || path !== artifact.path) {
    throw new ArtifactError('ERR_ARTIFACT_UNSAFE_PATH', 'not an artifact of this store', { path: artifact.path, digest: artifact.digest });
  }
  return path;
}

function resolveKeep(entry: string | Artifact): string {
  const given = typeof entry === 'string' ? entry : entry.path;
  const fileName = given.startsWith(MEMORY_PATH_PREFIX) ? given.slice(MEMORY_PATH_PREFIX.length) : given;
  if (parseArtifactFileName(fileName) === undefined) {
    throw new ArtifactError('ERR_ARTIFACT_NAME', 'keep-list entry is not an artifact path', { path: given });
  }
  return MEMORY_PATH_PREFIX + fileName;
}
