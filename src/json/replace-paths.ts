/**
 * Path copying: a tree with the values at some paths replaced, the objects and arrays on
 * those paths copied once each, everything else shared, the original never changed. Text
 * conversion, secret resolution and secret rotation all write a few values into a
 * config that may be frozen or another's.
 */
import { setMember } from './plain-object.js';

/** One value to put at `keys` (object keys and array indices). */
export interface PathReplacement {
  readonly keys: readonly (string | number)[];
  readonly value: unknown;
}

/**
 * `root` with each replacement's value at its path. An empty path replaces the root. A
 * path that runs through something other than an object or array is left out.
 */
export function replacePaths(root: unknown, replacements: Iterable<PathReplacement>): unknown {
  // Each original container on a path, and its copy: copied once, written in place after.
  const copies = new Map<object, Record<string, unknown> | unknown[]>();
  const copyOf = (node: Record<string, unknown> | unknown[]): Record<string, unknown> | unknown[] => {
    let copy = copies.get(node);
    if (copy === undefined) {
      copy = Array.isArray(node) ? node.slice() : copyObject(node);
      copies.set(node, copy);
    }
    return copy;
  };
  let result = root;
  for (const { keys, value } of replacements) {
    if (keys.length === 0) {
      result = value;
      continue;
    }
    if (!isContainer(root)) continue;
    let original: unknown = root;
    let copy = copyOf(root);
    result = copy;
    let reached = true;
    for (let depth = 0; depth < keys.length - 1 && reached; depth++) {
      const key = keys[depth] as string | number;
      original = (original as Record<string | number, unknown>)[key];
      if (isContainer(original)) {
        const child = copyOf(original);
        assign(copy, key, child);
        copy = child;
      } else reached = false;
    }
    if (reached) assign(copy, keys[keys.length - 1] as string | number, value);
  }
  return result;
}

function isContainer(node: unknown): node is Record<string, unknown> | unknown[] {
  return typeof node === 'object' && node !== null;
}

/** A shallow copy of a plain object, its null prototype kept. */
function copyObject(node: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = Object.getPrototypeOf(node) === null ? (Object.create(null) as Record<string, unknown>) : {};
  for (const key of Object.keys(node)) setMember(copy, key, node[key]);
  return copy;
}

function assign(container: Record<string, unknown> | unknown[], key: string | number, value: unknown): void {
  if (Array.isArray(container)) container[Number(key)] = value;
  else setMember(container, String(key), value);
}
