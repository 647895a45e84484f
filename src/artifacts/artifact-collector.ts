/**
 * Leases, roots and garbage collection: the part of the {@link ArtifactStore} engine that
 * wins the race between puts and deletions, whatever the backend.
 *
 * The race this file exists to win: a collection decides to delete X; before the
 * deletion completes, a `put` of the same content would find X, reuse it, and hand the
 * path to someone who leases it, and the file disappears under them. So:
 * - the final root check, the decision to delete and the "being deleted" mark happen
 *   synchronously, in one turn of the event loop;
 * - a `put` marks its path in flight synchronously when it starts, and waits for a
 *   deletion of that path to finish before writing the file anew;
 * - a `put` in flight at any moment of a collection roots its path for the rest of
 *   that collection, so what a concurrent writer just wrote is never deleted;
 * - `verify` waits for a deletion and for puts of the path in progress, so "lease, then
 *   verify" is a safe check.
 */
import { ArtifactError } from '../errors.js';
import { log } from '../internal/debug.js';
import type { Artifact, ArtifactLease } from './artifact.js';
import type { CollectOptions, ExternalRoot, GcEntry, GcReport, GcRoot } from './gc-report.js';

/** What the engine lets the collector do with its artifacts. */
export interface CollectorBackend {
  /** Every artifact stored. */
  list(): Promise<readonly Artifact[]>;
  /** Removes one artifact; a missing one is not an error. */
  remove(artifact: Artifact): Promise<void>;
}

const KEEP_ROOT: GcRoot = Object.freeze({ kind: 'keep', detail: 'keep-list' });
const IN_FLIGHT_ROOT: GcRoot = Object.freeze({ kind: 'in-flight', detail: 'put in progress' });
const PUT_DURING_ROOT: GcRoot = Object.freeze({ kind: 'in-flight', detail: 'put during collection' });

/** Lease and root bookkeeping plus the collection algorithm, keyed by `Artifact.path`. */
export class ArtifactCollector {
  readonly #backend: CollectorBackend;
  /** Paths on the keep-list: roots for the life of the store. */
  readonly #keep: ReadonlySet<string>;
  /** Live leases by path; a path with no live lease has no entry. */
  readonly #leases = new Map<string, Set<Lease>>();
  /** Puts in progress by path (count > 0); `done` resolves when the count drops to 0 and the entry goes. */
  readonly #inFlight = new Map<string, { count: number; done: Promise<void>; resolve: () => void }>();
  /** Deletions in progress by path; each promise never rejects and removes its own entry when done. */
  readonly #deleting = new Map<string, Promise<void>>();
  /** One set per running collection: every path with a put in flight at any moment since it started. */
  readonly #touched = new Set<Set<string>>();
  /** The last collection queued; collections run one at a time. */
  #queue: Promise<unknown> = Promise.resolve();

  /** A collector over `backend`, rooting the paths in `keep` for its whole life. */
  constructor(backend: CollectorBackend, keep: Iterable<string> = []) {
    this.#backend = backend;
    this.#keep = new Set(keep);
  }

  /**
   * Marks a put of `path` in flight. Call synchronously, before any await of the put;
   * call the returned function when the put is over (success or failure).
   */
  beginPut(path: string): () => void {
    const entry = this.#inFlight.get(path);
    if (entry === undefined) {
      let resolve = (): void => undefined;
      const done = new Promise<void>((settle) => (resolve = settle));
      this.#inFlight.set(path, { count: 1, done, resolve });
    } else entry.count++;
    for (const touched of this.#touched) touched.add(path);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const current = this.#inFlight.get(path);
      if (current === undefined || --current.count > 0) return;
      this.#inFlight.delete(path);
      current.resolve();
    };
  }

  /** Resolves once no deletion of `path` is in progress. A put waits for this before writing. */
  async deletionSettled(path: string): Promise<void> {
    for (let deletion = this.#deleting.get(path); deletion !== undefined; deletion = this.#deleting.get(path)) {
      await deletion;
    }
  }

  /**
   * Resolves once no deletion and no put of `path` is in progress, so a check that
   * follows sees the file as those left it. `verify` waits for this.
   */
  async settled(path: string): Promise<void> {
    for (;;) {
      const pending = this.#deleting.get(path) ?? this.#inFlight.get(path)?.done;
      if (pending === undefined) return;
      await pending;
    }
  }

  /** True while a collection is deleting `path`. */
  isDeleting(path: string): boolean {
    return this.#deleting.has(path);
  }

  /** Declares a use of `artifact` by `holder`: a root from this call on, until released. */
  lease(artifact: Artifact, holder: string): ArtifactLease {
    const lease = new Lease(artifact, holder, (released) => {
      const held = this.#leases.get(artifact.path);
      held?.delete(released);
      if (held?.size === 0) this.#leases.delete(artifact.path);
    });
    const held = this.#leases.get(artifact.path);
    if (held === undefined) this.#leases.set(artifact.path, new Set([lease]));
    else held.add(lease);
    if (this.#deleting.has(artifact.path)) log.artifacts('lease by %s on %s while it is being deleted', holder, artifact.path);
    return lease;
  }

  /**
   * Removes every artifact no root holds, one collection at a time.
   * @throws {ArtifactError} `ERR_ARTIFACT_IO` when a removal failed (the others still ran)
   */
  collect(options: CollectOptions = {}): Promise<GcReport> {
    const run = this.#queue.then(() => this.#collect(options));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #collect(options: CollectOptions): Promise<GcReport> {
    const dryRun = options.dryRun ?? false;
    // Puts already in flight count as concurrent writers for the whole collection too.
    const touched = new Set<string>(this.#inFlight.keys());
    this.#touched.add(touched);
    try {
      const artifacts = [...(await this.#backend.list())].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      const firstLook = this.#rootsByPath(touched, options);
      const entries: GcEntry[] = [];
      const removed: Artifact[] = [];
      const failures: unknown[] = [];
      for (const artifact of artifacts) {
        const roots = firstLook.get(artifact.path) ?? [];
        if (roots.length > 0) {
          entries.push({ artifact, roots, action: 'kept' });
          continue;
        }
        if (dryRun) {
          entries.push({ artifact, roots, action: 'would-remove' });
          removed.push(artifact);
          continue;
        }
        // Everything from the final check to the mark is synchronous: no put, lease or
        // root can slip in between the decision and the mark that puts wait for.
        const lastLook = this.#rootsOf(artifact.path, touched, collectExternal(options, artifact.path));
        if (lastLook.length > 0) {
          entries.push({ artifact, roots: lastLook, action: 'kept' });
          continue;
        }
        const error = await this.#remove(artifact);
        if (error === undefined) {
          entries.push({ artifact, roots: [], action: 'removed' });
          removed.push(artifact);
        } else {
          failures.push(error);
          entries.push({ artifact, roots: [], action: 'kept' });
        }
      }
      log.artifacts('%s: %d artifacts, %d %s', dryRun ? 'dry run' : 'collection', entries.length, removed.length, dryRun ? 'would go' : 'removed');
      if (failures.length > 0) {
        const cause = failures.length === 1 ? failures[0] : new AggregateError(failures, `${failures.length} removals failed`);
        throw new ArtifactError('ERR_ARTIFACT_IO', `garbage collection could not remove ${failures.length} artifact(s)`, { cause });
      }
      return { dryRun, entries, removed };
    } finally {
      this.#touched.delete(touched);
    }
  }

  /** Starts the removal and marks it in the same turn; resolves to the failure, if any. */
  #remove(artifact: Artifact): Promise<unknown> {
    let failure: unknown;
    const deletion = this.#backend
      .remove(artifact)
      .catch((error: unknown) => {
        failure = error;
        log.artifacts('cannot remove %s: %O', artifact.path, error);
      })
      .finally(() => this.#deleting.delete(artifact.path));
    this.#deleting.set(artifact.path, deletion);
    return deletion.then(() => failure);
  }

  #rootsByPath(touched: ReadonlySet<string>, options: CollectOptions): Map<string, GcRoot[]> {
    const external = new Map<string, GcRoot[]>();
    for (const { artifact, root } of options.roots?.() ?? []) {
      const list = external.get(artifact.path);
      if (list === undefined) external.set(artifact.path, [root]);
      else list.push(root);
    }
    const paths = new Set([...this.#keep, ...this.#leases.keys(), ...this.#inFlight.keys(), ...touched, ...external.keys()]);
    const result = new Map<string, GcRoot[]>();
    for (const path of paths) result.set(path, this.#rootsOf(path, touched, external.get(path) ?? []));
    return result;
  }

  #rootsOf(path: string, touched: ReadonlySet<string>, external: readonly GcRoot[]): GcRoot[] {
    const roots: GcRoot[] = [...external];
    for (const lease of this.#leases.get(path) ?? []) roots.push({ kind: 'lease', detail: lease.holder });
    if (this.#keep.has(path)) roots.push(KEEP_ROOT);
    if (this.#inFlight.has(path)) roots.push(IN_FLIGHT_ROOT);
    else if (touched.has(path)) roots.push(PUT_DURING_ROOT);
    return roots;
  }
}

function collectExternal(options: CollectOptions, path: string): GcRoot[] {
  const roots: GcRoot[] = [];
  const external: Iterable<ExternalRoot> = options.roots?.() ?? [];
  for (const { artifact, root } of external) {
    if (artifact.path === path) roots.push(root);
  }
  return roots;
}

class Lease implements ArtifactLease {
  readonly artifact: Artifact;
  readonly holder: string;
  /** Called once, on the first release. */
  readonly #onRelease: (lease: Lease) => void;
  /** Only ever goes from false to true. */
  #released = false;

  constructor(artifact: Artifact, holder: string, onRelease: (lease: Lease) => void) {
    this.artifact = artifact;
    this.holder = holder;
    this.#onRelease = onRelease;
  }

  get released(): boolean {
    return this.#released;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#onRelease(this);
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
