/**
 * The provenance of a config: where each value of a generation came from. A source's
 * reading brings its {@link Origins}; a whole value given to `reload()` is the `reload`
 * layer's; a recipe overlays the paths it wrote (the `update` layer) on what was there.
 * Cheap to build (one object per reload, the recipe's paths), answered per path on demand.
 */
import { ArgumentError } from '../errors.js';
import { isAtOrUnder, parsePointer, toPointer } from '../json/json-pointer.js';
import { valueAt } from '../json/value-at.js';
import type { Explanation, Origins, Provenance } from '../origin.js';

/** Overlays kept as a chain before they are folded into one set of paths. */
const MAX_CHAIN = 16;

/** Where each value of a config came from; immutable. */
export class ConfigProvenance {
  // The origins of the reading the config came from, or the layer that gave it whole.
  readonly #origins: Origins | undefined;
  readonly #layer: string;
  // Below the paths a recipe wrote: the provenance before it (undefined for a reading).
  readonly #base: ConfigProvenance | undefined;
  // JSON Pointers a recipe wrote ('' is the whole config), with this.#base below them.
  readonly #updated: ReadonlySet<string>;
  readonly #depth: number;

  private constructor(origins: Origins | undefined, layer: string, base: ConfigProvenance | undefined, updated: ReadonlySet<string>) {
    this.#origins = origins;
    this.#layer = layer;
    this.#base = base;
    this.#updated = updated;
    this.#depth = base === undefined ? 0 : base.#depth + 1;
  }

  /** A config read whole: from a source's reading (its origins, when it has them) or from `layer` (`reload`, `initial`). */
  static read(layer: string, origins?: Origins): ConfigProvenance {
    return new ConfigProvenance(origins, layer, undefined, new Set());
  }

  /** This provenance with the paths a recipe wrote given to the `update` layer; `undefined` paths: the whole config. */
  updated(paths: readonly (readonly (string | number)[])[] | undefined): ConfigProvenance {
    const pointers = paths === undefined ? [''] : paths.map(toPointer);
    if (pointers.length === 0) return this;
    if (this.#depth < MAX_CHAIN) return new ConfigProvenance(undefined, 'update', this, new Set(pointers));
    // Fold the chain: one set of every path written since the last reading.
    const folded = new Set(pointers);
    return new ConfigProvenance(undefined, 'update', this.#foldInto(folded), folded);
  }

  /**
   * Where the value at `pointer` came from. A path no layer set (a default the schema
   * filled in) is the `schema` layer's.
   */
  explain(pointer: string): Provenance {
    if (this.#base === undefined) return this.#origins?.explain(pointer) ?? (this.#origins === undefined ? whole(this.#layer) : whole('schema'));
    return isAtOrUnder(pointer, this.#updated) ? whole('update') : this.#base.explain(pointer);
  }

  /** Adds the paths of this overlay and of every one below it to `paths`; returns the reading at the bottom. */
  #foldInto(paths: Set<string>): ConfigProvenance {
    if (this.#base === undefined) return this;
    for (const pointer of this.#updated) paths.add(pointer);
    return this.#base.#foldInto(paths);
  }
}

function whole(layer: string): Provenance {
  return { layer, origin: {}, shadowed: [] };
}


/**
 * What `store.explain(pointer)` answers: the value at `pointer` in `config` (the live
 * one) and where it came from.
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `pointer` when it is not a JSON Pointer or `config` has no value there
 */
export function explainValue(config: unknown, provenance: ConfigProvenance | undefined, pointer: string): Explanation {
  const keys = typeof pointer === 'string' ? parsePointer(pointer) : undefined;
  if (keys === undefined) throw new ArgumentError('pointer', `must be a JSON Pointer ('' or starting with '/'), got ${JSON.stringify(pointer)}`);
  const at = valueAt(config, keys);
  if (at.kind !== 'found') throw new ArgumentError('pointer', `the live config has no value at ${pointer || "'' (the root)"}`);
  const found = provenance?.explain(pointer) ?? whole('initial');
  return { pointer, value: at.value, layer: found.layer, origin: found.origin, shadowed: found.shadowed };
}
