import { Immer, enablePatches, freeze } from 'immer';
import type { Artifact } from '../artifacts/artifact.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { ExternalRoot, GcReport } from '../artifacts/gc-report.js';
import { ConfigurationError, InternalError, ReloadError, hasErrorCode, isReloadError, type ReloadFailure } from '../errors.js';
import { checkFunction, checkOptionalBoolean, checkOptionalSignal } from '../internal/argument-checks.js';
import { log } from '../internal/debug.js';
import { Subscribers, type ChangeListener } from '../pipeline/subscribers.js';
import type { ConfigInputOf, ConfigOf, ConfigSchema } from '../schema/schema-types.js';
import { compileValidator, isStandardSchema } from '../schema/validator.js';
import { compileTextConversion } from '../schema/text-conversion.js';
import { explainValue, type ConfigProvenance } from '../pipeline/config-provenance.js';
import type { Explanation } from '../origin.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { checkParticipants, type DerivedOf, type Participant } from '../transaction/participant.js';
import { ReloadQueue } from '../transaction/reload-queue.js';
import type { ChangeEvent, ReloadCommitted, ReloadResult } from '../transaction/reload-result.js';
import { RequestCoalescer } from '../transaction/request-coalescer.js';
import type { Recipe } from '../pipeline/stage-input.js';
import { Transaction, provenanceOf, referencesOf, stageReadingOf, type TransactionOptions } from '../transaction/transaction.js';
import { SecretWatches, SensitiveConfig, StoreSecrets, redactExplanation, withReferences } from './store-secrets.js';
import type { OpenTransaction, TransactionHost } from '../transaction/transaction-host.js';
import { SourceBinding, type SourceReading } from './config-source.js';
import { checkCreateOptions, type CreateOptions } from './create-options.js';
import { PinRegistry, type Pin, type SynchronizeOptions } from './pin-registry.js';
import { StatusRecorder, type ConfigStatus } from './status-recorder.js';

export type { ChangeListener } from '../pipeline/subscribers.js';

// Patches are an immer plugin; enabling it is idempotent and changes nothing else.
enablePatches();

/** Options of {@link ConfigStore.begin} and {@link ConfigStore.reload}. */
export type ReloadOptions = TransactionOptions;

/** The types a store was created with, as inferred from its schema and participants. */
type StoreTypes<S> = S extends ConfigStore<infer T, infer D, infer I> ? { readonly config: T; readonly derived: D; readonly input: I } : never;

/** The config type of a store: `StoreConfig<typeof store>`. */
export type StoreConfig<S> = StoreTypes<S>['config'];

/** The derived state of a store, keyed by participant name: `StoreDerived<typeof store>`. */
export type StoreDerived<S> = StoreTypes<S>['derived'];

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
  readonly #coalescer = new RequestCoalescer<ReloadResult<T, D>>();
  readonly #pins = new PinRegistry<T, D>();
  readonly #status = new StatusRecorder();
  readonly #subscribers = new Subscribers<ChangeEvent<T, D>>(() => {
    this.#status.listenerFailed();
  });
  // Open transactions: their artifacts are GC roots until they end.
  readonly #open = new Set<OpenTransaction>();
  readonly #host: TransactionHost<T, D>;
  readonly #artifacts: ArtifactStore | undefined;
  // Clean-ups close() runs, in reverse order of registration (triggers, watchers).
  readonly #closeHooks = new Set<() => void | Promise<void>>();
  // Where the config comes from, when the store was created with a source.
  readonly #source: SourceBinding | undefined;
  // Where each value of the live config came from: replaced with #current at each commit,
  // and by an unchanged reload too (the same values may now come from other layers).
  #provenance: ConfigProvenance | undefined;
  // The secret references the live config was resolved from, each watched while it is
  // live: a rotation reloads.
  readonly #secrets: SecretWatches;
  // The sensitive paths of each generation (option, schema, its resolved references).
  readonly #sensitive: SensitiveConfig;
  // Set by the first close(); every later close() returns it.
  #closing: Promise<void> | null = null;

  private constructor(host: Omit<TransactionHost<T, D>, 'live' | 'settle' | 'swap' | 'freeze' | 'provenance' | 'liveReferences'>, source: SourceBinding | undefined, sensitive: SensitiveConfig) {
    this.#artifacts = host.artifacts;
    this.#source = source;
    this.#secrets = new SecretWatches(host.resolvers, () => void this.#rotate());
    this.#sensitive = sensitive;
    this.#host = {
      ...host,
      freeze: (value) => freeze(value, true),
      live: () => this.#current,
      provenance: () => this.#provenance,
      liveReferences: () => this.#secrets.references,
      swap: (snapshot) => {
        this.#current = snapshot;
      },
      settle: (transaction, result) => {
        this.#settle(transaction, result);
      },
    };
  }

  /**
   * Creates a store and commits `initial` through the same transaction path as every
   * reload: a config that a reload would reject is rejected here, with the same error.
   *
   * @throws {ConfigurationError} `ERR_SCHEMA` (the schema does not compile)
   * @throws {ArgumentError} `ERR_ARGUMENT` (no options object, `artifacts` that is not an ArtifactStore, participants without a unique, non-empty name or without `prepare`, a bad `signal`)
   * @throws {ReloadError} `ERR_VALIDATION`, `ERR_UNSAFE_KEY`, `ERR_PREPARE`, `ERR_ABORTED`; `ERR_LOAD` when the `source` cannot be read (a `ConflictError`, a `ParseError`… as its cause); `ERR_COMMIT` when a commit hook failed
   * @throws whatever the `source`'s `watch()` throws (the store and the source are closed first)
   * @example
   * ```ts
   * const store = await ConfigStore.create({ schema, initial: await readConfigFile('config.json') });
   * ```
   */
  static async create<const S extends ConfigSchema, const P extends readonly Participant<ConfigOf<S>>[]>(
    options: CreateOptions<S, P>,
  ): Promise<ConfigStore<ConfigOf<S>, DerivedOf<P>, ConfigInputOf<S>>> {
    type C = ConfigOf<S>;
    checkCreateOptions(options);
    const participants = checkParticipants((options.participants ?? []) as readonly Participant<C>[]);
    const validate = compileValidator(options.schema, { ajv: options.ajv });
    const source = options.source === undefined ? undefined : new SourceBinding(options.source);
    const sensitive = new SensitiveConfig(options.sensitive, options.schema);
    const secrets = new StoreSecrets(options, !sensitive.base.isEmpty);
    const store = new ConfigStore<C, DerivedOf<P>, ConfigInputOf<S>>({
      // Auto-freeze off: a recipe's result is never kept as it is (the validator copies it,
      // sharing only snapshot nodes, and the reconciler freezes what it keeps), and with it
      // on, immer would freeze objects of the caller's that a recipe touches or is applied to.
      immer: new Immer({ autoFreeze: false }),
      participants,
      artifacts: options.artifacts,
      validate,
      changes: 'changes' in validate ? validate.changes : undefined,
      convertTexts: isStandardSchema(options.schema) ? undefined : compileTextConversion(options.schema),
      resolvers: secrets.resolvers,
      publishDigest: (digest) => secrets.publish(digest),
      sensitive: (references, config) => sensitive.of(references, config),
    }, source, sensitive);
    // Closed with the store, after the watch stopped (close hooks run in reverse order).
    if (source !== undefined) store.onClose(() => source.close());
    store.onClose(() => {
      store.#secrets.stop();
    });
    const signalOption = options.signal === undefined ? {} : { signal: options.signal };
    let result: ReloadCommitted<C, DerivedOf<P>>;
    try {
      const reading = source === undefined ? { value: options.initial } : await source.readAtColdStart(options.signal);
      result = await store.#reloadReading(reading, source?.layer ?? 'initial', signalOption);
    } catch (error) {
      // The caller never gets this store: the source it was given is closed here.
      await source?.close().catch((closing: unknown) => {
        log.store('closing the source of a failed cold start failed too: %O', closing);
      });
      throw error;
    }
    if (result.status === 'applied' && result.error !== undefined) {
      // The caller never gets this store: close it, so the participants that did switch
      // release what they hold. Its own failures are logged; the commit failure is the news.
      await store.close().catch((error: unknown) => {
        log.store('closing the store of a failed cold start failed too: %O', error);
      });
      throw result.error;
    }
    try {
      store.#watchSource();
    } catch (error) {
      // The caller never gets this store: close it (and its source) before reporting.
      await store.close().catch((closing: unknown) => {
        log.store('closing the store whose source could not be watched failed too: %O', closing);
      });
      throw error;
    }
    return store;
  }

  /** Once the cold start committed: reloads on every change the source reports, and closes it with the store. */
  #watchSource(): void {
    const source = this.#source;
    if (source === undefined) return;
    this.onClose(
      source.watch(() => {
        void this.refresh();
      }),
    );
  }

  /**
   * Reads the source again now and reloads with what it read, as `requestReload` does:
   * bursts coalesce into at most one more reload, and the promise resolves to how it
   * ended (`rejected` with `ERR_LOAD` when the source could not be read), never rejects.
   * @throws {ConfigurationError} `ERR_NOT_CONFIGURED` when the store was created with `initial`, not a `source`
   * @example
   * ```ts
   * process.on('SIGHUP', () => void store.refresh());
   * ```
   */
  refresh(): Promise<ReloadResult<T, D>> {
    const source = this.#source;
    if (source === undefined) throw new ConfigurationError('ERR_NOT_CONFIGURED', 'no source to refresh from: pass `source` to ConfigStore.create()');
    return this.#requestReading(() => source.read(), source.layer);
  }

  /**
   * Where the live value at `pointer` came from: the layer that set it (`defaults`,
   * `file`, `directory`, `env`, `argv`, a source's own; `reload` for a value given to
   * `reload()`, `update` for a path a recipe wrote, `schema` for a default the schema
   * filled in), its place there (file with line and column, variable, flag), and the
   * values of lower layers it shadowed. Sensitive values are never shown (DESIGN.md §5.3).
   * @throws {ArgumentError} `ERR_ARGUMENT` naming `pointer` when it is not a JSON Pointer or the live config has no value there
   * @example
   * ```ts
   * store.explain('/server/port');
   * // { pointer: '/server/port', value: 9090, layer: 'env', origin: { env: 'APP_SERVER__PORT' },
   * //   shadowed: [{ layer: 'file', origin: { file: '/etc/app/config.yaml', line: 2, column: 9 }, value: 8080 }] }
   * ```
   */
  explain(pointer: string): Explanation {
    const explained = explainValue(this.load().config, this.#provenance, pointer);
    // The live generation's own sensitive paths: right from the swap, commit hooks included.
    return redactExplanation(explained, this.#sensitive.ofConfig(this.load().config));
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
   * @throws {ReloadError} `ERR_VALIDATION`, `ERR_UNSAFE_KEY`, `ERR_PREPARE`, `ERR_ABORTED`, `ERR_ROLLBACK`
   *   (aborted, and a rollback hook failed) or `ERR_CLOSED`; the live snapshot stays the very same object
   * @throws {ArgumentError} `ERR_ARGUMENT` for a bad option (see {@link begin})
   * @example
   * ```ts
   * const result = await store.reload(await readConfigFile(path));
   * if (result.status === 'applied') console.log('now at generation', result.snapshot.generation);
   * ```
   */
  async reload(next: I | Recipe<T>, options: ReloadOptions = {}): Promise<ReloadCommitted<T, D>> {
    const txn = await this.begin(options);
    if (typeof next === 'function') txn.update(next as Recipe<T>);
    else txn.set(next);
    const prepared = await txn.prepare();
    return prepared.commit();
  }

  /**
   * Waits (first come, first served) for the single reload slot and opens a transaction
   * on the live snapshot.
   * @throws {ReloadError} `ERR_ABORTED` when the signal aborts while waiting, `ERR_CLOSED` once the store is closed
   * @throws {ArgumentError} `ERR_ARGUMENT` when `signal` is not an AbortSignal or `force` not a boolean
   * @example
   * ```ts
   * await using txn = await store.begin({ signal: AbortSignal.timeout(5_000) });
   * txn.update((draft) => { draft.port = 9090; });
   * const prepared = await txn.prepare();     // fallible; nothing visible yet
   * if (!prepared.isUnchanged) prepared.commit();
   * ```
   */
  async begin(options: ReloadOptions = {}): Promise<Transaction<T, D, I>> {
    checkOptionalSignal('signal', options.signal);
    checkOptionalBoolean('force', options.force);
    if (this.#closing !== null) throw closedError();
    this.#status.attempted();
    let release;
    try {
      release = await this.#queue.acquire(options.signal);
    } catch (error) {
      if (isReloadError(error)) this.#status.record({ status: 'aborted', snapshot: this.load(), error });
      throw error;
    }
    const txn = new Transaction<T, D, I>(this.#host, release, options);
    this.#open.add(txn);
    return txn;
  }

  /**
   * Reloads with the config `load` returns, for triggers (signals, file watchers, an
   * HTTP endpoint). Requests made while one runs coalesce into one more run (with the
   * latest `load`). Never rejects: resolves to how the reload ended, also kept in
   * {@link status}; a `load` that throws is a `rejected` reload (`ERR_LOAD`).
   * @throws {ArgumentError} `ERR_ARGUMENT`, synchronously, when `load` is not a function
   * @example
   * ```ts
   * const result = await store.requestReload(() => readConfigFile('/etc/mydaemon/config.json'));
   * if (result.status === 'rejected') console.warn(result.error.code, result.error.message);
   * ```
   */
  requestReload(load: () => unknown): Promise<ReloadResult<T, D>> {
    checkFunction('load', load);
    return this.#requestReading(async () => ({ value: await load() }), 'reload');
  }

  /** requestReload() of a reading: its value, with its origins (`layer` when it has none). */
  #requestReading(read: () => Promise<SourceReading>, layer: string): Promise<ReloadResult<T, D>> {
    return this.#coalescer.run(async () => {
      let reading: SourceReading;
      try {
        reading = await read();
      } catch (error) {
        const rejected = new ReloadError('ERR_LOAD', [{ participant: null, phase: 'load', error }]);
        const result: ReloadResult<T, D> = { status: 'rejected', snapshot: this.load(), error: rejected };
        if (this.#closing !== null) return { status: 'aborted', snapshot: this.load(), error: closedError() };
        this.#status.attempted();
        this.#status.record(result);
        log.store('load failed: %s', rejected.message);
        return result;
      }
      try {
        return await this.#reloadReading(reading, layer);
      } catch (error) {
        return this.#unreloaded(error);
      }
    });
  }

  /** reload() of a whole value read from a source, with its origins. */
  async #reloadReading(reading: SourceReading, layer: string, options: ReloadOptions = {}): Promise<ReloadCommitted<T, D>> {
    const txn = await this.begin(options);
    stageReadingOf(txn, reading.value, layer, reading.origins);
    const prepared = await txn.prepare();
    return prepared.commit();
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
   * @throws {ArgumentError} `ERR_ARGUMENT` when `timeoutMs` is not a number >= 0 (`NaN` included)
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
   * reloads, never for rejected ones) with the `applied` result itself, frozen. A
   * listener that throws or rejects does not affect the others or the store; it is
   * counted in `status().listenerErrors`.
   * @returns a function that unsubscribes
   * @throws {ArgumentError} `ERR_ARGUMENT` when `listener` is not a function
   * @example
   * ```ts
   * const unsubscribe = store.subscribe(({ snapshot, patches }) => {
   *   console.log(`generation ${snapshot.generation}:`, patches.map((p) => p.path.join('.')));
   * });
   * ```
   */
  subscribe(listener: ChangeListener<ChangeEvent<T, D>>): () => void {
    checkFunction('listener', listener);
    return this.#subscribers.add(listener);
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
    checkOptionalBoolean('dryRun', options.dryRun);
    const artifacts = this.#artifacts;
    if (artifacts === undefined) throw new ConfigurationError('ERR_NOT_CONFIGURED', 'no artifact store: pass `artifacts` to ConfigStore.create()');
    return artifacts.collect({ dryRun: options.dryRun ?? false, roots: () => this.#roots() });
  }

  /**
   * Registers a clean-up for {@link close} to run: triggers and watchers that reload this
   * store (`reloadOnSignal`, `reloadOnFileChange`) register their own stop here. Hooks
   * run in reverse order of registration. On a store already closed, `hook` runs at once
   * (in a microtask), and a failure of it is logged.
   * @returns a function that unregisters the hook (a trigger stopped by hand calls it)
   * @throws {ArgumentError} `ERR_ARGUMENT` when `hook` is not a function
   */
  onClose(hook: () => void | Promise<void>): () => void {
    checkFunction('hook', hook);
    if (this.#closing !== null) {
      void Promise.resolve()
        .then(hook)
        .catch((error: unknown) => {
          log.store('a clean-up registered after close failed: %O', error);
        });
      return () => undefined;
    }
    this.#closeHooks.add(hook);
    return () => {
      this.#closeHooks.delete(hook);
    };
  }

  /**
   * Closes the store: refuses every reload still waiting and every later one with
   * `ERR_CLOSED`, stops its triggers and watchers (the {@link onClose} hooks), waits for
   * the transaction that holds the slot to end, then calls each participant's optional
   * `close()` in reverse registration order. `load()`, pins and garbage collection keep
   * working on the last snapshot. Calling it again returns the same promise.
   * @throws {ReloadError} `ERR_CLOSED` naming every clean-up that failed (all of them ran; the store is closed)
   * @example
   * ```ts
   * process.once('SIGTERM', () => { void store.close().then(() => server.close()); });
   * ```
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async #shutDown(): Promise<void> {
    // First, in the turn close() was called: no reload waiting now or asked for later can
    // get the slot, even if the running one ends while a clean-up below awaits.
    this.#queue.close(closedError);
    const failures: ReloadFailure[] = [];
    for (const hook of [...this.#closeHooks].reverse()) {
      try {
        await hook();
      } catch (error) {
        failures.push({ participant: null, phase: 'close', error });
      }
    }
    this.#closeHooks.clear();
    await this.#queue.idle();
    for (const participant of [...this.#host.participants].reverse()) {
      try {
        await participant.close?.();
      } catch (error) {
        failures.push({ participant: participant.name, phase: 'close', error });
      }
    }
    log.store('closed at generation %d, %d clean-up failure(s)', this.#current?.generation ?? 0, failures.length);
    if (failures.length > 0) throw new ReloadError('ERR_CLOSED', failures, `store closed, but ${failures.length} clean-up(s) failed`);
  }

  /** The result of a requested reload that threw: its rejection, or, for anything but a ReloadError, a bug of ours. */
  #unreloaded(error: unknown): ReloadResult<T, D> {
    const snapshot = this.load();
    if (!isReloadError(error)) {
      const internal = new ReloadError('ERR_INTERNAL', [{ participant: null, phase: 'prepare', error: new InternalError('a reload failed with an unexpected error', { cause: error }) }]);
      const result: ReloadResult<T, D> = { status: 'rejected', snapshot, error: internal };
      this.#status.record(result);
      log.store('a requested reload failed with an unexpected error: %O', error);
      return result;
    }
    const cancelled = hasErrorCode(error, 'ERR_ABORTED', 'ERR_CLOSED', 'ERR_ROLLBACK');
    return cancelled ? { status: 'aborted', snapshot, error } : { status: 'rejected', snapshot, error };
  }

  *#roots(): Iterable<ExternalRoot> {
    const current = this.#current;
    if (current !== null) yield* rootsOf(current.artifacts, 'live', `generation ${current.generation}`);
    for (const snapshot of this.#pins.snapshots()) yield* rootsOf(snapshot.artifacts, 'pin', `generation ${snapshot.generation}`);
    for (const txn of this.#open) yield* rootsOf(txn.artifacts, 'transaction', `on generation ${txn.base?.generation ?? 0}`);
  }

  /** A secret changed: read the source again, or reload the live config with its references put back. */
  #rotate(): Promise<ReloadResult<T, D>> {
    if (this.#source !== undefined) return this.refresh();
    const { references } = this.#secrets;
    return this.#requestReading(() => Promise.resolve({ value: withReferences(this.load().config, references) }), 'reload');
  }

  #settle(transaction: OpenTransaction, result: ReloadResult<T, D>): void {
    this.#open.delete(transaction);
    if (result.status === 'applied' || result.status === 'unchanged') {
      this.#provenance = provenanceOf(transaction) ?? this.#provenance;
      if (this.#closing === null) this.#secrets.watch(referencesOf(transaction));
    }
    this.#status.record(result);
    if (result.status === 'rejected') log.store('reload rejected: %s', result.error.message);
    if (result.status === 'applied') this.#subscribers.notify(result);
  }
}

function* rootsOf(artifacts: readonly Artifact[], kind: 'live' | 'pin' | 'transaction', detail: string): Iterable<ExternalRoot> {
  for (const artifact of artifacts) yield { artifact, root: { kind, detail } };
}

function closedError(): ReloadError {
  return new ReloadError('ERR_CLOSED', [{ participant: null, phase: 'wait', error: new Error('the store is closed') }], 'the store is closed');
}
