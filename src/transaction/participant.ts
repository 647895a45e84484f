import type { Patch } from 'immer';
import { ArgumentError } from '../errors.js';
import type { Artifact } from '../artifacts/artifact.js';
import type { PutOptions } from '../artifacts/artifact-store.js';
import type { DeepReadonly } from '../snapshot/deep-readonly.js';
import type { Snapshot } from '../snapshot/snapshot.js';

/** What a participant may do with artifacts during prepare. */
export interface ArtifactWriter {
  /**
   * Writes (or finds) a content-addressed artifact and records it in the candidate
   * snapshot's `artifacts`, so it is a GC root from this moment on.
   * @throws {ConfigurationError} `ERR_NOT_CONFIGURED` when the store has no artifact store
   * @throws {ArtifactError} as {@link ArtifactStore.put}
   */
  put(name: string, content: string | Uint8Array, options?: PutOptions): Promise<Artifact>;
}

/** What a participant's prepare receives. `D` is the participant's own derived state. */
export interface PrepareContext<T = unknown, D = unknown> {
  /** The candidate config: validated, defaults applied, deeply frozen. */
  readonly config: DeepReadonly<T>;
  /** The live snapshot this transaction started from; `null` at cold start. */
  readonly previous: Snapshot<T> | null;
  /**
   * What this participant derived for the live snapshot (`previous.derived[name]`), typed;
   * `undefined` at cold start or when it derived nothing then.
   */
  readonly previousDerived: DeepReadonly<D> | undefined;
  /** What changed against `previous` (one root replace at cold start), deeply frozen: the same array every participant and subscriber sees. */
  readonly patches: readonly Patch[];
  /** The generation the candidate will have if it commits. */
  readonly generation: number;
  /** Writes artifacts for the candidate. */
  readonly artifacts: ArtifactWriter;
  /** Aborted when the transaction is; a long prepare should stop early and throw. */
  readonly signal: AbortSignal;
}

/** What a participant's prepare returns. */
export interface Prepared<D = unknown> {
  /** State derived from the candidate; lands frozen in `snapshot.derived[name]`. */
  readonly derived?: D;
  /**
   * Switches the participant to the new state. Runs synchronously in the same turn as
   * the swap; must not fail (a throw is reported, never undoes the swap). Must not return
   * a promise: one is reported as a commit failure, since its work would finish after
   * the turn in which every other participant switched.
   */
  readonly commit?: () => void;
  /** Undoes what prepare did. Runs, in reverse registration order, when the transaction does not commit. */
  readonly rollback?: () => void | Promise<void>;
}

/**
 * A plugin that takes part in every transaction: derives state, writes artifacts,
 * builds a new service in prepare and switches to it in commit.
 *
 * @example
 * ```ts
 * const upper: Participant<{ greeting: string }, 'upper', string> = {
 *   name: 'upper',
 *   prepare: ({ config }) => ({ derived: config.greeting.toUpperCase() }),
 * };
 * ```
 */
export interface Participant<T = never, N extends string = string, D = unknown> {
  /** Unique within a store, non-empty; the key of its derived state. */
  readonly name: N;
  /** All fallible work. Throwing (or rejecting) rejects the whole transaction. */
  prepare(context: PrepareContext<T, D>): Prepared<D> | Promise<Prepared<D>>;
  /**
   * Releases what the participant holds (connections, servers, timers). Called once by
   * `store.close()`, after the last reload ended, in reverse registration order.
   */
  close?(): void | Promise<void>;
}

/**
 * The derived state of a list of participants, keyed by their names. Read from what each
 * `prepare` returns (not from its context, whose `previousDerived` an inline participant
 * leaves to inference).
 */
export type DerivedOf<P extends readonly Participant[]> = {
  [Q in P[number] as Q['name']]: DerivedIn<Awaited<ReturnType<Q['prepare']>>>;
};

/** The `derived` type of what a prepare returned. */
type DerivedIn<R> = R extends { readonly derived?: infer D } ? Exclude<D, undefined> : never;

/**
 * The participants, checked: each has a non-empty string name unique in the store and a
 * prepare function. Any name is safe as a key of `snapshot.derived`, `__proto__` too.
 * @throws {ArgumentError} `ERR_ARGUMENT`
 */
export function checkParticipants<T>(participants: readonly Participant<T>[]): readonly Participant<T>[] {
  // Checked as what JavaScript callers may pass, not as what the types promise.
  const given: unknown = participants;
  if (!Array.isArray(given)) throw new ArgumentError('participants', 'must be an array');
  const seen = new Set<string>();
  (given as readonly unknown[]).forEach((participant, index) => {
    const where = `participants[${index}]`;
    if (typeof participant !== 'object' || participant === null) throw new ArgumentError(where, 'must be an object');
    const { name, prepare, close } = participant as Partial<Record<'name' | 'prepare' | 'close', unknown>>;
    if (typeof name !== 'string' || name === '') throw new ArgumentError(`${where}.name`, 'every participant needs a non-empty name');
    if (seen.has(name)) throw new ArgumentError(`${where}.name`, `two participants are named ${JSON.stringify(name)}`);
    if (typeof prepare !== 'function') throw new ArgumentError(`${where}.prepare`, `participant ${name} has no prepare()`);
    if (close !== undefined && typeof close !== 'function') throw new ArgumentError(`${where}.close`, 'must be a function when given');
    seen.add(name);
  });
  return participants;
}
