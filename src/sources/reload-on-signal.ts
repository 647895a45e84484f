/**
 * Reloading on a POSIX signal (SIGHUP by convention), through the store's coalescing
 * `requestReload`, so a burst of signals costs at most one extra reload.
 */
import { constants } from 'node:os';
import { ArgumentError } from '../errors.js';
import { log } from '../internal/debug.js';
import type { ReloadResult } from '../transaction/reload-result.js';
import { checkFunction, checkOptionalFunction, describeValue } from '../internal/argument-checks.js';
import { checkRequester, logOutcome, requestAndReport, stopWithStore, type ReloadRequester } from './reload-requester.js';

/** Options of {@link reloadOnSignal}. */
export interface ReloadOnSignalOptions<R extends ReloadResult<unknown, unknown> = ReloadResult<unknown, unknown>> {
  /**
   * The POSIX signal to reload on, by name. Default `'SIGHUP'`. Not an `AbortSignal`:
   * stop the trigger with the function {@link reloadOnSignal} returns, or by closing
   * the store.
   */
  readonly signal?: NodeJS.Signals;
  /**
   * Called with the result of each reload a signal requested (a burst that coalesced
   * shares one) and the signal's name. May return a promise. Default: log to
   * `txconfig:sources`. A throw or a rejected promise here is logged there too, never
   * left to crash the process.
   */
  readonly onOutcome?: (result: R, signal: NodeJS.Signals) => void | PromiseLike<void>;
}

/** Removes the signal handler of {@link reloadOnSignal}; calling it again does nothing. Also `using`-disposable. */
export type StopReloadOnSignal = (() => void) & Disposable;

/** Signals a process can receive but never handle. */
const UNCATCHABLE: ReadonlySet<string> = new Set(['SIGKILL', 'SIGSTOP']);

/**
 * Reloads the store each time the process receives a signal (`SIGHUP` unless
 * `options.signal` says otherwise): every signal calls `store.requestReload(load)`, so
 * signals arriving during a reload coalesce into one more reload, which reads the file
 * as it is by then.
 *
 * Installing a handler replaces Node's default action for the signal (for SIGHUP:
 * exit), until the returned function removes it or the store closes (`store.close()`
 * removes it when the store offers `onClose`, as `ConfigStore` does). The handler does
 * not keep the process alive. With systemd, `ExecReload=kill -HUP $MAINPID` makes
 * `systemctl reload` use it.
 *
 * @param store - Anything with a `requestReload`, such as a `ConfigStore`.
 * @param load - Produces the next config, e.g. `() => readConfigFile(path)`; its
 *   failures end the reload as `rejected` (`ERR_LOAD`), and the live config stays.
 * @returns A function that removes the handler (and unregisters it from the store).
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `store` (no `requestReload`), `load` or
 *   `onOutcome` (not a function), or `signal` (not a signal name, or one that cannot be
 *   handled: SIGKILL, SIGSTOP).
 * @example
 * ```ts
 * const stop = reloadOnSignal(store, () => readConfigFile('/etc/mydaemon/config.json'), {
 *   onOutcome: ({ status, error }) => logger.info({ status, error }, 'reload on SIGHUP'),
 * });
 * // on shutdown: await store.close() removes it, or by hand:
 * stop();
 * ```
 */
export function reloadOnSignal<R extends ReloadResult<unknown, unknown>>(
  store: ReloadRequester<R>,
  load: () => unknown,
  options: ReloadOnSignalOptions<NoInfer<R>> = {},
): StopReloadOnSignal {
  checkRequester(store);
  checkFunction('load', load);
  checkOptionalFunction('onOutcome', options.onOutcome);
  const signal = options.signal ?? 'SIGHUP';
  checkSignal(signal);
  const onOutcome = options.onOutcome ?? logOutcome;

  const handler = (): void => {
    log.sources('%s received: requesting a reload', signal);
    void requestAndReport(store, load, onOutcome, signal, signal);
  };
  try {
    process.on(signal, handler);
  } catch (error) {
    // libuv refuses what the OS does not let a process handle.
    throw new ArgumentError('signal', `${signal} cannot be handled`, { cause: error });
  }

  let installed = true;
  const remove = (): void => {
    if (!installed) return;
    installed = false;
    process.removeListener(signal, handler);
    log.sources('stopped reloading on %s', signal);
  };
  const forget = stopWithStore(store, remove);
  const stop = (): void => {
    forget();
    remove();
  };
  return Object.assign(stop, { [Symbol.dispose]: stop });
}

function checkSignal(signal: unknown): asserts signal is NodeJS.Signals {
  if (typeof signal !== 'string' || !Object.hasOwn(constants.signals, signal)) {
    throw new ArgumentError('signal', `must be the name of a POSIX signal such as 'SIGHUP', got ${typeof signal === 'string' ? JSON.stringify(signal) : describeValue(signal)}`);
  }
  if (UNCATCHABLE.has(signal)) throw new ArgumentError('signal', `${signal} cannot be handled`);
}
