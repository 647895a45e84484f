/**
 * The contract every artifact store implements. An artifact is a generated file (a
 * wrapper script, a rendered config) named by its logical name plus the SHA-256 of its
 * bytes, so a path, once handed out, always has the same content.
 */

/** A stored artifact. Two artifacts with the same `path` have the same bytes. */
export interface Artifact {
  /** The logical name given to `put` (e.g. `runc-debug`). */
  readonly name: string;
  /** SHA-256 of the bytes, lowercase hex. */
  readonly digest: string;
  /** Where the bytes are: an absolute file path for {@link FsArtifactStore}. The identity of an artifact. */
  readonly path: string;
  /** Size in bytes. */
  readonly size: number;
}

/** Options of {@link ArtifactStore.put}. */
export interface PutOptions {
  /** File mode applied before the file becomes visible. Default `0o600`. */
  readonly mode?: number;
}

/** A declared use of an artifact: a GC root until released. */
export interface ArtifactLease extends Disposable {
  /** The leased artifact. */
  readonly artifact: Artifact;
  /** Who holds it, for reports (e.g. `container c1`). */
  readonly holder: string;
  /** True once released. */
  readonly released: boolean;
  /** Ends the lease. Releasing twice does nothing. */
  release(): void;
}

/** Why an artifact is kept by a garbage collection. */
export type GcRootKind = 'live' | 'pin' | 'transaction' | 'lease' | 'keep' | 'in-flight';

/** One root holding an artifact. */
export interface GcRoot {
  /** What kind of root. */
  readonly kind: GcRootKind;
  /** Which one: `generation 4`, `container c1`, … */
  readonly detail: string;
}

/** A root held outside the artifact store (a snapshot, a pin, an open transaction). */
export interface ExternalRoot {
  /** The artifact held. */
  readonly artifact: Artifact;
  /** What holds it. */
  readonly root: GcRoot;
}

/** What happened to one artifact in a collection. */
export interface GcEntry {
  /** The artifact. */
  readonly artifact: Artifact;
  /** Every root that holds it; empty when it was (or would be) removed. */
  readonly roots: readonly GcRoot[];
  /** `kept`, `removed`, or `would-remove` in a dry run. */
  readonly action: 'kept' | 'removed' | 'would-remove';
}

/** The report of a garbage collection. */
export interface GcReport {
  /** True when nothing was deleted: `removed` lists what would have been. */
  readonly dryRun: boolean;
  /** Every artifact the store holds, each with its roots and what happened to it. */
  readonly entries: readonly GcEntry[];
  /** The artifacts removed (or, in a dry run, that would be). */
  readonly removed: readonly Artifact[];
}

/** Options of {@link ArtifactStore.collect}. */
export interface CollectOptions {
  /** Report only; delete nothing. */
  readonly dryRun?: boolean;
  /**
   * Roots held outside the store. Called again right before each deletion, so a root
   * that appears while the collection runs is honoured.
   */
  readonly roots?: () => Iterable<ExternalRoot>;
}

/**
 * A place to keep content-addressed artifacts. Implementations: {@link FsArtifactStore}
 * (real files) and {@link MemoryArtifactStore} (tests).
 */
export interface ArtifactStore {
  /**
   * Stores `content` under `name` and returns the artifact. Writing content that is
   * already stored writes nothing; the same bytes under the same name with another mode
   * is `ERR_ARTIFACT_INTEGRITY`. If a collection is deleting that path, waits for it and
   * writes the file anew.
   * @throws {ArtifactError} `ERR_ARTIFACT_NAME`, `ERR_ARTIFACT_INTEGRITY`, `ERR_ARTIFACT_IO`, `ERR_ARTIFACT_UNSAFE_PATH`
   */
  put(name: string, content: string | Uint8Array, options?: PutOptions): Promise<Artifact>;
  /**
   * Checks that the artifact's bytes still hash to its digest. Waits for a deletion or
   * a put of its path in progress, so "lease, then verify" detects a removed artifact.
   * @throws {ArtifactError} `ERR_ARTIFACT_INTEGRITY` when missing or changed,
   *   `ERR_ARTIFACT_UNSAFE_PATH` when not an artifact of this store (or a symlink or
   *   non-regular file stands at its path), `ERR_ARTIFACT_IO`
   */
  verify(artifact: Artifact): Promise<void>;
  /** Every artifact currently stored. */
  list(): Promise<readonly Artifact[]>;
  /**
   * Declares a use of `artifact` by `holder`; it is a GC root until released.
   * @throws {ArtifactError} `ERR_ARTIFACT_UNSAFE_PATH` when `artifact` is not an artifact of this store
   */
  lease(artifact: Artifact, holder: string): ArtifactLease;
  /**
   * Removes every artifact no root holds (leases, keep-list, in-flight writes, and `options.roots`).
   * @throws {ArtifactError} `ERR_ARTIFACT_IO` when listing or a removal failed (the other removals still ran)
   */
  collect(options?: CollectOptions): Promise<GcReport>;
}
