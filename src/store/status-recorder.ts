import { isTxConfigError } from '../errors.js';
import type { ReloadResult } from '../transaction/reload-result.js';

/** How many reloads ended each way since the store was created (the cold start included). */
export interface ReloadCounters {
  /** Every reload begun: each transaction, and each load of a requested reload that failed before one could begin. */
  readonly attempted: number;
  /** Committed with a new generation and every commit hook succeeded. */
  readonly applied: number;
  /** Validated and found equal to the live config: nothing changed. */
  readonly unchanged: number;
  /** Refused before the swap (load, validation, a participant): the live snapshot stayed. */
  readonly rejected: number;
  /** Committed, but at least one commit hook failed. */
  readonly failed: number;
  /** Cancelled: aborted by a signal, `abort()` or `rollback()`, or by the store closing. */
  readonly aborted: number;
}

/** The last error a reload ended with. */
export interface StatusError {
  /** The txconfig code (`ERR_VALIDATION`, `ERR_LOAD`, …). */
  readonly code: string;
  /** The code of the cause when that is a txconfig error too (e.g. `ERR_PARSE` under `ERR_LOAD`). */
  readonly causeCode: string | null;
  /** The error's message, for people; may change between versions. */
  readonly message: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

/** A store's health, for logs, `/status` and metrics. */
export interface ConfigStatus {
  /** Generation of the live snapshot (0 before the cold start committed). */
  readonly generation: number;
  /** Digest of the live config. */
  readonly digest: string;
  /**
   * True when the last reload that ended applied fully, or found nothing to change while
   * every commit hook of the live generation had succeeded. False after a rejection, a
   * commit hook that failed (until a reload whose hooks all succeed, e.g. one with
   * `force`), or a rollback hook that failed. Clean aborts do not change it.
   */
  readonly lastReloadSuccessful: boolean;
  /** When the last transaction began, in milliseconds since the epoch; `null` before any. */
  readonly lastAttemptAt: number | null;
  /** When a reload last ended `applied` or `unchanged`; `null` before any. */
  readonly lastSuccessAt: number | null;
  /** When a reload last ended `rejected` or `failed` (or a rollback hook failed); `null` before any. */
  readonly lastFailureAt: number | null;
  /** How many reloads ended each way. */
  readonly counters: ReloadCounters;
  /** The error the last unsuccessful reload ended with (kept after later successes); `null` before any. */
  readonly lastError: StatusError | null;
  /** Generations held by pins, ascending. */
  readonly pinnedGenerations: readonly number[];
  /** Subscriber calls that threw or rejected. */
  readonly listenerErrors: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Keeps the counters and times behind {@link ConfigStatus}. */
export class StatusRecorder {
  readonly #counters: Mutable<ReloadCounters> = { attempted: 0, applied: 0, unchanged: 0, rejected: 0, failed: 0, aborted: 0 };
  #lastReloadSuccessful = false;
  // True while the live generation is one whose commit hooks did not all succeed: an
  // unchanged reload of it is not a success, only a reload whose hooks all run clean is.
  #liveCommitFailed = false;
  #lastAttemptAt: number | null = null;
  #lastSuccessAt: number | null = null;
  #lastFailureAt: number | null = null;
  #lastError: StatusError | null = null;
  #listenerErrors = 0;

  /** A reload began (a transaction, or the load of a requested reload). */
  attempted(): void {
    this.#counters.attempted++;
    this.#lastAttemptAt = Date.now();
  }

  /** A reload ended as `result` says. */
  record(result: ReloadResult<unknown, unknown>): void {
    switch (result.status) {
      case 'applied':
        this.#liveCommitFailed = result.commitFailures.length > 0;
        if (result.error === undefined) this.#succeeded('applied');
        else this.#failed('failed', result.error);
        return;
      case 'unchanged':
        if (this.#liveCommitFailed) this.#counters.unchanged++;
        else this.#succeeded('unchanged');
        return;
      case 'rejected':
        this.#failed('rejected', result.error);
        return;
      case 'aborted':
        // A clean abort says nothing about the config; a rollback hook that failed leaves
        // a participant half undone, and that must show.
        if (result.error.code === 'ERR_ROLLBACK') this.#failed('aborted', result.error);
        else this.#counters.aborted++;
        return;
    }
  }

  /** A subscriber threw or rejected. */
  listenerFailed(): void {
    this.#listenerErrors++;
  }

  /** A frozen copy of the status. */
  read(generation: number, digest: string, pinnedGenerations: readonly number[]): ConfigStatus {
    return Object.freeze({
      generation,
      digest,
      lastReloadSuccessful: this.#lastReloadSuccessful,
      lastAttemptAt: this.#lastAttemptAt,
      lastSuccessAt: this.#lastSuccessAt,
      lastFailureAt: this.#lastFailureAt,
      counters: Object.freeze({ ...this.#counters }),
      lastError: this.#lastError,
      pinnedGenerations: Object.freeze([...pinnedGenerations]),
      listenerErrors: this.#listenerErrors,
    });
  }

  #succeeded(kind: 'applied' | 'unchanged'): void {
    this.#counters[kind]++;
    this.#lastReloadSuccessful = true;
    this.#lastSuccessAt = Date.now();
  }

  #failed(kind: 'rejected' | 'failed' | 'aborted', error: unknown): void {
    this.#counters[kind]++;
    const at = Date.now();
    this.#lastReloadSuccessful = false;
    this.#lastFailureAt = at;
    this.#lastError = describe(error, at);
  }
}

function describe(error: unknown, at: number): StatusError {
  const code = isTxConfigError(error) ? error.code : 'ERR_UNKNOWN';
  const cause = error instanceof Error ? error.cause : undefined;
  const causeCode = isTxConfigError(cause) ? cause.code : null;
  const message = error instanceof Error ? error.message : String(error);
  return Object.freeze({ code, causeCode, message, at });
}
