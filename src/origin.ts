/**
 * Provenance: where each value of a config came from. A source tells it through
 * {@link Origins}; `store.explain(pointer)` answers with it. The types sit at the bottom
 * of the layers, beside the errors that name origins too.
 */

/** The place a value came from inside its layer: a file and position, a variable, a flag. */
export interface Origin {
  /** The file the value was read from. */
  readonly file?: string;
  /** Its line in that file, from 1 (JSON, JSON5 and YAML files). */
  readonly line?: number;
  /** Its column in that line, from 1, in characters. */
  readonly column?: number;
  /** The environment variable it came from. */
  readonly env?: string;
  /** The command-line flag it came from, as given (`--server.port`). */
  readonly flag?: string;
  /** The key it came from in a key-value store (etcd). */
  readonly key?: string;
}

/** One layer's value at a path, with its place in that layer. */
export interface LayerValue {
  /** The layer's kind: `defaults`, `file`, `directory`, `env`, `argv`, or a source's own. */
  readonly layer: string;
  /** Where in that layer. */
  readonly origin: Origin;
  /** The value as that layer gave it (text for `env` and `argv`). */
  readonly value: unknown;
}

/**
 * Where the value at one path came from: the layer that won, its place in that layer, and
 * the values of lower layers it shadowed, highest first. For an object that several
 * layers merged, `layer` is the highest one that has it and `shadowed` the others.
 */
export interface Provenance {
  /** The winning layer's kind (`file`, `env`…); `schema` for a default the schema filled in. */
  readonly layer: string;
  /** Its place in that layer. */
  readonly origin: Origin;
  /** What lower layers set at the same path, highest first. */
  readonly shadowed: readonly LayerValue[];
}

/**
 * The provenance of a source's reading. Lazy by design: a source answers for one path
 * when asked (a file position is found only for the path `explain` asks about), so
 * reading and reloading never pay for it.
 */
export interface Origins {
  /**
   * Where the value at `pointer` (a JSON Pointer into the reading's value) came from;
   * `undefined` when the reading does not hold it. Never throws.
   */
  explain(pointer: string): Provenance | undefined;
  /**
   * Pointers of the values that are text (environment variables, flags), which the store
   * converts by the schema's type at their path before validating.
   */
  readonly texts?: readonly string[];
}

/** What `store.explain(pointer)` returns: the live value at `pointer` and its {@link Provenance}. */
export interface Explanation extends Provenance {
  /** The JSON Pointer asked about. */
  readonly pointer: string;
  /** The live config's value there (after conversion and the schema's defaults). */
  readonly value: unknown;
}
