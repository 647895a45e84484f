import type { Patch } from 'immer';
import type { Artifact } from '../artifacts/artifact.js';
import type { PutOptions } from '../artifacts/artifact-store.js';
import { ConfigurationError, ReloadError, TransactionStateError, hasErrorCode, type ReloadErrorCode, type ReloadFailure } from '../errors.js';
import { checkFunction } from '../internal/argument-checks.js';
import { log } from '../internal/debug.js';
import { SLICE_MS, slicer, type Slicer } from '../internal/slices.js';
import { digestOf } from '../json/canonical-json.js';
import { ParticipantRun } from './participant-run.js';
import { reconcile, type Reconciled } from '../pipeline/reconcile.js';
import { reconcileChanges } from '../pipeline/reconcile-changes.js';
import { StageFailure, runStage } from '../pipeline/stage-failure.js';
import { stageInput, stagedProvenance, type Recipe, type StagedChange, type StagedInput } from '../pipeline/stage-input.js';
import type { ConfigProvenance } from '../pipeline/config-provenance.js';
import { withOrigins } from '../pipeline/issue-origins.js';
import { redactError } from '../pipeline/redact-issues.js';
import type { SensitivePaths } from '../schema/sensitive-paths.js';
import { resolveSecrets, type SecretReference } from '../pipeline/resolve-secrets.js';
import { isAtOrUnder, toPointer } from '../json/json-pointer.js';
import type { Origins } from '../origin.js';
import type { CandidateSnapshot, Snapshot } from '../snapshot/snapshot.js';
import type { ArtifactWriter } from './participant.js';
import { PreparedTransaction } from './prepared-transaction.js';
import type { Release } from './reload-queue.js';
import type { ReloadResult } from './reload-result.js';
import type { TransactionHost, TransactionLifecycle, TransactionState } from './transaction-host.js';


/** Stages a source's reading on an open transaction (the store's refresh and cold start). Internal. */
export let stageReadingOf: <T, D, I>(transaction: Transaction<T, D, I>, value: unknown, layer: string, origins: Origins | undefined) => void;

/** The secret references a transaction's candidate was resolved from, once prepared. Internal: the store watches them while they are live. */
export let referencesOf: (transaction: object) => readonly SecretReference[];

/** The provenance of a transaction's candidate, once prepared. Internal: the store keeps it when the transaction commits. */
export let provenanceOf: (transaction: object) => ConfigProvenance | undefined;

/** Options of {@link ConfigStore.begin}: how the transaction runs. */
export interface TransactionOptions {
  /** Aborts while waiting for the reload slot or while preparing (`ERR_ABORTED`). */
  readonly signal?: AbortSignal;
  /**
   * Run the participants and commit a new generation even when the candidate equals the
   * live config: retries commit hooks that failed, or rebuilds what participants derive
   * from the outside world. Default `false` (an equal config is `unchanged`).
   */
  readonly force?: boolean;
}

/**
 * One change to a store: stage with {@link set} / {@link update}, then {@link prepare}
 * (all fallible work, nothing visible) and commit (a synchronous swap). Holds the
 * store's single reload slot from `begin()` until it ends; end it with commit,
 * rollback or {@link abort} (or `await using`), or every later reload waits.
 *
 * `prepare` is the pipeline, one stage after the other (docs/architecture.md): stage the
 * input, validate, reconcile with the live config, digest, prepare the participants.
 * Commit and rollback belong to the {@link PreparedTransaction} it returns.
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
  readonly #force: boolean;
  // The live snapshot when the slot was granted; it cannot change while we hold the slot.
  readonly #base: Snapshot<T, D> | null;
  readonly #changes: StagedChange<T>[] = [];
  // Every artifact the participants wrote, deduplicated by path: GC roots while open.
  readonly #written = new Map<string, Artifact>();
  // Set by a successful prepare; the prepared transaction ends this one.
  #prepared: PreparedTransaction<T, D> | null = null;
  // Where each value of the candidate came from; set by prepare, kept by the store when it commits.
  #provenance: ConfigProvenance | undefined;
  // The secret references the candidate was resolved from; set by prepare, kept by the store when it commits.
  #references: readonly SecretReference[] = [];
  #state: TransactionState = 'open';
  // What the prepared transaction may do to this one: check and change its state, end it.
  readonly #lifecycle: TransactionLifecycle<T, D> = {
    expect: (state, action) => {
      this.#expect(state, action);
    },
    enter: (state) => {
      this.#state = state;
    },
    end: (state, result) => {
      this.#end(state, result);
    },
  };

  static {
    // The store's own ways in, which are not API: stage a source's reading, read the provenance.
    stageReadingOf = (transaction, value, layer, origins) => {
      transaction.#expect('open', 'set');
      transaction.#changes.push({ kind: 'set', value, layer, origins });
    };
    provenanceOf = (transaction) => (#provenance in transaction ? transaction.#provenance : undefined);
    referencesOf = (transaction) => (#references in transaction ? transaction.#references : []);
  }

  /** @internal Created by {@link ConfigStore.begin}. */
  constructor(host: TransactionHost<T, D>, release: Release, options: TransactionOptions) {
    this.#host = host;
    this.#release = release;
    this.#signal = options.signal ?? new AbortController().signal;
    this.#force = options.force === true;
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
    this.#changes.push({ kind: 'set', value: next, layer: 'reload' });
    return this;
  }

  /**
   * Changes the candidate with an immer recipe. Recipes run in `prepare`, in order; one
   * that throws rejects the transaction.
   * @throws {TransactionStateError} `ERR_TXN_STATE` unless the transaction is open
   * @throws {ArgumentError} `ERR_ARGUMENT` when `recipe` is not a function
   */
  update(recipe: Recipe<T>): this {
    this.#expect('open', 'update');
    checkFunction('recipe', recipe);
    this.#changes.push({ kind: 'update', recipe });
    return this;
  }

  /**
   * Runs all fallible work: the staged changes, validation, then every participant's
   * prepare in registration order. Nothing is visible until commit. On failure every
   * participant already prepared is rolled back in reverse order, the slot is released
   * and the live snapshot stays the very same object.
   * @throws {ReloadError} `ERR_VALIDATION`, `ERR_UNSAFE_KEY` (the candidate holds an own
   *   key `__proto__`, `constructor` or `prototype`), `ERR_PREPARE` or `ERR_ABORTED`
   *   (`ERR_ROLLBACK` when aborted and a rollback hook failed), naming every failure
   * @throws {TransactionStateError} `ERR_TXN_STATE` unless the transaction is open
   */
  async prepare(): Promise<PreparedTransaction<T, D>> {
    this.#expect('open', 'prepare');
    this.#state = 'preparing';
    const run = new ParticipantRun<T>();
    try {
      this.#prepared = await this.#runPipeline(run);
      this.#state = 'prepared';
      return this.#prepared;
    } catch (error) {
      throw await this.#reject(error, run);
    }
  }

  /**
   * Ends an open transaction without preparing, or rolls back a prepared one.
   * Ending one that already ended does nothing.
   * @throws {ReloadError} `ERR_ROLLBACK` when rolling back a prepared transaction and a rollback hook failed (all of them still ran)
   */
  async abort(): Promise<void> {
    if (this.#state === 'open') this.#end('aborted', { status: 'aborted', snapshot: this.#live(), error: abortedBy(this.#signal, 'abort') });
    else if (this.#state === 'prepared') await this.#prepared?.rollback();
  }

  /**
   * `await using txn = await store.begin()` aborts it if it did not end.
   * @throws {ReloadError} as {@link abort}
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.abort();
  }

  /** The pipeline: each stage in order; a stage that fails throws a StageFailure. */
  async #runPipeline(run: ParticipantRun<T>): Promise<PreparedTransaction<T, D>> {
    const host = this.#host;
    const base = this.#base;
    const signal = this.#signal;
    // Between stages, and inside the walk over a whole value, the event loop gets a turn
    // whenever the work has run for a slice: a large file does not stall the process.
    const pause = slicer(SLICE_MS, signal);
    let staged = await runStage('update', signal, () => stageInput(base?.config, this.#changes, host.immer));
    this.#provenance = stagedProvenance(host.provenance(), this.#changes, staged.written);
    // A whole value (a parsed file) may be large, and was likely parsed in this very turn.
    if (staged.written === undefined) await pause(true);
    staged = await this.#convertTexts(staged);
    staged = await this.#resolveSecrets(staged);
    // What changed first (validated and reconciled at its own cost), else the whole candidate.
    const { changes } = host;
    const changed = base === null || changes === undefined ? { whole: staged.candidate } : await runStage('validate', signal, () => reconcileChanges(base.config, staged, changes, pause, inputName(this.#changes)));
    const { value: config, patches } = 'reconciled' in changed ? changed.reconciled : await this.#validateWhole(changed.whole, inputName(this.#changes), pause);
    await pause();
    const digest = host.publishDigest(await runStage('validate', signal, () => digestOf(config)));
    await pause();
    if (base !== null && digest === base.digest && !this.#force) {
      log.transaction('unchanged at generation %d', base.generation);
      return new PreparedTransaction(this.#lifecycle, host, { candidate: base, patches: [], participants: run, isUnchanged: true });
    }
    const generation = (base?.generation ?? 0) + 1;
    const frozenPatches = freezePatches(patches);
    const writer = this.#writer();
    await run.prepare(
      host.participants,
      (participant) => ({
        config: config as never,
        previous: base as Snapshot<T> | null,
        // The derived state of the participant of that name: typed by the participant's own declaration.
        previousDerived: (base?.derived as Readonly<Record<string, never>> | undefined)?.[participant.name],
        patches: frozenPatches,
        generation,
        artifacts: writer,
        signal,
      }),
      signal,
      (value) => host.freeze(value),
    );
    const candidateSnapshot: CandidateSnapshot<T, D> = Object.freeze({
      config: config as CandidateSnapshot<T, D>['config'],
      redacted: redactedOf(host.sensitive(this.#references, config), config) as CandidateSnapshot<T, D>['redacted'],
      derived: Object.freeze(run.derived) as CandidateSnapshot<T, D>['derived'],
      generation,
      digest,
      artifacts: Object.freeze(this.artifacts),
    });
    log.transaction('prepared generation %d (%s)', generation, digest.slice(0, 12));
    return new PreparedTransaction(this.#lifecycle, host, { candidate: candidateSnapshot, patches: frozenPatches, participants: run, isUnchanged: false });
  }

  /**
   * Secret references (`{ "$secret": … }`) of a whole value, resolved by the store's
   * resolvers before validation. A recipe resolves nothing: the live config holds resolved
   * values, and the references under the paths it wrote are gone.
   */
  async #resolveSecrets(staged: StagedInput): Promise<StagedInput> {
    const { resolvers } = this.#host;
    if (staged.written !== undefined) {
      this.#references = withoutWritten(this.#host.liveReferences(), staged.written);
      return staged;
    }
    if (resolvers.size === 0) return staged;
    const { value, references } = await runStage('resolve', this.#signal, () => resolveSecrets(staged.candidate, resolvers, this.#signal));
    this.#references = references;
    return value === staged.candidate ? staged : { ...staged, candidate: value };
  }

  /** The origins of the last whole value staged, when it was a source's reading. */
  #readingOrigins(): Origins | undefined {
    const last = this.#changes.findLast((change) => change.kind === 'set');
    return last?.kind === 'set' ? last.origins : undefined;
  }

  /**
   * Text values of a source's reading (environment, flags), converted by the schema's
   * type at their path; a text that does not convert fails validation, naming its input.
   */
  async #convertTexts(staged: StagedInput): Promise<StagedInput> {
    const { convertTexts } = this.#host;
    const origins = this.#readingOrigins();
    if (convertTexts === undefined || origins?.texts === undefined || origins.texts.length === 0 || staged.written !== undefined) return staged;
    const candidate = await runStage('validate', this.#signal, () => convertTexts(staged.candidate, origins));
    return { ...staged, candidate };
  }

  /**
   * Validates the whole candidate, then reconciles it with the live config. Both walk
   * every key they copy: the candidate's, and then the validated value's (what a
   * validator added), each refused there when it can pollute prototypes.
   */
  async #validateWhole(candidate: unknown, input: string, pause: Slicer): Promise<Reconciled> {
    const live = this.#base?.config;
    await pause();
    const validated = await runStage('validate', this.#signal, () => this.#host.validate(candidate, live, input));
    await pause();
    return runStage('validate', this.#signal, () => reconcile(live, validated, this.#base !== null, input));
  }

  /** Rolls back what was prepared, ends the transaction, and returns the error to throw. */
  async #reject(error: unknown, run: ParticipantRun<T>): Promise<ReloadError> {
    const stage: ReloadFailure = error instanceof StageFailure ? error.failure : { participant: null, phase: 'prepare', error };
    // A value read from a source: its validation issues name where it came from.
    // Redacted first (a message about a sensitive value may quote it), then named by origin.
    const failure: ReloadFailure = stage.phase === 'validate' ? { ...stage, error: withOrigins(redactError(stage.error, this.#host.sensitive(this.#references)), this.#readingOrigins()) } : stage;
    // Read before the rollback: a signal that fires while a real failure rolls back must
    // not turn that failure into a clean abort.
    const aborted = this.#signal.aborted;
    const rollbackFailures = await run.rollback();
    const failures = [failure, ...rollbackFailures];
    let code: ReloadErrorCode = 'ERR_PREPARE';
    if (aborted) code = rollbackFailures.length > 0 ? 'ERR_ROLLBACK' : 'ERR_ABORTED';
    else if (failure.phase === 'validate' && hasErrorCode(failure.error, 'ERR_VALIDATION', 'ERR_UNSAFE_KEY')) code = failure.error.code;
    else if (failure.phase === 'resolve' && hasErrorCode(failure.error, 'ERR_SECRET')) code = 'ERR_SECRET';
    const rejected = new ReloadError(
      code,
      failures,
      code === 'ERR_ROLLBACK' ? `reload aborted, and ${rollbackFailures.length} rollback hook(s) failed: a participant may be left half undone` : undefined,
    );
    const snapshot = this.#live();
    this.#end(aborted ? 'aborted' : 'rejected', aborted ? { status: 'aborted', snapshot, error: rejected } : { status: 'rejected', snapshot, error: rejected });
    return rejected;
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

  /** The live snapshot for a result that did not commit; only a cold start has none, and it never reports one. */
  #live(): Snapshot<T, D> {
    return this.#base as Snapshot<T, D>;
  }

  /** Ends the transaction: releases the slot and tells the store how it ended. */
  #end(state: TransactionState, result: ReloadResult<T, D>): void {
    this.#state = state;
    this.#release();
    this.#host.settle(this, result);
  }

  /** @throws {TransactionStateError} `ERR_TXN_STATE` unless the transaction is in `state` */
  #expect(state: TransactionState, action: string): void {
    if (this.#state !== state) throw new TransactionStateError(this.#state, action);
  }
}

/**
 * What made the candidate, as an UnsafeKeyError names it: `recipe` when a recipe ran after
 * the last whole value (the recipe's result is the candidate), else `reload()` (a whole
 * value: `reload(value)`, `set`, `create({ initial })`).
 */
function inputName<T>(changes: readonly StagedChange<T>[]): string {
  return changes.at(-1)?.kind === 'update' ? 'recipe' : 'reload()';
}

/** An `ERR_ABORTED` error for a transaction ended by its caller. */
function abortedBy(signal: AbortSignal, how: string): ReloadError {
  return new ReloadError('ERR_ABORTED', [{ participant: null, phase: 'wait', error: signal.aborted ? signal.reason : new Error(`ended by ${how}()`) }], `reload aborted by ${how}()`);
}

/**
 * The patches, frozen down to their paths (their values are the candidate's own frozen
 * nodes): every participant, the caller and every subscriber see the same array, and
 * none can change what the others see.
 */
function freezePatches(patches: Patch[]): readonly Patch[] {
  for (const patch of patches) {
    Object.freeze(patch.path);
    Object.freeze(patch);
  }
  return Object.freeze(patches);
}

/** The references not at or under a path a recipe wrote: those keep their resolved values. */
function withoutWritten(references: readonly SecretReference[], written: readonly (readonly (string | number)[])[]): readonly SecretReference[] {
  if (references.length === 0 || written.length === 0) return references;
  const paths = new Set(written.map(toPointer));
  return references.filter(({ pointer }) => !isAtOrUnder(pointer, paths));
}

/**
 * A snapshot's `redacted()`. Made here, not inline in the pipeline: a closure there would
 * share the pipeline's scope, which holds the previous snapshot, and every generation
 * would keep the one before it alive.
 */
function redactedOf(sensitive: SensitivePaths, config: unknown): () => unknown {
  return () => sensitive.redact(config);
}
