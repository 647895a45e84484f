/**
 * A watch that may not be able to start yet: the directory of an optional file, or of a
 * secret, that does not exist. Internal to the sources.
 */
import { log } from '../internal/debug.js';
import type { ConfigWatcher } from './watch-config-file.js';

/** How often a watch that could not start tries again. */
export const WATCH_RETRY_MS = 2000;

/**
 * Starts the watch `start` makes now, or, when it throws (its directory cannot be watched
 * yet), again every {@link WATCH_RETRY_MS} until it starts. Returns the stop.
 */
export function retriedWatch<T>(what: string, start: () => ConfigWatcher<T>): () => void {
  let watcher: ConfigWatcher<T> | undefined;
  const attempt = (): void => {
    try {
      watcher = start();
    } catch (error) {
      log.sources('cannot watch %s yet: %O', what, error);
    }
  };
  attempt();
  const retry =
    watcher === undefined
      ? setInterval(() => {
          attempt();
          if (watcher !== undefined) clearInterval(retry);
        }, WATCH_RETRY_MS)
      : undefined;
  retry?.unref();
  return () => {
    clearInterval(retry);
    void watcher?.close();
  };
}
