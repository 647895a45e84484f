/**
 * Finding a path in one layer's value, the way layers merge (objects merge, anything else
 * replaces): the value there, or the value above it that replaced the whole path. The
 * layers merge and explain with it; the store finds the value `explain()` asks about.
 */
import { isPlainObject } from './plain-object.js';

/** What a layer's value holds at a path. */
export type ValueAt =
  /** The path is there. */
  | { readonly kind: 'found'; readonly value: unknown }
  /** The path is not there, and the layer leaves it to lower layers. */
  | { readonly kind: 'absent' }
  /** A value that is not an object stands above the path (at `depth` keys): it replaced the whole path. */
  | { readonly kind: 'cut'; readonly depth: number; readonly value: unknown };

/** What `value` holds at `keys`: found, absent, or cut off by a scalar or array above it. */
export function valueAt(value: unknown, keys: readonly string[]): ValueAt {
  let node = value;
  for (let depth = 0; depth < keys.length; depth++) {
    const key = keys[depth] as string;
    if (Array.isArray(node)) {
      // Inside an array the path belongs to the layer that set the array: arrays replace.
      const index = /^(?:0|[1-9]\d*)$/.test(key) ? Number(key) : -1;
      if (index < 0 || index >= node.length) return { kind: 'cut', depth: depth, value: node };
      node = node[index];
    } else if (isPlainObject(node)) {
      if (!Object.hasOwn(node, key)) return { kind: 'absent' };
      node = node[key];
    } else {
      return { kind: 'cut', depth, value: node };
    }
  }
  return { kind: 'found', value: node };
}
