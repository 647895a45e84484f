/**
 * Watching a config file: survives atomic saves, delete-and-recreate and Kubernetes
 * ConfigMap symlink swaps; decides by content hash; never reports a half-written file.
 */
import { resolve } from 'node:path';
import { resolveFileSystem, type FileSystem } from '../file-system.js';
import { log } from '../internal/debug.js';
import { errnoCode } from '../internal/errno.js';
import { sha256Hex } from '../internal/sha256.js';
import { checkFunction, checkInteger, checkMilliseconds, checkNonEmptyString, checkOptionalFunction } from '../internal/argument-checks.js';
import { PathWatch } from './path-watch.js';
import { checkReadLimits, parseConfigBytes, readConfigBytes, type ReadConfigFileOptions } from './read-config-file.js';

/** What {@link watchConfigFile} passes to `onChange`. */
export interface ConfigChange<T> {
  /** The new config, parsed from exactly the bytes that `digest` names. */
  readonly config: T;
  /** SHA-256 of the file's bytes, lowercase hex. */
  readonly digest: string;
  /** The watched path, as given. */
  readonly path: string;
}

/** Where a watcher failure happened: reading or parsing the file, the `onChange` callback, or the OS watch. */
export type WatchErrorPhase = 'read' | 'change' | 'watch';

/** The second argument of {@link WatchConfigFileOptions.onError}. */
export interface WatchErrorContext {
  /** Which step failed. */
  readonly phase: WatchErrorPhase;
  /** The watched path, as given. */
  readonly path: string;
}

/** Options of {@link watchConfigFile}. */
export interface WatchConfigFileOptions<T = Record<string, unknown>> {
  /** Quiet period: the file is read once no event came for this long. Default 100 ms. */
  readonly debounceMs?: number;
  /** Longest delay between the first event of a burst and the read, so a steady stream of writes still reloads. Default 1000 ms. */
  readonly maxWaitMs?: number;
  /** Safety-net re-read interval, for missed events (network file systems, a replaced directory). `0` disables. Default 5000 ms. */
  readonly pollMs?: number;
  /** Re-reads, `debounceMs` apart, of a file that is missing, empty or invalid before the failure is reported. Default 3. */
  readonly retries?: number;
  /** Also call `onChange` for the content found at start. Default `false`: that content is only the baseline. */
  readonly emitInitial?: boolean;
  /** Reading limits and the file system seam, as for `readConfigFile`. */
  readonly read?: Omit<ReadConfigFileOptions, 'signal'>;
  /** Turns the file's bytes into the config. Default: UTF-8 and strict JSON, as `readConfigFile`. A throw counts as an invalid file. */
  readonly parse?: (bytes: Uint8Array, path: string) => T | Promise<T>;
  /** Receives every failure. Default: log to `txconfig:sources`. Either way `watcher.lastError` records it. */
  readonly onError?: (error: unknown, context: WatchErrorContext) => void;
  /** Whether the OS watch keeps the process alive, as for `fs.watch`. Default `true`. Timers never do. */
  readonly persistent?: boolean;
}

/** Called with each new config; may return a promise. Calls never overlap. */
export type ConfigChangeHandler<T> = (change: ConfigChange<T>) => unknown;

/**
 * Watches a JSON config file and calls `onChange` with its parsed content each time the
 * content changes.
 *
 * Watches the file's directory (and the directory of its resolved target, when it is a
 * symlink), not the file's inode, and re-resolves the path on every read, so editor
 * saves (temp file + rename), delete-and-recreate and Kubernetes ConfigMap updates
 * (`..data` symlink swap) are all seen. Whether something changed is decided by the
 * SHA-256 of the bytes, never by event type or mtime: rewriting identical bytes does not
 * fire. A file that is missing, empty or invalid is re-read after the quiet period and
 * reported to `onError` only if it stays so, once per distinct content; it never reaches
 * `onChange`. Once a failure was reported, the next good content reaches `onChange`
 * even if it is the content last delivered, so the consumer learns the file recovered.
 * Errors thrown by `onChange` (or its rejected promise) go to `onError`.
 *
 * To reload a `ConfigStore`, use `reloadOnFileChange`: it also turns a broken file into
 * a rejected reload in the store's status.
 *
 * @throws {ConfigFileError} `ERR_FILE_NOT_FOUND`, `ERR_FILE_ACCESS`: the directory
 *   cannot be watched. The file itself may be missing at start.
 * @throws {ArgumentError} `ERR_ARGUMENT` naming the bad argument or option: `path`,
 *   `onChange`, `onError`, `parse` (not a function), `debounceMs`, `maxWaitMs`, `pollMs`
 *   (not a finite number >= 0), `retries` (not an integer >= 0), `read.maxBytes`,
 *   `read.maxDepth`.
 * @example
 * ```ts
 * const watcher = watchConfigFile('/etc/mydaemon/limits.json', ({ config, digest }) => rateLimiter.configure(config, digest), {
 *   onError: (error) => logger.warn({ error }, 'limits file not applied'),
 * });
 * // on shutdown:
 * await watcher.close();
 * ```
 */
export function watchConfigFile<T = Record<string, unknown>>(
  path: string,
  onChange: ConfigChangeHandler<T>,
  options: WatchConfigFileOptions<T> = {},
): ConfigWatcher<T> {
  return new ConfigWatcher(path, onChange, options);
}

/** A running {@link watchConfigFile}. Close it (or `using` it) to release every handle. */
export class ConfigWatcher<T = Record<string, unknown>> {
  /** The path as given, for reports. */
  readonly #path: string;
  readonly #absolute: string;
  readonly #onChange: ConfigChangeHandler<T>;
  readonly #onClosed: (() => void) | undefined;
  readonly #onError: ((error: unknown, context: WatchErrorContext) => void) | undefined;
  readonly #parse: (bytes: Uint8Array, path: string) => T | Promise<T>;
  readonly #read: Omit<ReadConfigFileOptions, 'signal'>;
  /** The seam every file system call goes through: reads, and the stat and realpath that follow the path. */
  readonly #fs: FileSystem;
  readonly #debounceMs: number;
  readonly #maxWaitMs: number;
  readonly #retries: number;
  readonly #emitInitial: boolean;
  /** Aborted by close(); cancels the read in flight. */
  readonly #abort = new AbortController();
  readonly #ready: Promise<void>;

  /** True from the first close() on; nothing is scheduled or delivered after that. */
  #closed = false;
  /** The debounce timer; at most one. */
  #timer: NodeJS.Timeout | undefined;
  /** When the first event of the burst not yet read arrived; bounds the wait by maxWaitMs. */
  #burstStart: number | undefined;
  /** The check loop in flight; at most one, so reads and onChange calls never overlap. */
  #running: Promise<void> | undefined;
  /** A check was requested while one ran: run again when it ends. */
  #pending = false;
  /** The read (and parse) in flight, awaited by close() so no file stays open. */
  #reading: Promise<unknown> | undefined;
  /** Consecutive failed reads since the last success; bounded by #retries. */
  #attempts = 0;
  /** Digest of the content last delivered (or taken as baseline); undefined until a read succeeds. */
  #digest: string | undefined;
  /** The failure last reported, so the same missing file or broken bytes are reported once. */
  #reportedFailure: string | undefined;
  #lastError: unknown;
  /** Until the first check ends, a success is the baseline, not a change. */
  #isBaseline = true;
  #poll: NodeJS.Timeout | undefined;
  /** The OS watches: the path's directory, and its symlink target's. */
  readonly #watch: PathWatch;

  /**
   * @internal Use {@link watchConfigFile}.
   * @param onClosed - Runs once, at the first close(), however it is closed: a trigger
   *   unregisters itself from its store there.
   */
  constructor(path: string, onChange: ConfigChangeHandler<T>, options: WatchConfigFileOptions<T>, onClosed?: () => void) {
    checkNonEmptyString('path', path);
    checkFunction('onChange', onChange);
    checkOptionalFunction('onError', options.onError);
    checkOptionalFunction('parse', options.parse);
    this.#path = path;
    this.#absolute = resolve(path);
    this.#onChange = onChange;
    this.#onClosed = onClosed;
    this.#onError = options.onError;
    this.#read = options.read ?? {};
    checkReadLimits(this.#read, 'read.');
    this.#fs = resolveFileSystem(this.#read.fs);
    const maxDepth = this.#read.maxDepth;
    this.#parse =
      options.parse ??
      // Without a parse option T is the default, the JSON object tree.
      ((bytes, source) => parseConfigBytes(bytes, { source, ...(maxDepth === undefined ? {} : { maxDepth }) }) as T);
    const { debounceMs = 100, maxWaitMs = 1000, retries = 3, pollMs = 5000 } = options;
    checkMilliseconds('debounceMs', debounceMs);
    checkMilliseconds('maxWaitMs', maxWaitMs);
    checkMilliseconds('pollMs', pollMs);
    checkInteger('retries', retries, 0);
    this.#debounceMs = debounceMs;
    this.#maxWaitMs = maxWaitMs;
    this.#retries = retries;
    this.#emitInitial = options.emitInitial ?? false;

    // Watch before the baseline read, so a change right after it raises an event.
    this.#watch = new PathWatch(this.#absolute, {
      fs: this.#fs,
      persistent: options.persistent ?? true,
      onEvent: () => {
        this.#schedule();
      },
      onError: (error) => {
        this.#report(error, 'watch');
      },
    });
    if (pollMs > 0) this.#poll = setInterval(() => { this.#schedule(); }, pollMs).unref();
    this.#running = this.#runChecks();
    this.#ready = this.#running;
  }

  /** Resolves once the content at start has been read (or failed to be). Never rejects. */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** SHA-256 of the content last delivered or taken as baseline; `undefined` before any successful read. */
  get digest(): string | undefined {
    return this.#digest;
  }

  /** The last failure, whatever `onError` did with it; `undefined` if none. */
  get lastError(): unknown {
    return this.#lastError;
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Stops watching: closes the OS watches, clears every timer and aborts the read in
   * flight. Resolves when that read has released its file. `onChange` is not called
   * after close() returns; a call already running is not awaited. Idempotent.
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      clearTimeout(this.#timer);
      clearInterval(this.#poll);
      this.#watch.close();
      this.#abort.abort();
      log.sources('stopped watching %s', this.#path);
      try {
        this.#onClosed?.();
      } catch (error) {
        log.sources('a clean-up after closing the watcher of %s failed: %O', this.#path, error);
      }
    }
    return (this.#reading ?? Promise.resolve()).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Same as close(), for `using`. */
  [Symbol.dispose](): void {
    void this.close();
  }

  /** Same as close(), for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Starts or restarts the quiet period, never past maxWaitMs after the burst began. */
  #schedule(delayMs = this.#debounceMs): void {
    if (this.#closed) return;
    const now = Date.now();
    this.#burstStart ??= now;
    clearTimeout(this.#timer);
    const delay = Math.max(0, Math.min(delayMs, this.#burstStart + this.#maxWaitMs - now));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#burstStart = undefined;
      if (this.#running !== undefined) this.#pending = true;
      else this.#running = this.#runChecks();
    }, delay).unref();
  }

  async #runChecks(): Promise<void> {
    try {
      do {
        this.#pending = false;
        await this.#check();
      } while (this.#shouldRunAgain());
    } catch (error) {
      // #check handles every expected failure; this is a bug, but must not go unheard.
      this.#report(error, 'read');
    } finally {
      this.#running = undefined;
    }
  }

  // Methods, not field reads: TypeScript would keep a narrowing of the field across awaits.
  #isClosed(): boolean {
    return this.#closed;
  }

  #shouldRunAgain(): boolean {
    return this.#pending && !this.#closed;
  }

  async #check(): Promise<void> {
    const reading = this.#readAndParse();
    this.#reading = reading;
    const result = await reading;
    this.#reading = undefined;
    const isBaseline = this.#isBaseline;
    this.#isBaseline = false;
    if (this.#isClosed()) return;
    await this.#watch.refresh();
    if (this.#isClosed()) return;

    if (!result.ok) {
      this.#failed(result.error, result.failureKey);
      return;
    }
    this.#attempts = 0;
    // After a reported failure, good content is news even when it is the content last
    // delivered: the consumer (a store's status) learns that the file recovered.
    const recovered = this.#reportedFailure !== undefined;
    this.#reportedFailure = undefined;
    if (result.digest === this.#digest && !recovered) return;
    this.#digest = result.digest;
    if (isBaseline && !this.#emitInitial) {
      // No digest in the log: the file may hold a secret, and a plain hash of it lets
      // anyone who reads the log test guesses offline.
      log.sources('watching %s', this.#path);
      return;
    }
    log.sources('%s changed', this.#path);
    try {
      await this.#onChange({ config: result.config as T, digest: result.digest, path: this.#path });
    } catch (error) {
      this.#report(error, 'change');
    }
  }

  async #readAndParse(): Promise<CheckResult> {
    let bytes: Uint8Array;
    try {
      bytes = await readConfigBytes(this.#absolute, { ...this.#read, fs: this.#fs, signal: this.#abort.signal });
    } catch (error) {
      return { ok: false, error, failureKey: `read:${errnoCode(error) ?? 'unknown'}` };
    }
    const digest = sha256Hex(bytes);
    // Same bytes as the live content: nothing to parse, nothing to deliver (unless they
    // end a reported failure, see #check).
    if (digest === this.#digest && this.#reportedFailure === undefined) return { ok: true, digest, config: undefined };
    try {
      return { ok: true, digest, config: await this.#parse(bytes, this.#path) };
    } catch (error) {
      return { ok: false, error, failureKey: `parse:${digest}` };
    }
  }

  /** A missing, empty or broken file: retry while it may be mid-save, then report once. */
  #failed(error: unknown, failureKey: string): void {
    if (failureKey === this.#reportedFailure) {
      this.#attempts = 0;
      return;
    }
    if (this.#attempts < this.#retries) {
      this.#attempts++;
      log.sources('%s not readable yet (%s), retry %d', this.#path, failureKey, this.#attempts);
      this.#schedule();
      return;
    }
    this.#attempts = 0;
    this.#reportedFailure = failureKey;
    this.#report(error, 'read');
  }

  #report(error: unknown, phase: WatchErrorPhase): void {
    this.#lastError = error;
    log.sources('%s: %s failed: %O', this.#path, phase, error);
    if (this.#onError === undefined) return;
    try {
      this.#onError(error, { phase, path: this.#path });
    } catch (thrown) {
      log.sources('onError threw: %O', thrown);
    }
  }
}

type CheckResult =
  | { readonly ok: true; readonly digest: string; readonly config: unknown }
  | { readonly ok: false; readonly error: unknown; readonly failureKey: string };
