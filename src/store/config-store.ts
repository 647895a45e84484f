import { Immer, enablePatches, type Patch } from 'immer';
import type { Ajv } from 'ajv';
import type { Artifact, ArtifactStore, ExternalRoot, GcReport } from '../artifacts/artifact-store.js';
import { ArgumentError, ConfigurationError, ReloadError, type ReloadFailure } from '../errors.js';
import { log } from '../internal/debug.js';
import type { DerivedOf, Participant } from '../transaction/participant.js';
import { ReloadQueue } from '../transaction/reload-queue.js';
import { RequestCoalescer } from '../transaction/request-coalescer.js';
import { Transaction, type CommitResult, type Recipe, type TransactionEnd, type TransactionHost } from '../transaction/transaction.js';
import { PinRegistry, type Pin, type SynchronizeOptions } from './pins.js';
import type { ConfigInputOf, ConfigOf, ConfigSchema } from '../schema/schema-types.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { StatusRecorder, type ConfigStatus } from './status.js';
import { compileValidator } from '../schema/validator.js';

// Patches are an immer plugin; enabling it is idempotent and changes nothing else.
enablePatches();

/** Options of {@link ConfigStore.create}. */
export interface CreateOptions<S extends ConfigSchema, P extends readonly Participant[]> {
  /** A JSON Schema (compiled once by ajv: all errors, defaults applied, strict) or a Standard Schema v1 validator. */
  readonly schema: S;
  /** The first config. Goes through the same transaction as every reload. */
  readonly initial: unknown;
  /** Plugins taking part in every transaction, prepared in this order. */
  readonly participants?: P;
  /** Where participants write artifacts (`ctx.artifacts`). */
  readonly artifacts?: ArtifactStore;
  /** An ajv instance of yours (custom formats or keywords) to compile a JSON Schema with. */
  readonly ajv?: Ajv;
  /** Cancels the cold start. */
  readonly signal?: AbortSignal;
}

/** Options of {@link ConfigStore.begin} and {@link ConfigStore.reload}. */
export interface ReloadOptions {
  /** Aborts while waiting for the reload slot or while preparing (`ERR_ABORTED`). */
  readonly signal?: AbortSignal;
}

/** What {@link ConfigStore.reload} returns: a {@link CommitResult}. */
export type ReloadResult<T, D> = CommitResult<T, D>;

/** What {@link ConfigStore.requestReload} resolves to. It never rejects. */
export type ReloadOutcome<T, D> =
  | {
      /** The reload committed a new generation (`applied`) or found the config equal to the live one (`unchanged`). */
      readonly status: 'applied' | 'unchanged';
      /** The live snapshot after the reload. */
      readonly snapshot: Snapshot<T, D>;
      /** Set when commit hooks failed (`ERR_COMMIT`): the swap stands, but not every participant switched. */
      readonly error?: ReloadError;
    }
  | {
      /** The reload did not happen; the live snapshot stayed the very same object. */
      readonly status: 'rejected';
      /** Why: `ERR_LOAD`, `ERR_VALIDATION`, `ERR_PREPARE` or `ERR_ABORTED`. */
      readonly error: ReloadError;
    };

/** What subscribers receive after each commit that changed the config. */
export interface ChangeEvent<T, D> {
  /** The new live snapshot. */
  readonly snapshot: Snapshot<T, D>;
  /** The snapshot it replaced; `null` at cold start. */
  readonly previous: Snapshot<T, D> | null;
  /** What changed, as immer patches (paths into the config). */
  readonly patches: readonly Patch[];
  /** Commit hooks that threw; the swap stands. Empty when every participant switched. */
  readonly commitFailures: readonly ReloadFailure[];
}

/** Called after each commit that changed the config. */
export type ChangeListener<T, D> = (event: ChangeEvent<T, D>) => void | Promise<void>;

/** Options of {@link ConfigStore.collectGarbage}. */
export interface CollectGarbageOptions {
  /** Report what would go, delete nothing. */
  readonly dryRun?: boolean;
}

/**
 * Holds the current configuration snapshot of a daemon and is the only way to change it.
 *
 * Reads are a single pointer read ({@link load}); changes are two-phase transactions
 * run one at a time in arrival order ({@link reload}, {@link begin},
 * {@link requestReload}).
 *
 * @example
 * ```ts
 * const store = await ConfigStore.create({
 *   schema: { type: 'object', properties: { port: { type: 'integer', default: 8080 } }, additionalProperties: false } as const,
 *   initial: {},
 * });
 * const snap = store.load();          // capture once per operation
 * snap.config.port;                   // 8080, deeply frozen
 * await store.reload((draft) => { draft.port = 9090; });
 * ```
 */
export class ConfigStore<T, D = Record<string, unknown>, I = T> {
  // The live snapshot. Replaced only by a commit, in one assignment; null only during
  // the cold start, which create() awaits before anyone gets the store.
  #current: Snapshot<T, D> | null = null;
  readonly #queue = new ReloadQueue();
  readonly #coalescer = new RequestCoalescer<ReloadOutcome<T, D>>();
  readonly #pins = new PinRegistry<T, D>();
  readonly #status = new StatusRecorder();
  readonly #listeners = new Set<ChangeListener<T, D>>();
  // Open transactions: their artifacts are GC roots until they end.
  readonly #open = new Set<Transaction<T, D, never>>();
  readonly #host: TransactionHost<T, D>;
  readonly #artifacts: ArtifactStore | undefined;

  private constructor(host: Omit<TransactionHost<T, D>, 'live' | 'settle' | 'swap'>) {
    this.#artifacts = host.artifacts;
    this.#host = {
      ...host,
      live: () => this.#current,
      swap: (snapshot) => {
        this.#current = snapshot;
      },
      settle: (transaction, end) => {
        this.#settle(transaction, end);
      },
    };
  }

  /**
   * Creates a store and commits `initial` through the same transaction path as every
   * reload: a config that a reload would reject is rejected here, with the same error.
   *
   * @throws {ConfigurationError} `ERR_SCHEMA` (schema does not compile), `ERR_OPTIONS` (participant names)
   * @throws {ReloadError} `ERR_VALIDATION`, `ERR_PREPARE`, `ERR_ABORTED`; `ERR_COMMIT` when a commit hook threw
   * @example
   * ```ts
   * const store = await ConfigStore.create({ schema, initial: await readConfigFile('config.json') });
   * ```
   */
  static async create<const S extends ConfigSchema, const P extends readonly Participant<ConfigOf<S>>[]>(
    options: CreateOptions<S, P>,
  ): Promise<ConfigStore<ConfigOf<S>, DerivedOf<P>, ConfigInputOf<S>>> {
    type C = ConfigOf<S>;
    const participants = (options.participants ?? []) as readonly Participant<C>[];
    checkParticipants(participants);
    const validate = compileValidator(options.schema, { ajv: options.ajv });
    const store = new ConfigStore<C, DerivedOf<P>, ConfigInputOf<S>>({
      // Auto-freeze off: a recipe's result is never kept as it is (the validator copies it,
      // sharing only snapshot nodes, and the reconciler freezes what it keeps), and with it
      // on, immer would freeze objects of the caller's that a recipe touches or is applied to.
      immer: new Immer({ autoFreeze: false }),
      participants,
      artifacts: options.artifacts,
      validate,
    });
    const result = await store.reload(options.initial as ConfigInputOf<S>, options.signal === undefined ? {} : { signal: options.signal });
    if (result.commitFailures.length > 0) throw new ReloadError('ERR_COMMIT', result.commitFailures);
    return store;
  }

  /**
   * The live snapshot: one pointer read, no allocation. Two calls with no commit between
   * them return the same object. Capture it once per operation and read from it across
   * awaits for a consistent view.
   */
  load(): Snapshot<T, D> {
    return this.#current as Snapshot<T, D>;
  }

  /**
   * Replaces the config with `next`, or changes it with an immer recipe, as one
   * transaction: waits for the slot, prepares, commits.
   *
   * @throws {ReloadError} `ERR_VALIDATION`, `ERR_PREPARE` or `ERR_ABORTED`; the live snapshot stays the very same object
   * @example
   * ```ts
   * const result = await store.reload(await readConfigFile(path));
   * if (result.status === 'applied') console.log('now at generation', result.snapshot.generation);
   * ```
   */
  async reload(next: I | Recipe<T>, options: ReloadOptions = {}): Promise<ReloadResult<T, D>> {
    const txn = await this.begin(options);
    if (typeof next === 'function') txn.update(next as Recipe<T>);
    else txn.set(next);
    const prepared = await txn.prepare();
    return prepared.commit();
  }

  /**
   * Waits (first come, first served) for the single reload slot and opens a transaction
   * on the live snapshot.
   * @throws {ReloadError} `ERR_ABORTED` when the signal aborts while waiting
   * @example
   * ```ts
   * await using txn = await store.begin({ signal: AbortSignal.timeout(5_000) });
   * txn.update((draft) => { draft.port = 9090; });
   * const prepared = await txn.prepare();     // fallible; nothing visible yet
   * if (!prepared.isUnchanged) prepared.commit();
   * ```
   */
  async begin(options: ReloadOptions = {}): Promise<Transaction<T, D, I>> {
    this.#status.attempted();
    let release;
    try {
      release = await this.#queue.acquire(options.signal);
    } catch (error) {
      this.#status.aborted();
      throw error;
    }
    const txn = new Transaction<T, D, I>(this.#host, release, options.signal);
    this.#open.add(txn);
    return txn;
  }

  /**
   * Reloads with the config `load` returns, for triggers (signals, file watchers, an
   * HTTP endpoint). Requests made while one runs coalesce into one more run (with the
   * latest `load`). Never rejects: resolves to an outcome, also kept in {@link status}.
   * @example
   * ```ts
   * const outcome = await store.requestReload(() => readConfigFile('/etc/mydaemon/config.json'));
   * if (outcome.status === 'rejected') console.warn(outcome.error.code, outcome.error.message);
   * ```
   */
  requestReload(load: () => unknown): Promise<ReloadOutcome<T, D>> {
    return this.#coalescer.run(async () => {
      let next: unknown;
      try {
        next = await load();
      } catch (error) {
        const rejected = new ReloadError('ERR_LOAD', [{ participant: null, phase: 'load', error }]);
        this.#status.attempted();
        this.#status.unsuccessful('rejected', rejected);
        log.store('load failed: %s', rejected.message);
        return { status: 'rejected', error: rejected };
      }
      try {
        const result = await this.reload(next as I);
        if (result.commitFailures.length > 0) {
          return { status: result.status, snapshot: result.snapshot, error: new ReloadError('ERR_COMMIT', result.commitFailures) };
        }
        return { status: result.status, snapshot: result.snapshot };
      } catch (error) {
        if (error instanceof ReloadError) return { status: 'rejected', error };
        // Anything else would be a bug of ours; surface it as a rejection, never lose it.
        return { status: 'rejected', error: new ReloadError('ERR_PREPARE', [{ participant: null, phase: 'prepare', error }]) };
      }
    });
  }

  /**
   * Pins the live snapshot: its artifacts stay GC roots and {@link synchronize} waits
   * until the pin is released. Use with `using`.
   * @example
   * ```ts
   * using pin = store.pin();            // released when the block ends
   * await serveRequest(pin.snapshot);   // one generation for the whole request
   * ```
   */
  pin(): Pin<T, D> {
    return this.#pins.pin(this.load());
  }

  /**
   * Resolves when no pin holds a generation older than the one live now (the drain of
   * old readers). Bounded by a timeout (default 30 s) so one stuck holder cannot hold
   * generations for ever.
   * @throws {SynchronizeError} `ERR_SYNC_TIMEOUT` or `ERR_ABORTED`
   * @example
   * ```ts
   * await store.reload(next);
   * await store.synchronize({ timeoutMs: 10_000 });   // every reader moved on
   * await oldPool.close();
   * ```
   */
  synchronize(options: SynchronizeOptions = {}): Promise<void> {
    return this.#pins.waitUntilNoneBelow(this.load().generation, options);
  }

  /**
   * Calls `listener` after each commit that changed the config (not for unchanged
   * reloads, never for rejected ones). A listener that throws or rejects does not affect
   * the others or the store; it is counted in `status().listenerErrors`.
   * @returns a function that unsubscribes
   * @example
   * ```ts
   * const unsubscribe = store.subscribe(({ snapshot, patches }) => {
   *   console.log(`generation ${snapshot.generation}:`, patches.map((p) => p.path.join('.')));
   * });
   * ```
   */
  subscribe(listener: ChangeListener<T, D>): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** The store's health: generation, digest, counters, last error, pinned generations. */
  status(): ConfigStatus {
    const current = this.#current;
    return this.#status.read(current?.generation ?? 0, current?.digest ?? '', this.#pins.generations());
  }

  /**
   * Removes every artifact no root holds. Roots: the live snapshot, pinned snapshots,
   * open transactions, leases and the artifact store's keep-list.
   * @throws {ConfigurationError} `ERR_NOT_CONFIGURED` without an artifact store
   * @throws {ArtifactError} `ERR_ARTIFACT_IO` when the file system fails
   * @example
   * ```ts
   * const report = await store.collectGarbage({ dryRun: true });
   * for (const { artifact, roots } of report.entries) console.log(artifact.path, roots.map((r) => r.kind));
   * ```
   */
  async collectGarbage(options: CollectGarbageOptions = {}): Promise<GcReport> {
    const artifacts = this.#artifacts;
    if (artifacts === undefined) throw new ConfigurationError('ERR_NOT_CONFIGURED', 'no artifact store: pass `artifacts` to ConfigStore.create()');
    return artifacts.collect({ dryRun: options.dryRun ?? false, roots: () => this.#roots() });
  }

  *#roots(): Iterable<ExternalRoot> {
    const current = this.#current;
    if (current !== null) yield* rootsOf(current.artifacts, 'live', `generation ${current.generation}`);
    for (const snapshot of this.#pins.snapshots()) yield* rootsOf(snapshot.artifacts, 'pin', `generation ${snapshot.generation}`);
    for (const txn of this.#open) yield* rootsOf(txn.artifacts, 'transaction', `on generation ${txn.base?.generation ?? 0}`);
  }

  #settle(transaction: Transaction<T, D, never>, end: TransactionEnd<T, D>): void {
    this.#open.delete(transaction);
    switch (end.kind) {
      case 'applied': {
        const { result } = end;
        if (result.commitFailures.length > 0) this.#status.unsuccessful('failed', new ReloadError('ERR_COMMIT', result.commitFailures));
        else this.#status.succeeded('applied');
        this.#notify(result);
        return;
      }
      case 'unchanged':
        this.#status.succeeded('unchanged');
        return;
      case 'rejected':
        if (end.error.code === 'ERR_ABORTED') this.#status.aborted();
        else this.#status.unsuccessful('rejected', end.error);
        log.store('reload rejected: %s', end.error.message);
        return;
      case 'aborted':
        this.#status.aborted();
        return;
    }
  }

  #notify(event: ChangeEvent<T, D>): void {
    // The commit result itself is the event: frozen, and it carries every field listeners need.
    for (const listener of [...this.#listeners]) {
      try {
        const returned = listener(event);
        if (returned instanceof Promise) returned.catch((error: unknown) => { this.#listenerFailed(error); });
      } catch (error) {
        this.#listenerFailed(error);
      }
    }
  }

  #listenerFailed(error: unknown): void {
    this.#status.listenerFailed();
    log.store('a subscriber failed: %O', error);
  }
}

function* rootsOf(artifacts: readonly Artifact[], kind: 'live' | 'pin' | 'transaction', detail: string): Iterable<ExternalRoot> {
  for (const artifact of artifacts) yield { artifact, root: { kind, detail } };
}

function checkParticipants(participants: readonly Participant[]): void {
  const seen = new Set<string>();
  for (const participant of participants) {
    if (typeof participant.name !== 'string' || participant.name === '') throw new ArgumentError('participants', 'every participant needs a non-empty name');
    if (seen.has(participant.name)) throw new ArgumentError('participants', `two participants are named ${JSON.stringify(participant.name)}`);
    if (typeof participant.prepare !== 'function') throw new ArgumentError('participants', `participant ${participant.name} has no prepare()`);
    seen.add(participant.name);
  }
}
