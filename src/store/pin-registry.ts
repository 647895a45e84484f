import { SynchronizeError } from '../errors.js';
import { checkMilliseconds, checkOptionalSignal } from '../internal/argument-checks.js';
import type { Snapshot } from '../snapshot/snapshot.js';

/**
 * A declared use of one snapshot: while unreleased it is a GC root for the snapshot's
 * artifacts and holds back {@link ConfigStore.synchronize}. Use with `using`.
 */
export interface Pin<T = unknown, D = Record<string, unknown>> extends Disposable {
  /** The pinned snapshot: the one live when the pin was taken. */
  readonly snapshot: Snapshot<T, D>;
  /** True once released. */
  readonly released: boolean;
  /** Ends the pin. Releasing twice does nothing. */
  release(): void;
}

/** Options of {@link ConfigStore.synchronize}. */
export interface SynchronizeOptions {
  /** Give up after this many milliseconds with `ERR_SYNC_TIMEOUT`. Default 30 000; `Infinity` waits for ever. */
  readonly timeoutMs?: number;
  /** Give up when aborted, with `ERR_ABORTED`. */
  readonly signal?: AbortSignal;
}

interface Waiter {
  readonly below: number;
  readonly settle: () => void;
}

const DEFAULT_SYNC_TIMEOUT_MS = 30_000;

/** The pins of one store, and the waiters of synchronize. */
export class PinRegistry<T, D> {
  // Every unreleased pin; a pin leaves the set exactly once, on its first release.
  readonly #pins = new Set<Pin<T, D>>();
  #waiters: Waiter[] = [];

  /** Pins `snapshot`. */
  pin(snapshot: Snapshot<T, D>): Pin<T, D> {
    const pins = this.#pins;
    const onRelease = (): void => {
      this.#wake();
    };
    const pin: Pin<T, D> = {
      snapshot,
      get released() {
        return !pins.has(pin);
      },
      release() {
        if (pins.delete(pin)) onRelease();
      },
      [Symbol.dispose]() {
        pin.release();
      },
    };
    pins.add(pin);
    return pin;
  }

  /** The snapshots pinned now, each once, oldest first. */
  snapshots(): Snapshot<T, D>[] {
    const unique = new Set<Snapshot<T, D>>();
    for (const pin of this.#pins) unique.add(pin.snapshot);
    return [...unique].sort((a, b) => a.generation - b.generation);
  }

  /** The generations pinned now, ascending, each once. */
  generations(): number[] {
    return this.snapshots().map((snapshot) => snapshot.generation);
  }

  /**
   * Resolves once no pin holds a generation below `below`.
   * @throws {SynchronizeError} `ERR_SYNC_TIMEOUT` or `ERR_ABORTED`
   * @throws {ArgumentError} `ERR_ARGUMENT` when `timeoutMs` is not 0 to 2^31 - 1 ms or `Infinity`, or `signal` is not an AbortSignal
   */
  async waitUntilNoneBelow(below: number, options: SynchronizeOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS;
    // Checked before anything else: a NaN would otherwise wait for ever (and only when a
    // pin is held), a delay past Node's timer limit would time out at once.
    checkMilliseconds('timeoutMs', timeoutMs, { infinity: true });
    checkOptionalSignal('signal', options.signal);
    if (!this.#holdsBelow(below)) return;
    const { signal } = options;
    if (signal?.aborted === true) throw this.#failure('ERR_ABORTED', below, signal.reason);
    await new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        cleanup();
        reject(this.#failure('ERR_ABORTED', below, signal?.reason));
      };
      const waiter: Waiter = {
        below,
        settle: () => {
          cleanup();
          resolve();
        },
      };
      this.#waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          cleanup();
          reject(this.#failure('ERR_SYNC_TIMEOUT', below));
        }, timeoutMs);
      }
    });
  }

  #holdsBelow(generation: number): boolean {
    for (const pin of this.#pins) if (pin.snapshot.generation < generation) return true;
    return false;
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) if (!this.#holdsBelow(waiter.below)) waiter.settle();
  }

  #failure(code: 'ERR_SYNC_TIMEOUT' | 'ERR_ABORTED', below: number, cause?: unknown): SynchronizeError {
    const held = this.generations().filter((generation) => generation < below);
    return new SynchronizeError(code, held, cause === undefined ? undefined : { cause });
  }
}
