import type { Artifact } from '../artifacts/artifact.js';
import type { DeepReadonly } from './deep-readonly.js';

/**
 * One immutable version of the config and the state derived from it. Every nested
 * object and array is frozen; subtrees that did not change are shared (`===`) with the
 * previous generation.
 */
export interface Snapshot<T = unknown, D = Record<string, unknown>> {
  /** The validated config (defaults applied), deeply frozen. */
  readonly config: DeepReadonly<T>;
  /** Derived state keyed by participant name, deeply frozen, of the same generation. */
  readonly derived: DeepReadonly<D>;
  /** 1 for the cold start, one more for each applied reload. Never decreases. */
  readonly generation: number;
  /**
   * A SHA-256 tree hash (lowercase hex) of the config as canonical JSON (sorted keys, no
   * white space): the SHA-256 of that text for a config of at most 256 bytes of it
   * (docs/decisions.md gives the definition). Equal configs have equal digests.
   */
  readonly digest: string;
  /** When the swap happened, in milliseconds since the epoch. */
  readonly committedAt: number;
  /** The artifacts the participants wrote (or found already written) for this generation. */
  readonly artifacts: readonly Artifact[];
  /**
   * The config with every sensitive value (the store's `sensitive` paths, schema nodes
   * with `writeOnly` or `"x-sensitive"`, resolved secret references) as `'[redacted]'`:
   * what to show, log or serve. Deeply frozen; computed on the first call, then kept.
   * The same object as `config` when nothing is sensitive.
   */
  redacted(): DeepReadonly<T>;
}

/** A prepared, not yet committed snapshot: everything but the commit time. */
export type CandidateSnapshot<T = unknown, D = Record<string, unknown>> = Omit<Snapshot<T, D>, 'committedAt'>;
