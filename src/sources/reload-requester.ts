/**
 * What a trigger needs from a store ({@link ReloadRequester}), and the one way every
 * trigger asks for a reload, reports its result and stops with the store, so that
 * `reloadOnSignal` and `reloadOnFileChange` fail alike.
 */
import { log } from '../internal/debug.js';
import { isThenable } from '../internal/is-thenable.js';
import type { ReloadResult } from '../transaction/reload-result.js';
import { checkFunction, describeValue } from '../internal/argument-checks.js';
import { ArgumentError } from '../errors.js';

/**
 * What triggers (`reloadOnSignal`, `reloadOnFileChange`) need from a store; a
 * `ConfigStore` qualifies. `requestReload` should coalesce requests made while a reload
 * runs into one more, and its promise should never reject.
 *
 * @typeParam R - What `requestReload` resolves to: `ReloadResult<T, D>` for a
 *   `ConfigStore<T, D>`, so a trigger's `onOutcome` sees the store's types.
 */
export interface ReloadRequester<R extends ReloadResult<unknown, unknown> = ReloadResult<unknown, unknown>> {
  /** Reloads with what `load` returns (or resolves to); resolves to how the reload ended, never rejects. */
  requestReload(load: () => unknown): Promise<R>;
  /**
   * Registers a clean-up that closing the store runs; returns a function that
   * unregisters it. Optional: a trigger on a store without it is stopped by hand only.
   */
  onClose?(hook: () => void | Promise<void>): () => void;
}

/** Receives the result of each reload a trigger requested, and where the request came from. */
export type OutcomeHandler<R, S> = (result: R, source: S) => void | PromiseLike<void>;

/**
 * Checks that `store` has a `requestReload` (and, when given, an `onClose`) method.
 *
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `store`.
 */
export function checkRequester(store: unknown): asserts store is ReloadRequester {
  if (typeof store !== 'object' || store === null) throw new ArgumentError('store', `must be a store with requestReload(), got ${describeValue(store)}`);
  const { requestReload, onClose } = store as Partial<Record<'requestReload' | 'onClose', unknown>>;
  checkFunction('store.requestReload', requestReload);
  if (onClose !== undefined) checkFunction('store.onClose', onClose);
}

/**
 * Asks `store` for a reload with `load` and hands the result to `onOutcome`. Never
 * throws and never rejects: a requester that breaks its contract (throws or rejects)
 * and an `onOutcome` that throws or rejects are logged to `txconfig:sources`, so a
 * callback bug neither crashes the daemon nor goes unheard.
 *
 * @param what - Names the trigger in the log (`'SIGHUP'`, a path).
 * @returns A promise that resolves once the reload ended; it does not wait for the
 *   promise `onOutcome` returns, so a slow handler never holds up the next reload.
 */
export function requestAndReport<R extends ReloadResult<unknown, unknown>, S>(
  store: ReloadRequester<R>,
  load: () => unknown,
  onOutcome: OutcomeHandler<R, S>,
  source: S,
  what: string,
): Promise<void> {
  let request: Promise<R>;
  try {
    request = store.requestReload(load);
  } catch (error) {
    log.sources('%s: requestReload threw, which it must not; no reload: %O', what, error);
    return Promise.resolve();
  }
  return Promise.resolve(request).then(
    (result) => {
      deliver(onOutcome, result, source, what);
    },
    (error: unknown) => {
      log.sources('%s: requestReload rejected, which it must not; no reload: %O', what, error);
    },
  );
}

function deliver<R, S>(onOutcome: OutcomeHandler<R, S>, result: R, source: S, what: string): void {
  const failed = (error: unknown): void => {
    log.sources('%s: onOutcome failed (the reload itself ended %s): %O', what, statusOf(result), error);
  };
  let returned: void | PromiseLike<void>;
  try {
    returned = onOutcome(result, source);
  } catch (error) {
    failed(error);
    return;
  }
  // Any thenable: a rejection left unhandled would end the process (Node's default).
  if (isThenable(returned)) Promise.resolve(returned).then(undefined, failed);
}

/** The default `onOutcome`: one log line per reload to `txconfig:sources`. */
export function logOutcome(result: ReloadResult<unknown, unknown>, source: string): void {
  if (result.status === 'rejected' || result.status === 'aborted') log.sources('reload on %s %s: %O', source, result.status, result.error);
  else if (result.status === 'applied' && result.error !== undefined) log.sources('reload on %s applied, but: %O', source, result.error);
  else log.sources('reload on %s: %s', source, result.status);
}

/**
 * Makes closing the store run `stop`, when the store offers `onClose`. Returns the
 * function to call when the trigger is stopped by hand: it unregisters the hook, so a
 * store that outlives many triggers does not keep every stopped one.
 */
export function stopWithStore(store: Pick<ReloadRequester, 'onClose'>, stop: () => void | Promise<void>): () => void {
  let unregister: (() => void) | undefined;
  unregister = store.onClose?.(() => {
    // Closing the store: the hook goes with it, nothing to unregister.
    unregister = undefined;
    return stop();
  });
  return () => {
    const registered = unregister;
    unregister = undefined;
    registered?.();
  };
}


function statusOf(result: unknown): string {
  const status = typeof result === 'object' && result !== null ? (result as { status?: unknown }).status : undefined;
  return typeof status === 'string' ? status : 'with an unknown status';
}
