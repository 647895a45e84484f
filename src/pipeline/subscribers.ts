/**
 * The last stage of a reload that changed the config: notify every subscriber with the
 * frozen result. A subscriber that throws or rejects affects no other and not the store.
 */
import { log } from '../internal/debug.js';
import { isThenable } from '../internal/is-thenable.js';

/** Called after each commit that changed the config. */
export type ChangeListener<E> = (event: E) => void | Promise<void>;

/** The subscribers of one store. */
export class Subscribers<E> {
  readonly #listeners = new Set<ChangeListener<E>>();
  readonly #onError: (error: unknown) => void;

  /** `onError` hears of every subscriber that threw or rejected (the store counts them). */
  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  /** Adds `listener`; returns the function that removes it. */
  add(listener: ChangeListener<E>): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Calls every subscriber with `event`, in subscription order, each isolated from the others. */
  notify(event: E): void {
    for (const listener of [...this.#listeners]) {
      try {
        const returned = listener(event);
        if (isThenable(returned)) {
          Promise.resolve(returned).catch((error: unknown) => {
            this.#failed(error);
          });
        }
      } catch (error) {
        this.#failed(error);
      }
    }
  }

  #failed(error: unknown): void {
    log.store('a subscriber failed: %O', error);
    this.#onError(error);
  }
}
