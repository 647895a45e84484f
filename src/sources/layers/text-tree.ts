/**
 * A layer built from text values at paths: environment variables and flags. Each entry
 * becomes a leaf (text, converted later by the store by the schema's type at its path),
 * with its origin; entries that collide within the layer, or name a key that can pollute
 * prototypes, are refused. Internal to the layers.
 */
import { ConflictError, UnsafeKeyError } from '../../errors.js';
import { parsePointer, toPointer } from '../../json/json-pointer.js';
import { UNSAFE_KEYS, isPlainObject, setMember } from '../../json/plain-object.js';
import type { Origin, Origins, Provenance } from '../../origin.js';
import type { SourceReading } from '../../store/config-source.js';

/** Builds one text layer's value, origins and text pointers. */
export class TextTree {
  readonly #layer: string;
  readonly #root: Record<string, unknown> = {};
  // Every leaf set, by pointer: its origin. Leaves are exactly the entries set.
  readonly #leaves = new Map<string, Origin>();

  /** @param layer - the layer's kind, as origins name it (`env`, `argv`) */
  constructor(layer: string) {
    this.#layer = layer;
  }

  /**
   * Sets the text at `keys`, creating the objects above it.
   * @param input - names the input in errors: `env APP_SERVER__PORT`, `--server.port`
   * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY` when a key is `__proto__`, `constructor` or `prototype`
   * @throws {ConflictError} `ERR_CONFLICT` when the path, a path above it or one below it was already set in this layer
   */
  set(keys: readonly string[], text: string, origin: Origin, input: string): void {
    let node = this.#root;
    for (let depth = 0; depth < keys.length; depth++) {
      const key = keys[depth] as string;
      if (UNSAFE_KEYS.has(key)) throw new UnsafeKeyError(input, key, toPointer(keys.slice(0, depth)));
      const last = depth === keys.length - 1;
      const existing = Object.hasOwn(node, key) ? node[key] : undefined;
      if (existing === undefined) {
        if (last) break;
        const child: Record<string, unknown> = {};
        setMember(node, key, child);
        node = child;
      } else if (!last && isPlainObject(existing)) {
        node = existing;
      } else {
        throw this.#collision(keys, depth, origin);
      }
    }
    if (keys.length === 0) throw new ConflictError('', { layer: this.#layer, origin }, { layer: this.#layer, origin });
    setMember(node, keys[keys.length - 1] as string, text);
    this.#leaves.set(toPointer(keys), origin);
  }

  /** The reading: the value, and origins that answer for every leaf and every object above one. */
  reading(): SourceReading {
    const layer = this.#layer;
    const leaves = this.#leaves;
    const root = this.#root;
    const origins: Origins = {
      explain: (pointer) => explainText(layer, leaves, root, pointer),
      texts: [...leaves.keys()],
    };
    return { value: root, origins };
  }

  /** The conflict between the entry at `keys` and the one already set at or around `keys[0..depth]`. */
  #collision(keys: readonly string[], depth: number, origin: Origin): ConflictError {
    const here = toPointer(keys.slice(0, depth + 1));
    let other = this.#leaves.get(here);
    if (other === undefined) {
      // The path was set below this point: name the first entry under it.
      for (const [pointer, leafOrigin] of this.#leaves) {
        if (pointer.startsWith(`${here}/`)) {
          other = leafOrigin;
          break;
        }
      }
    }
    return new ConflictError(toPointer(keys), { layer: this.#layer, origin: other ?? {} }, { layer: this.#layer, origin });
  }
}

/**
 * The provenance of `pointer` in a text layer: a leaf's own origin; below a leaf (a JSON
 * text that becomes an object), the leaf's; an object the layer built, no place of its own.
 */
function explainText(layer: string, leaves: ReadonlyMap<string, Origin>, root: Record<string, unknown>, pointer: string): Provenance | undefined {
  for (let end = pointer.length; end >= 0; end = pointer.lastIndexOf('/', end - 1)) {
    const origin = leaves.get(pointer.slice(0, end));
    if (origin !== undefined) return { layer, origin, shadowed: [] };
    if (end === 0) break;
  }
  return hasObjectAt(root, pointer) ? { layer, origin: {}, shadowed: [] } : undefined;
}

function hasObjectAt(root: Record<string, unknown>, pointer: string): boolean {
  // Not a pointer (no leading slash, a bad escape): the reading does not hold it.
  const keys = parsePointer(pointer);
  if (keys === undefined) return false;
  let node: unknown = root;
  for (const key of keys) {
    if (!isPlainObject(node) || !Object.hasOwn(node, key)) return false;
    node = node[key];
  }
  return isPlainObject(node);
}
