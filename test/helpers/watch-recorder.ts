/**
 * Records what a config watcher reports, and waits for it: tests wait for events with
 * a timeout instead of sleeping and asserting durations.
 */
import type { ConfigChange, WatchErrorContext } from '../../src/sources/watch-config-file.js';

interface Waiter {
  readonly predicate: () => boolean;
  readonly resolve: () => void;
}

export class WatchRecorder<T = Record<string, unknown>> {
  readonly changes: ConfigChange<T>[] = [];
  readonly errors: { error: unknown; context: WatchErrorContext }[] = [];
  readonly #waiters = new Set<Waiter>();

  /** Pass as `onChange`. */
  readonly onChange = (change: ConfigChange<T>): void => {
    this.changes.push(change);
    this.#wake();
  };

  /** Pass as `onError`. */
  readonly onError = (error: unknown, context: WatchErrorContext): void => {
    this.errors.push({ error, context });
    this.#wake();
  };

  /** The configs received so far. */
  get configs(): T[] {
    return this.changes.map((change) => change.config);
  }

  /** Resolves once `count` changes were received. */
  changeCount(count: number, timeoutMs = 10_000): Promise<void> {
    return this.until(() => this.changes.length >= count, `${count} change(s)`, timeoutMs);
  }

  /** Resolves once `count` errors were received. */
  errorCount(count: number, timeoutMs = 10_000): Promise<void> {
    return this.until(() => this.errors.length >= count, `${count} error(s)`, timeoutMs);
  }

  /** Resolves when `predicate` holds after a report; rejects after `timeoutMs`. */
  until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`timed out waiting for ${what}; changes: ${JSON.stringify(this.configs)}, errors: ${this.errors.length}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Re-checks the waiters; call after changing state a predicate reads. */
  wake(): void {
    this.#wake();
  }

  #wake(): void {
    for (const waiter of this.#waiters) {
      if (waiter.predicate()) {
        this.#waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }
}

/** Polls `predicate` until it holds, for state no callback reports; rejects after `timeoutMs`. */
export async function eventually(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
