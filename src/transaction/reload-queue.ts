import { ReloadError } from '../errors.js';

/** Releases a slot. Calling it twice does nothing. */
export type Release = () => void;

interface Waiter {
  readonly grant: (release: Release) => void;
}

/**
 * The single reload slot: one holder at a time, waiters served strictly in arrival
 * order. A waiter whose signal aborts leaves the line with `ERR_ABORTED`.
 */
export class ReloadQueue {
  // True while someone holds the slot; a release hands it straight to the next waiter,
  // so a newcomer can never barge ahead of the line.
  #held = false;
  #waiters: Waiter[] = [];

  /** Number of callers waiting for the slot (not counting the holder). */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Waits for the slot.
   * @throws {ReloadError} `ERR_ABORTED` when `signal` aborts first
   */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted === true) return Promise.reject(aborted(signal));
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve(this.#releaser());
    }
    return new Promise<Release>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(aborted(signal));
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      this.#waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #releaser(): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.#waiters.shift();
      if (next === undefined) this.#held = false;
      else next.grant(this.#releaser());
    };
  }
}

function aborted(signal: AbortSignal | undefined): ReloadError {
  return new ReloadError('ERR_ABORTED', [{ participant: null, phase: 'wait', error: signal?.reason }]);
}
