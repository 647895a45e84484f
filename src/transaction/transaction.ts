import { freeze, type Draft, type Immer, type Patch } from 'immer';
import type { Artifact, ArtifactStore, PutOptions } from '../artifacts/artifact-store.js';
import { ConfigurationError, ReloadError, TransactionStateError, ValidationError, type ReloadErrorCode, type ReloadFailure } from '../errors.js';
import { digestOf } from '../json/canonical-json.js';
import { log } from '../internal/debug.js';
import { reconcile } from '../pipeline/reconcile.js';
import type { CandidateSnapshot, Snapshot } from '../snapshot/snapshot.js';
import type { ArtifactWriter, Participant, Prepared } from './participant.js';
import type { Release } from './reload-queue.js';

/** Where a transaction is in its life. */
export type TransactionState = 'open' | 'preparing' | 'prepared' | 'rolling-back' | 'committed' | 'rejected' | 'aborted';

/**
 * An immer recipe: edit the draft in place, or return a whole replacement (immer's rule).
 */
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- immer's recipe contract: mutate and return nothing, or return a value
export type Recipe<T> = (draft: Draft<T>) => void | T;

/** What a commit did. A union keyed on `status`. */
export type CommitResult<T, D> =
  | {
      /** A new generation is live. */
      readonly status: 'applied';
      /** The new live snapshot. */
      readonly snapshot: Snapshot<T, D>;
      /** The snapshot it replaced; `null` at cold start. */
      readonly previous: Snapshot<T, D> | null;
      /** What changed, as immer patches. */
      readonly patches: readonly Patch[];
      /** Commit hooks that threw: the swap stands, the status reports the failure. */
      readonly commitFailures: readonly ReloadFailure[];
    }
  | {
      /** The candidate equals the live config: no new generation, no commit hook, no subscriber. */
      readonly status: 'unchanged';
      /** The live snapshot, the very same object as before. */
      readonly snapshot: Snapshot<T, D>;
      /** The same object as `snapshot`. */
      readonly previous: Snapshot<T, D>;
      /** Always empty. */
      readonly patches: readonly [];
      /** Always empty: no commit hook ran. */
      readonly commitFailures: readonly [];
    };

/**
 * What a transaction needs from its store. The store implements it privately; it is
 * not part of the public API.
 */
export interface TransactionHost<T, D> {
  /** The store's own immer instance (auto-freeze off: recipe results are copied, never kept), for recipes. */
  readonly immer: Immer;
  /** Every participant, in registration order. */
  readonly participants: readonly Participant<T>[];
  /** Where participants write artifacts; `undefined` when the store has none. */
  readonly artifacts: ArtifactStore | undefined;
  /**
   * Validates a candidate: the validated value (or a promise of it), or throws a
   * ValidationError. `live` is the live config, which the validator may share nodes with.
   */
  validate(candidate: unknown, live: unknown): unknown;
  /** The live snapshot, `null` before the cold start. */
  live(): Snapshot<T, D> | null;
  /** Called once when the transaction ends, however it ends. */
  settle(transaction: Transaction<T, D, never>, end: TransactionEnd<T, D>): void;
  /** Makes `snapshot` live. Must not throw. */
  swap(snapshot: Snapshot<T, D>): void;
}

/** How a transaction ended, as the store's bookkeeping needs it. */
export type TransactionEnd<T, D> =
  | { readonly kind: 'applied'; readonly result: CommitResult<T, D> & { status: 'applied' } }
  | { readonly kind: 'unchanged'; readonly snapshot: Snapshot<T, D> }
  | { readonly kind: 'rejected'; readonly error: ReloadError }
  | { readonly kind: 'aborted' };

type Step<T> = { readonly kind: 'set'; readonly value: unknown } | { readonly kind: 'update'; readonly recipe: Recipe<T> };

interface PreparedParticipant {
  readonly name: string;
  readonly prepared: Prepared;
}

/**
 * One change to a store: stage with {@link set} / {@link update}, then {@link prepare}
 * (all fallible work, nothing visible) and commit (a synchronous swap). Holds the
 * store's single reload slot from `begin()` until it ends; end it with commit,
 * rollback or {@link abort} (or `await using`), or every later reload waits.
 *
 * @example
 * ```ts
 * await using txn = await store.begin();
 * txn.update((draft) => { draft.debug = true; });
 * const prepared = await txn.prepare();
 * prepared.commit();
 * ```
 */
export class Transaction<T, D, I = T> implements AsyncDisposable {
  readonly #host: TransactionHost<T, D>;
  readonly #release: Release;
  readonly #signal: AbortSignal;
  // The live snapshot when the slot was granted; it cannot change while we hold the slot.
  readonly #base: Snapshot<T, D> | null;
  readonly #steps: Step<T>[] = [];
  // Every artifact the participants wrote, deduplicated by path: GC roots while open.
  readonly #written = new Map<string, Artifact>();
  // Prepared participants in registration order; rolled back in reverse.
  #prepared: PreparedParticipant[] = [];
  #state: TransactionState = 'open';

  /** @internal Created by {@link ConfigStore.begin}. */
  constructor(host: TransactionHost<T, D>, release: Release, signal: AbortSignal | undefined) {
    this.#host = host;
    this.#release = release;
    this.#signal = signal ?? new AbortController().signal;
    this.#base = host.live();
  }

  /** Where the transaction is in its life. */
  get state(): TransactionState {
    return this.#state;
  }

  /** The live snapshot the transaction started from (`null` at cold start). */
  get base(): Snapshot<T, D> | null {
    return this.#base;
  }

  /** The artifacts written so far (GC roots while the transaction is open). */
  get artifacts(): readonly Artifact[] {
    return [...this.#written.values()];
  }

  /**
   * Replaces the candidate with `next` (typically a freshly parsed file).
   * @throws {TransactionStateError} `ERR_TXN_STATE` unless the transaction is open
   */
  set(next: I): this {
    this.#expect('open', 'set');
    this.#steps.push({ kind: 'set', value: next });
    return this;
  }

  /**
   * Changes the candidate with an immer recipe. Recipes run in `prepare`, in order; one
   * that throws rejects the transaction.
   * @throws {TransactionStateError} `ERR_TXN_STATE` unless the transaction is open
   */
  update(recipe: Recipe<T>): this {
    this.#expect('open', 'update');
    this.#steps.push({ kind: 'update', recipe });
    return this;
  }

  /**
   * Runs all fallible work: the staged changes, validation, then every participant's
   * prepare in registration order. Nothing is visible until commit. On failure every
   * participant already prepared is rolled back in reverse order, the slot is released
   * and the live snapshot stays the very same object.
   * @throws {ReloadError} `ERR_VALIDATION`, `ERR_PREPARE` or `ERR_ABORTED`, naming every failure
   * @throws {TransactionStateError} `ERR_TXN_STATE` unless the transaction is open
   */
  async prepare(): Promise<PreparedTransaction<T, D>> {
    this.#expect('open', 'prepare');
    this.#state = 'preparing';
    const outcome = await this.#run();
    if ('failure' in outcome) {
      const { failure } = outcome;
      const failures = [failure, ...(await this.#rollbackAll())];
      const code: ReloadErrorCode = this.#signal.aborted
        ? 'ERR_ABORTED'
        : failure.phase === 'validate' && failure.error instanceof ValidationError
          ? 'ERR_VALIDATION'
          : 'ERR_PREPARE';
      const error = new ReloadError(code, failures);
      this.#end('rejected', { kind: 'rejected', error });
      throw error;
    }
    return outcome.prepared;
  }

  /**
   * Ends an open transaction without preparing, or rolls back a prepared one.
   * Ending one that already ended does nothing.
   * @throws {ReloadError} `ERR_PREPARE` when rolling back a prepared transaction and a rollback hook failed (all of them still ran)
   */
  async abort(): Promise<void> {
    if (this.#state === 'open') this.#end('aborted', { kind: 'aborted' });
    else if (this.#state === 'prepared') await this.#rollbackPrepared();
  }

  /**
   * `await using txn = await store.begin()` aborts it if it did not end.
   * @throws {ReloadError} as {@link abort}
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.abort();
  }

  async #run(): Promise<{ readonly failure: ReloadFailure } | { readonly prepared: PreparedTransaction<T, D> }> {
    const host = this.#host;
    const base = this.#base;
    let candidate: unknown;
    try {
      candidate = this.#applySteps();
    } catch (error) {
      return { failure: { participant: null, phase: 'update', error } };
    }
    let config: unknown;
    let patches: readonly Patch[];
    let digest: string;
    try {
      this.#signal.throwIfAborted();
      const validated = await host.validate(candidate, base?.config);
      this.#signal.throwIfAborted();
      ({ value: config, patches } = reconcile(base?.config, validated, base !== null));
      // Inside the try: whatever fails before the participants must end as a rejection
      // that releases the slot, never as a throw that would hold it.
      digest = digestOf(config);
    } catch (error) {
      return { failure: { participant: null, phase: 'validate', error } };
    }
    if (base !== null && digest === base.digest) {
      log.transaction('unchanged at generation %d', base.generation);
      const prepared = new PreparedTransaction(base, [], true, {
        commit: () => this.#commitUnchanged(base),
        rollback: () => this.#rollbackPrepared(),
      });
      this.#state = 'prepared';
      return { prepared };
    }
    const generation = (base?.generation ?? 0) + 1;
    const derived: Record<string, unknown> = {};
    const writer = this.#writer();
    for (const participant of host.participants) {
      try {
        this.#signal.throwIfAborted();
        const result = await participant.prepare({
          config: config as never,
          previous: base as Snapshot<T> | null,
          patches,
          generation,
          artifacts: writer,
          signal: this.#signal,
        });
        this.#prepared.push({ name: participant.name, prepared: result });
        if (result.derived !== undefined) derived[participant.name] = freeze(result.derived, true);
        this.#signal.throwIfAborted();
      } catch (error) {
        return { failure: { participant: participant.name, phase: 'prepare', error } };
      }
    }
    const candidateSnapshot: CandidateSnapshot<T, D> = Object.freeze({
      config: config as CandidateSnapshot<T, D>['config'],
      derived: Object.freeze(derived) as CandidateSnapshot<T, D>['derived'],
      generation,
      digest,
      artifacts: Object.freeze(this.artifacts),
    });
    const prepared = new PreparedTransaction(candidateSnapshot, Object.freeze(patches), false, {
      commit: () => this.#commit(candidateSnapshot, patches),
      rollback: () => this.#rollbackPrepared(),
    });
    this.#state = 'prepared';
    log.transaction('prepared generation %d (%s)', generation, digest.slice(0, 12));
    return { prepared };
  }

  #applySteps(): unknown {
    let candidate: unknown = this.#base?.config;
    for (const step of this.#steps) {
      if (step.kind === 'set') candidate = step.value;
      else candidate = this.#host.immer.produce(candidate, step.recipe as (draft: unknown) => void);
    }
    return candidate;
  }

  #writer(): ArtifactWriter {
    return {
      put: async (name: string, content: string | Uint8Array, options?: PutOptions): Promise<Artifact> => {
        const store = this.#host.artifacts;
        if (store === undefined) {
          throw new ConfigurationError('ERR_NOT_CONFIGURED', 'no artifact store: pass `artifacts` to ConfigStore.create()');
        }
        if (this.#state !== 'preparing') throw new TransactionStateError(this.#state, 'write an artifact');
        const artifact = await store.put(name, content, options);
        this.#written.set(artifact.path, artifact);
        return artifact;
      },
    };
  }

  #commit(candidate: CandidateSnapshot<T, D>, patches: readonly Patch[]): CommitResult<T, D> {
    this.#expect('prepared', 'commit');
    const previous = this.#base;
    const snapshot: Snapshot<T, D> = Object.freeze({ ...candidate, committedAt: Date.now() });
    // The swap and every commit hook run in this one synchronous turn: no other code can
    // observe the new snapshot while a participant still runs the old state.
    this.#host.swap(snapshot);
    const commitFailures: ReloadFailure[] = [];
    for (const { name, prepared } of this.#prepared) {
      try {
        prepared.commit?.();
      } catch (error) {
        commitFailures.push({ participant: name, phase: 'commit', error });
      }
    }
    const result = Object.freeze({ status: 'applied' as const, snapshot, previous, patches, commitFailures: Object.freeze(commitFailures) });
    this.#end('committed', { kind: 'applied', result });
    log.transaction('committed generation %d, %d commit failure(s)', snapshot.generation, commitFailures.length);
    return result;
  }

  #commitUnchanged(live: Snapshot<T, D>): CommitResult<T, D> {
    this.#expect('prepared', 'commit');
    this.#end('committed', { kind: 'unchanged', snapshot: live });
    return Object.freeze({ status: 'unchanged' as const, snapshot: live, previous: live, patches: [] as const, commitFailures: [] as const });
  }

  async #rollbackPrepared(): Promise<void> {
    this.#expect('prepared', 'roll back');
    this.#state = 'rolling-back';
    const failures = await this.#rollbackAll();
    this.#end('aborted', { kind: 'aborted' });
    if (failures.length > 0) throw new ReloadError('ERR_PREPARE', failures, 'rollback failed');
  }

  async #rollbackAll(): Promise<ReloadFailure[]> {
    const failures: ReloadFailure[] = [];
    const prepared = this.#prepared;
    this.#prepared = [];
    for (const { name, prepared: p } of prepared.reverse()) {
      try {
        await p.rollback?.();
      } catch (error) {
        failures.push({ participant: name, phase: 'rollback', error });
      }
    }
    return failures;
  }

  #end(state: TransactionState, end: TransactionEnd<T, D>): void {
    this.#state = state;
    this.#release();
    this.#host.settle(this, end);
  }

  #expect(state: TransactionState, action: string): void {
    if (this.#state !== state) throw new TransactionStateError(this.#state, action);
  }
}

interface PreparedActions<T, D> {
  readonly commit: () => CommitResult<T, D>;
  readonly rollback: () => Promise<void>;
}

/**
 * A transaction whose fallible work is done. {@link commit} makes it live in one
 * synchronous step; {@link rollback} undoes the participants' work.
 */
export class PreparedTransaction<T, D> {
  /** The candidate: frozen, validated, with its derived state and artifacts. */
  readonly snapshot: CandidateSnapshot<T, D>;
  /** What changes against the live config. */
  readonly patches: readonly Patch[];
  /** True when the candidate equals the live config: commit will change nothing. */
  readonly isUnchanged: boolean;
  readonly #actions: PreparedActions<T, D>;

  /** @internal Created by {@link Transaction.prepare}. */
  constructor(snapshot: CandidateSnapshot<T, D>, patches: readonly Patch[], isUnchanged: boolean, actions: PreparedActions<T, D>) {
    this.snapshot = snapshot;
    this.patches = patches;
    this.isUnchanged = isUnchanged;
    this.#actions = actions;
  }

  /**
   * Swaps the candidate in and runs every participant's commit hook, synchronously. A
   * hook that throws does not stop the others nor undo the swap: it is in
   * `commitFailures` and in the store's status.
   * @throws {TransactionStateError} `ERR_TXN_STATE` when already committed or rolled back
   */
  commit(): CommitResult<T, D> {
    return this.#actions.commit();
  }

  /**
   * Rolls every participant back, in reverse order, and ends the transaction.
   * @throws {ReloadError} `ERR_PREPARE` when a rollback hook failed (all of them still ran)
   * @throws {TransactionStateError} `ERR_TXN_STATE` when already committed or rolled back
   */
  rollback(): Promise<void> {
    return this.#actions.rollback();
  }
}
