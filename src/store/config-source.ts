/**
 * Where a store's config comes from: the {@link ConfigSource} contract (DESIGN.md §5.2),
 * and the store's side of one source ({@link SourceBinding}): reading it with a signal
 * that the store's close aborts, watching it, closing it. The contract lives beside the
 * store that consumes it; the sources that implement it live in `src/sources/`.
 */
import { ArgumentError, ReloadError } from '../errors.js';
import { describeValue } from '../internal/argument-checks.js';
import type { Origins } from '../origin.js';

/**
 * Anything that produces a candidate config: a file, layers of defaults, files,
 * environment and flags, a fleet store. The store reads it at cold start (the same
 * transaction path as every reload), again on `store.refresh()`, and on every change it
 * reports through `watch`, bursts coalesced.
 */
export interface ConfigSource {
  /** A name for messages and logs (`file:/etc/app/config.json`). Non-empty. */
  readonly name: string;
  /**
   * Reads the whole candidate config now. Rejects when it cannot (the reload is then
   * rejected with `ERR_LOAD`, the live config stays). `signal` aborts when the store
   * closes or the cold start is cancelled.
   */
  read(options: { readonly signal: AbortSignal }): Promise<SourceReading>;
  /** Calls `onChange` when the source may have changed; returns the function that stops it. */
  watch?(onChange: () => void): () => void;
  /** Releases what the source holds; called once, when the store closes. */
  close?(): Promise<void>;
}

/** What a source read. */
export interface SourceReading {
  /** The candidate config, validated by the store like any reload's. */
  readonly value: unknown;
  /** Where each value came from, for `store.explain()`; and which values are text to convert. */
  readonly origins?: Origins;
  /** The source's own version of what it read (an etcd revision, a file's digest). */
  readonly revision?: string;
}

/**
 * The store's side of its source: reads with a signal the store's close aborts, starts
 * and stops watching, closes the source once.
 */
export class SourceBinding {
  readonly #source: ConfigSource;
  readonly #closing = new AbortController();

  /** @throws {ArgumentError} `ERR_ARGUMENT` naming `source` when it does not have the shape of a ConfigSource */
  constructor(source: unknown) {
    const { name, read, watch, close } = (typeof source === 'object' && source !== null ? source : {}) as Partial<Record<keyof ConfigSource, unknown>>;
    if (typeof name !== 'string' || name === '' || typeof read !== 'function' || (watch !== undefined && typeof watch !== 'function') || (close !== undefined && typeof close !== 'function')) {
      throw new ArgumentError('source', `must be a ConfigSource (a non-empty name, read(), and optional watch() and close()), got ${describeValue(source)}`);
    }
    this.#source = source as ConfigSource;
  }

  /** The source's name. */
  get name(): string {
    return this.#source.name;
  }

  /**
   * What the source reads now: its value and origins. `signal` (the cold start's) aborts the read too.
   * @throws whatever the source's read throws; a TypeError when it does not resolve to `{ value }`
   */
  async read(signal?: AbortSignal): Promise<SourceReading> {
    const aborts = signal === undefined ? this.#closing.signal : AbortSignal.any([signal, this.#closing.signal]);
    // The type says a SourceReading; a JavaScript source can resolve to anything.
    const reading: unknown = await this.#source.read({ signal: aborts });
    if (typeof reading !== 'object' || reading === null || !('value' in reading)) {
      throw new TypeError(`source ${this.name}: read() must resolve to { value }, got ${describeValue(reading)}`);
    }
    return reading;
  }

  /**
   * Reads the source for the cold start.
   * @throws {ReloadError} `ERR_LOAD` (the source could not be read) or `ERR_ABORTED` (`signal` aborted)
   */
  async readAtColdStart(signal: AbortSignal | undefined): Promise<SourceReading> {
    try {
      return await this.read(signal);
    } catch (error) {
      throw new ReloadError(signal?.aborted === true ? 'ERR_ABORTED' : 'ERR_LOAD', [{ participant: null, phase: 'load', error }]);
    }
  }

  /** The source's kind, for a reading without origins: `file` for `file:/etc/app.json`, else its name. */
  get layer(): string {
    const colon = this.name.indexOf(':');
    return colon > 0 ? this.name.slice(0, colon) : this.name;
  }

  /** Starts watching, when the source can: `onChange` on every change. Returns the stop (a no-op for a source that cannot watch). */
  watch(onChange: () => void): () => void {
    return this.#source.watch?.(onChange) ?? (() => undefined);
  }

  /** Aborts a read in flight and closes the source; once. */
  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort(new Error(`the store reading ${this.name} closed`));
    await this.#source.close?.();
  }
}
