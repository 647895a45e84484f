/**
 * What an artifact is, and a declared use of one: the vocabulary the {@link ArtifactStore}
 * engine, its collector and the rest of txconfig share. No code, so every artifact file
 * can import it.
 */

/** A stored artifact. Two artifacts with the same `path` have the same bytes. */
export interface Artifact {
  /** The logical name given to `put` (e.g. `runc-debug`). */
  readonly name: string;
  /** SHA-256 of the bytes, lowercase hex. */
  readonly digest: string;
  /** Where the bytes are, as the backend locates them: an absolute file path for {@link FsArtifactStore}. The identity of an artifact. */
  readonly path: string;
  /** Size in bytes. */
  readonly size: number;
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
