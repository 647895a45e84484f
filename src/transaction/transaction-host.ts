/**
 * What a transaction and the store that runs it know of each other: the store's private
 * side of a transaction ({@link TransactionHost}), and what a prepared transaction may
 * do to the transaction it came from ({@link TransactionLifecycle}). Neither is public.
 */
import type { Immer } from 'immer';
import type { Artifact } from '../artifacts/artifact.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { ChangeValidation } from '../schema/validator.js';
import type { TextConversion } from '../schema/text-conversion.js';
import type { ConfigProvenance } from '../pipeline/config-provenance.js';
import type { SecretReference, SecretResolver } from '../pipeline/resolve-secrets.js';
import type { SensitivePaths } from '../schema/sensitive-paths.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Participant } from './participant.js';
import type { ReloadResult } from './reload-result.js';

/** Where a transaction is in its life. */
export type TransactionState = 'open' | 'preparing' | 'prepared' | 'rolling-back' | 'committed' | 'rejected' | 'aborted';

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
   * ValidationError, or an UnsafeKeyError naming the candidate by `input` (`reload()` or
   * `recipe`). `live` is the live config, which the validator may share nodes with.
   */
  validate(candidate: unknown, live: unknown, input: string): unknown;
  /** Validation at the cost of what changed, when the schema allows it. */
  readonly changes: ChangeValidation | undefined;
  /** Converts the text values of a reading by the schema's types; `undefined` when the schema cannot say (a Standard Schema). */
  readonly convertTexts: TextConversion | undefined;
  /** Where each value of the live config came from; `undefined` before the cold start. */
  provenance(): ConfigProvenance | undefined;
  /** The resolvers of secret references, by scheme; empty when the store has none. */
  readonly resolvers: ReadonlyMap<string, SecretResolver>;
  /** The secret references the live config was resolved from (their values are in it). */
  liveReferences(): readonly SecretReference[];
  /** The digest to publish for a config's tree hash: keyed when the store has secrets. */
  publishDigest(digest: string): string;
  /** The sensitive paths of a config resolved from `references`; recorded for `config` (a candidate's) when given. */
  sensitive(references: readonly SecretReference[], config?: unknown): SensitivePaths;
  /** Deep-freezes a participant's derived state. */
  freeze<V>(value: V): V;
  /** The live snapshot, `null` before the cold start. */
  live(): Snapshot<T, D> | null;
  /** Makes `snapshot` live. Must not throw. */
  swap(snapshot: Snapshot<T, D>): void;
  /** Called once when the transaction ends, however it ends, with how it ended. */
  settle(transaction: OpenTransaction, result: ReloadResult<T, D>): void;
}

/** What a {@link PreparedTransaction} may do to the transaction it came from. */
export interface TransactionLifecycle<T, D> {
  /** @throws {TransactionStateError} `ERR_TXN_STATE` unless the transaction is in `state` */
  expect(state: TransactionState, action: string): void;
  /** Moves the transaction to `state` (`rolling-back`). */
  enter(state: TransactionState): void;
  /** Ends the transaction in `state`: releases the slot and settles `result` with the store. */
  end(state: TransactionState, result: ReloadResult<T, D>): void;
}

/** What the store keeps of a transaction while it is open: its garbage-collection roots. */
export interface OpenTransaction {
  /** The live snapshot it started from (`null` at cold start). */
  readonly base: Snapshot<unknown, unknown> | null;
  /** The artifacts written so far. */
  readonly artifacts: readonly Artifact[];
}
