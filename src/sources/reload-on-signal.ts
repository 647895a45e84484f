/**
 * Reloading on a POSIX signal (SIGHUP by convention), through the store's coalescing
 * `requestReload`, so a burst of signals costs at most one extra reload.
 */
import { log } from '../internal/debug.js';

/** How a requested reload ended; `ConfigStore.requestReload` resolves to one. */
export interface ReloadRequestOutcome {
  /** Whether the reload committed, found nothing to change, or did not happen. */
  readonly status: 'applied' | 'unchanged' | 'rejected';
  /** Why the reload was rejected. */
  readonly error?: unknown;
}

/**
 * What {@link reloadOnSignal} needs from a store: a `ConfigStore` qualifies. Bursts of
 * requests made while a reload runs should coalesce into one more, and the promise
 * should never reject.
 */
export interface ReloadRequester {
  /** Reloads with what `loadFn` returns (or resolves to), coalescing bursts; resolves to the outcome, never rejects. */
  requestReload(loadFn: () => unknown): Promise<ReloadRequestOutcome>;
}

/** Options of {@link reloadOnSignal}. */
export interface ReloadOnSignalOptions {
  /**
   * Called with the outcome of each reload a signal requested (a burst that coalesced
   * may share one). Default: log to `txconfig:sources`. A throw here is logged.
   */
  readonly onOutcome?: (outcome: ReloadRequestOutcome, signal: NodeJS.Signals) => void;
}

/** Removes the signal handler of {@link reloadOnSignal}; calling it again does nothing. Also `using`-disposable. */
export type StopReloadOnSignal = (() => void) & Disposable;

/**
 * Reloads the store each time the process receives `signal`: every signal calls
 * `store.requestReload(loadFn)`, so signals arriving during a reload coalesce into one
 * more reload, which reads the file as it is by then.
 *
 * Installing a handler replaces Node's default action for the signal (for SIGHUP:
 * exit), until the returned function removes it. The handler does not keep the process
 * alive. With systemd, `ExecReload=kill -HUP $MAINPID` makes `systemctl reload` use it.
 *
 * @param store - Anything with a `requestReload`, such as a `ConfigStore`.
 * @param signal - Default `'SIGHUP'`. SIGKILL and SIGSTOP cannot be handled.
 * @param loadFn - Produces the next config, e.g. `() => readConfigFile(path)`; its
 *   failures reach the outcome (`status: 'rejected'`), and the live config stays.
 * @returns A function that removes the handler.
 * @throws The error of `process.on` when the signal cannot be handled (SIGKILL, SIGSTOP).
 * @example
 * ```ts
 * const stop = reloadOnSignal(store, 'SIGHUP', () => readConfigFile('/etc/mydaemon/config.json'), {
 *   onOutcome: ({ status, error }) => logger.info({ status, error }, 'reload on SIGHUP'),
 * });
 * // on shutdown:
 * stop();
 * ```
 */
export function reloadOnSignal(
  store: ReloadRequester,
  signal: NodeJS.Signals = 'SIGHUP',
  loadFn: () => unknown,
  options: ReloadOnSignalOptions = {},
): StopReloadOnSignal {
  const onOutcome = options.onOutcome ?? logOutcome;

  const deliver = (outcome: ReloadRequestOutcome): void => {
    try {
      onOutcome(outcome, signal);
    } catch (error) {
      log.sources('onOutcome threw after %s: %O', signal, error);
    }
  };

  const handler = (): void => {
    log.sources('%s received: requesting a reload', signal);
    let request: Promise<ReloadRequestOutcome>;
    try {
      request = store.requestReload(loadFn);
    } catch (error) {
      // The contract says it never throws; a store that does still must not crash us.
      deliver({ status: 'rejected', error });
      return;
    }
    request.then(deliver, (error: unknown) => {
      deliver({ status: 'rejected', error });
    });
  };

  process.on(signal, handler);
  let installed = true;
  const stop = (): void => {
    if (!installed) return;
    installed = false;
    process.removeListener(signal, handler);
  };
  return Object.assign(stop, { [Symbol.dispose]: stop });
}

function logOutcome(outcome: ReloadRequestOutcome, signal: NodeJS.Signals): void {
  if (outcome.status === 'rejected') log.sources('reload on %s rejected: %O', signal, outcome.error);
  else log.sources('reload on %s: %s', signal, outcome.status);
}
