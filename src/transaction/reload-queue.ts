import { ReloadError } from '../errors.js';

/** Releases a slot. Calling it twice does nothing. */
export type Release = () => void;

interface Waiter {
  readonly grant: (release: Release) => void;
  readonly refuse: (error: ReloadError) => void;
}

/**
 * The single reload slot: one holder at a time, waiters served strictly in arrival
 * order. A waiter whose signal aborts leaves the line with `ERR_ABORTED`; once the queue
 * is closed, every waiter and every later caller gets `ERR_CLOSED`.
 */
export class ReloadQueue {
  // True while someone holds the slot; a release hands it straight to the next waiter,
  // so a newcomer can never barge ahead of the line.
  #held = false;
  #waiters: Waiter[] = [];
  // Set by close(): the error every later acquire gets.
  #closed: (() => ReloadError) | null = null;
  // Resolved when the slot is next free; created on demand by idle().
  #idle: { readonly promise: Promise<void>; readonly resolve: () => void } | null = null;

  /** Number of callers waiting for the slot (not counting the holder). */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Waits for the slot.
   * @throws {ReloadError} `ERR_ABORTED` when `signal` aborts first, `ERR_CLOSED` once the queue is closed
   */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (this.#closed !== null) return Promise.reject(this.#closed());
    if (signal?.aborted === true) return Promise.reject(aborted(signal));
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve(this.#releaser());
    }
    return new Promise<Release>((resolve, reject) => {
      const onAbort = (): void => {
        this.#leave(waiter);
        reject(aborted(signal));
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
        refuse: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      this.#waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Refuses every waiter and every later caller with the error `closed` makes. The
   * holder keeps the slot until it releases it; {@link idle} tells when.
   */
  close(closed: () => ReloadError): void {
    this.#closed = closed;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.refuse(closed());
  }

  /** Resolves once nobody holds the slot. */
  idle(): Promise<void> {
    if (!this.#held) return Promise.resolve();
    if (this.#idle === null) {
      let resolve = (): void => undefined;
      const promise = new Promise<void>((settle) => (resolve = settle));
      this.#idle = { promise, resolve };
    }
    return this.#idle.promise;
  }

  #leave(waiter: Waiter): void {
    const index = this.#waiters.indexOf(waiter);
    if (index >= 0) this.#waiters.splice(index, 1);
  }

  #releaser(): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.#waiters.shift();
      if (next !== undefined) {
        next.grant(this.#releaser());
        return;
      }
      this.#held = false;
      const idle = this.#idle;
      this.#idle = null;
      idle?.resolve();
    };
  }
}

function aborted(signal: AbortSignal | undefined): ReloadError {
  return new ReloadError('ERR_ABORTED', [{ participant: null, phase: 'wait', error: signal?.reason }]);
}
