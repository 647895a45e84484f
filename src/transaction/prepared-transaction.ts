import type { Patch } from 'immer';
import { ReloadError } from '../errors.js';
import { log } from '../internal/debug.js';
import type { ParticipantRun } from './participant-run.js';
import type { CandidateSnapshot, Snapshot } from '../snapshot/snapshot.js';
import type { ReloadApplied, ReloadCommitted, ReloadUnchanged } from './reload-result.js';
import type { TransactionHost, TransactionLifecycle } from './transaction-host.js';

/** What {@link Transaction.prepare} built: everything a commit swaps in. */
export interface PreparedParts<T, D> {
  /** The candidate (the live snapshot itself when unchanged). */
  readonly candidate: CandidateSnapshot<T, D>;
  /** What changes against the live config, frozen. */
  readonly patches: readonly Patch[];
  /** The prepared participants, whose commit or rollback hooks run next. */
  readonly participants: ParticipantRun<T>;
  /** True when the candidate equals the live config and the reload was not forced. */
  readonly isUnchanged: boolean;
}

/**
 * A transaction whose fallible work is done. {@link commit} makes it live in one
 * synchronous step (the swap, then every participant's commit hook); {@link rollback}
 * undoes the participants' work. Exactly one of them runs, once.
 */
export class PreparedTransaction<T, D> {
  /** The candidate: frozen, validated, with its derived state and artifacts. */
  readonly snapshot: CandidateSnapshot<T, D>;
  /** What changes against the live config, as immer patches, deeply frozen. */
  readonly patches: readonly Patch[];
  /** True when the candidate equals the live config: commit will change nothing. */
  readonly isUnchanged: boolean;
  readonly #lifecycle: TransactionLifecycle<T, D>;
  readonly #host: TransactionHost<T, D>;
  readonly #participants: ParticipantRun<T>;

  /** @internal Created by {@link Transaction.prepare}. */
  constructor(lifecycle: TransactionLifecycle<T, D>, host: TransactionHost<T, D>, parts: PreparedParts<T, D>) {
    this.snapshot = parts.candidate;
    this.patches = parts.patches;
    this.isUnchanged = parts.isUnchanged;
    this.#lifecycle = lifecycle;
    this.#host = host;
    this.#participants = parts.participants;
  }

  /**
   * Swaps the candidate in and runs every participant's commit hook, synchronously. A
   * hook that throws (or returns a promise) does not stop the others nor undo the swap:
   * it is in `commitFailures` and in the store's status.
   * @throws {TransactionStateError} `ERR_TXN_STATE` when already committed or rolled back
   */
  commit(): ReloadCommitted<T, D> {
    this.#lifecycle.expect('prepared', 'commit');
    if (this.isUnchanged) {
      const live = this.snapshot as Snapshot<T, D>;
      const result: ReloadUnchanged<T, D> = Object.freeze({ status: 'unchanged', snapshot: live, previous: live, patches: [] as const, commitFailures: [] as const });
      this.#lifecycle.end('committed', result);
      return result;
    }
    const previous = this.#host.live();
    const snapshot: Snapshot<T, D> = Object.freeze({ ...this.snapshot, committedAt: Date.now() });
    // The swap and every commit hook run in this one synchronous turn: no other code can
    // observe the new snapshot while a participant still runs the old state.
    this.#host.swap(snapshot);
    const commitFailures = Object.freeze(this.#participants.commit());
    const result: ReloadApplied<T, D> = Object.freeze({
      status: 'applied',
      snapshot,
      previous,
      patches: this.patches,
      commitFailures,
      ...(commitFailures.length > 0 ? { error: new ReloadError('ERR_COMMIT', commitFailures) } : {}),
    });
    this.#lifecycle.end('committed', result);
    log.transaction('committed generation %d, %d commit failure(s)', snapshot.generation, commitFailures.length);
    return result;
  }

  /**
   * Rolls every participant back, in reverse order, and ends the transaction.
   * @throws {ReloadError} `ERR_ROLLBACK` when a rollback hook failed (all of them still
   *   ran); the store's status then reports it: a participant may be left half undone
   * @throws {TransactionStateError} `ERR_TXN_STATE` when already committed or rolled back
   */
  async rollback(): Promise<void> {
    this.#lifecycle.expect('prepared', 'roll back');
    this.#lifecycle.enter('rolling-back');
    const failures = await this.#participants.rollback();
    const live = this.#host.live() as Snapshot<T, D>;
    if (failures.length === 0) {
      this.#lifecycle.end('aborted', { status: 'aborted', snapshot: live, error: new ReloadError('ERR_ABORTED', [], 'reload rolled back') });
      return;
    }
    const error = new ReloadError('ERR_ROLLBACK', failures, `rollback failed (${failures.length} hook(s)): a participant may be left half undone`);
    this.#lifecycle.end('aborted', { status: 'aborted', snapshot: live, error });
    throw error;
  }
}
