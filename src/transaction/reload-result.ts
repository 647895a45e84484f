/**
 * How a reload ended: one union keyed on `status`, for every way a reload is asked for
 * (`reload()`, `requestReload()`, a trigger such as `reloadOnSignal`) and for change
 * events. `reload()` and `prepared.commit()` resolve to its `applied` and `unchanged`
 * members and reject with the `error` of the other two.
 */
import type { Patch } from 'immer';

import type { ReloadError, ReloadFailure } from '../errors.js';
import type { Snapshot } from '../snapshot/snapshot.js';

/** A new generation is live. Also what subscribers receive (a {@link ChangeEvent}). */
export interface ReloadApplied<T = unknown, D = Record<string, unknown>> {
  /** A new generation is live. */
  readonly status: 'applied';
  /** The new live snapshot. */
  readonly snapshot: Snapshot<T, D>;
  /** The snapshot it replaced; `null` at cold start. */
  readonly previous: Snapshot<T, D> | null;
  /**
   * What changed, as immer patches, deeply frozen. They carry the new values, secrets
   * included: never log them.
   */
  readonly patches: readonly Patch[];
  /** Commit hooks that failed: the swap stands, the store's status reports the failure. Empty when every participant switched. */
  readonly commitFailures: readonly ReloadFailure[];
  /** `ERR_COMMIT` naming `commitFailures` when there are any; absent otherwise. */
  readonly error?: ReloadError;
}

/** The candidate equals the live config: no new generation, no commit hook, no subscriber. */
export interface ReloadUnchanged<T = unknown, D = Record<string, unknown>> {
  /** Nothing changed. */
  readonly status: 'unchanged';
  /** The live snapshot, the very same object as before. */
  readonly snapshot: Snapshot<T, D>;
  /** The same object as `snapshot`. */
  readonly previous: Snapshot<T, D>;
  /** Always empty. */
  readonly patches: readonly [];
  /** Always empty: no commit hook ran. */
  readonly commitFailures: readonly [];
  /** Never set: present so that `result.error` reads on every member of {@link ReloadResult}. */
  readonly error?: undefined;
}

/** The reload did not happen: the source could not be read, the config is invalid, or a participant refused it. */
export interface ReloadRejected<T = unknown, D = Record<string, unknown>> {
  /** Nothing was swapped. */
  readonly status: 'rejected';
  /** The live snapshot, the very same object as before the reload. */
  readonly snapshot: Snapshot<T, D>;
  /** Why: `ERR_LOAD`, `ERR_VALIDATION`, `ERR_PREPARE` (or `ERR_INTERNAL`, a bug of ours). */
  readonly error: ReloadError;
}

/** The reload was cancelled (a signal, `abort()`, `rollback()`, or the store closing) before its commit. */
export interface ReloadAborted<T = unknown, D = Record<string, unknown>> {
  /** Nothing was swapped. */
  readonly status: 'aborted';
  /** The live snapshot, the very same object as before the reload. */
  readonly snapshot: Snapshot<T, D>;
  /** `ERR_ABORTED`, `ERR_CLOSED`, or `ERR_ROLLBACK` when a rollback hook failed on the way out. */
  readonly error: ReloadError;
}

/** How a reload ended, keyed on `status`. */
export type ReloadResult<T = unknown, D = Record<string, unknown>> = ReloadApplied<T, D> | ReloadUnchanged<T, D> | ReloadRejected<T, D> | ReloadAborted<T, D>;

/** What `reload()` and `prepared.commit()` resolve to: the members of {@link ReloadResult} that committed. */
export type ReloadCommitted<T = unknown, D = Record<string, unknown>> = ReloadApplied<T, D> | ReloadUnchanged<T, D>;

/** What subscribers receive after each commit that changed the config: the `applied` result itself. */
export type ChangeEvent<T = unknown, D = Record<string, unknown>> = ReloadApplied<T, D>;
