/**
 * Reloading when a config file changes: `watchConfigFile` wired to the store's
 * coalescing `requestReload`, so that every content the watcher sees, good or broken,
 * ends as a reload in the store's status.
 */
import type { ReloadResult } from '../transaction/reload-result.js';
import { checkOptionalFunction } from '../internal/argument-checks.js';
import { checkRequester, logOutcome, requestAndReport, stopWithStore, type ReloadRequester } from './reload-requester.js';
import { ConfigWatcher, type WatchConfigFileOptions, type WatchErrorContext } from './watch-config-file.js';

/** Options of {@link reloadOnFileChange}: the watcher's, plus `onOutcome`. */
export interface ReloadOnFileChangeOptions<R extends ReloadResult<unknown, unknown> = ReloadResult<unknown, unknown>, C = Record<string, unknown>>
  extends WatchConfigFileOptions<C> {
  /**
   * Called with the result of each reload the file requested (a new content, or a
   * failure to read or parse it) and the watched path. May return a promise. Default:
   * log to `txconfig:sources`. A throw or a rejected promise here is logged there too,
   * never left to crash the process.
   */
  readonly onOutcome?: (result: R, path: string) => void | PromiseLike<void>;
}

/**
 * Reloads the store whenever the config file at `path` changes, through
 * `store.requestReload`: new content is reloaded (`requestReload(() => config)`), and a
 * file that stays missing, unreadable or invalid after the watcher's retries is a
 * rejected reload (`ERR_LOAD`, with the reader's error as the cause: `ERR_PARSE`,
 * `ERR_FILE_NOT_FOUND`, …), so `store.status()` never reports a broken file as healthy.
 * The live config stays as it was on a rejection. Good content after a failure is
 * reloaded even when it equals the live config, so the status turns healthy again.
 *
 * The watcher is {@link watchConfigFile}'s, with all its options; its `onError` still
 * receives every failure. Closing the store (`store.close()`, when the store offers
 * `onClose` as `ConfigStore` does) closes the watcher; closing the watcher by hand
 * unregisters it from the store.
 *
 * @param store - Anything with a `requestReload`, such as a `ConfigStore`.
 * @param path - The config file; its directory must exist, the file need not yet.
 * @returns The running watcher: `await watcher.ready` for the first read, `close()` to stop.
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `store` (no `requestReload`),
 *   `onOutcome` (not a function), or any argument {@link watchConfigFile} refuses.
 * @throws {ConfigFileError} `ERR_FILE_NOT_FOUND`, `ERR_FILE_ACCESS`: the directory
 *   cannot be watched.
 * @example
 * ```ts
 * const path = '/etc/mydaemon/config.json';
 * const store = await ConfigStore.create({ schema, initial: await readConfigFile(path) });
 * reloadOnFileChange(store, path, {
 *   onOutcome: (result) => {
 *     if (result.status === 'rejected') logger.warn({ code: result.error.code }, 'config file not applied');
 *   },
 * });
 * // on shutdown: closes the watcher too
 * await store.close();
 * ```
 */
export function reloadOnFileChange<R extends ReloadResult<unknown, unknown>, C = Record<string, unknown>>(
  store: ReloadRequester<R>,
  path: string,
  options: ReloadOnFileChangeOptions<NoInfer<R>, C> = {},
): ConfigWatcher<C> {
  checkRequester(store);
  checkOptionalFunction('onOutcome', options.onOutcome);
  checkOptionalFunction('onError', options.onError);
  const { onOutcome = logOutcome, onError, ...watchOptions } = options;

  const onFailure = (error: unknown, context: WatchErrorContext): void => {
    // Only a read (or parse) failure says what the file holds; a failed OS watch does not.
    if (context.phase === 'read') {
      // The load fails with the reader's error: the store records ERR_LOAD caused by it.
      const failedRead = (): never => {
        throw error;
      };
      void requestAndReport(store, failedRead, onOutcome, path, path);
    }
    onError?.(error, context);
  };
  let forget = (): void => undefined;
  const watcher = new ConfigWatcher<C>(
    path,
    // Awaited by the watcher, so its next change comes after this reload ended.
    ({ config }) => requestAndReport(store, () => config, onOutcome, path, path),
    { ...watchOptions, onError: onFailure },
    () => {
      forget();
    },
  );
  try {
    forget = stopWithStore(store, () => watcher.close());
  } catch (error) {
    // A store that cannot take the hook: no watcher may outlive this call unseen.
    void watcher.close();
    throw error;
  }
  return watcher;
}
