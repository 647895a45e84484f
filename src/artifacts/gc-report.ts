/**
 * The vocabulary of a garbage collection: what {@link ArtifactStore.collect} takes and
 * reports. No code, so the engine and its collector both import it.
 */
import type { Artifact } from './artifact.js';

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
