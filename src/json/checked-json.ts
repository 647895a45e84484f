/**
 * Checked JSON: the registry of the nodes a snapshot is made of, and the copy that makes
 * them. A node is registered only when it is frozen, no key of it is one of the
 * UNSAFE_KEYS, and every member is checked JSON data (recursively), so a registered node
 * can never change: whatever is derived from it (its canonical text, its validity) stays
 * true for as long as it lives.
 */
import { UnsafeKeyError, ValidationError } from '../errors.js';
import { toPointer } from './json-pointer.js';
import { isPlainObject, isUnsafeKey, setMember } from './plain-object.js';

// Every registered node: frozen, and made only of checked JSON data.
const checked = new WeakSet<object>();

/** True for an object or array registered as checked JSON data: deeply frozen, never changes. */
export function isCheckedJson(value: unknown): boolean {
  return typeof value === 'object' && value !== null && checked.has(value);
}

/**
 * Freezes a new object or array whose members are all checked JSON data (scalars or
 * checked nodes) and registers it as checked. For walks that build new nodes around
 * checked ones; the caller vouches for the members, and for the keys (none of the
 * UNSAFE_KEYS).
 */
export function markChecked<T extends object>(node: T): T {
  checked.add(Object.freeze(node));
  return node;
}

/**
 * Freezes and registers, in place, every node of `value` that is not checked yet, from
 * the leaves up: for data this package built itself (copies of JSON data, validated), so
 * that it becomes a snapshot's without being copied again. Checked nodes are taken as
 * they are. Never give it an object of anyone else's.
 */
export function sealJson(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || checked.has(value)) return value;
  for (const item of Array.isArray(value) ? value : Object.values(value)) sealJson(item);
  return markChecked(value);
}

/** A string, a boolean or a finite number: JSON data that is no object, copied as it is. */
export function isScalar(value: unknown): boolean {
  const type = typeof value;
  return type === 'string' || type === 'boolean' || (type === 'number' && Number.isFinite(value));
}

/** Throws the ValidationError for a value that is not JSON data, at its path. */
export function notJson(path: readonly (string | number)[], what: string): never {
  throw new ValidationError([{ path: toPointer(path), message: `${what} is not JSON data`, keyword: 'json' }]);
}

/**
 * Throws the UnsafeKeyError for an own key of an object of `input` that can pollute
 * prototypes; `path` leads to the object holding it.
 */
export function unsafeKey(input: string, path: readonly (string | number)[], key: string): never {
  throw new UnsafeKeyError(input, key, toPointer(path));
}

/** What a walk calls the value it was given, in an UnsafeKeyError, when the caller does not say. */
export const WHOLE_VALUE = 'reload()';

/** Options of {@link copyJson}. */
export interface CopyJsonOptions {
  /** Freeze every copied node and register it as checked (a snapshot's). Default: a mutable copy (for validators). */
  readonly freeze?: boolean;
  /** Take checked nodes as they are instead of copying them (they never change). Default: copy everything. */
  readonly keepChecked?: boolean;
  /** Where `value` sits in the whole config, for error paths. Restored before returning. */
  readonly path?: (string | number)[];
  /**
   * The objects on the path above `value`, for a walk that copies some of its subtrees:
   * a cycle through them is then refused where a whole copy would refuse it. Restored
   * before returning.
   */
  readonly ancestors?: Set<object>;
  /**
   * What `value` is, as an UnsafeKeyError names it: `reload()` (a whole value, the
   * default) or `recipe` (what a recipe made).
   */
  readonly input?: string;
}

/**
 * A deep copy of JSON data: mutable for validators that write defaults into what they
 * check, frozen and registered as checked for snapshots. Refuses anything JSON cannot
 * carry (functions, class instances, cycles, non-finite numbers) with a ValidationError
 * naming the path, and an own key that can pollute prototypes (`__proto__`,
 * `constructor`, `prototype`, whatever its value) with an UnsafeKeyError, before reading
 * its member; drops `undefined` members. Reads each member of `value` once.
 * @throws {ValidationError} `ERR_VALIDATION` when `value` is not JSON data, at its path
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY` for an own key `__proto__`, `constructor` or `prototype`
 */
export function copyJson(value: unknown, options: CopyJsonOptions = {}): unknown {
  return copy(value, options.freeze === true, options.keepChecked === true, options.ancestors ?? new Set(), options.path ?? [], options.input ?? WHOLE_VALUE);
}

function copy(value: unknown, freeze: boolean, keep: boolean, ancestors: Set<object>, path: (string | number)[], input: string): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : notJson(path, String(value));
    case 'object': {
      if (value === null) return null;
      if (keep && checked.has(value)) return value;
      if (ancestors.has(value)) notJson(path, 'a cycle');
      let out: unknown[] | Record<string, unknown>;
      ancestors.add(value);
      // No try/finally around the recursion: a throw abandons the whole copy, so the
      // path and the ancestors do not need restoring on that way out.
      if (Array.isArray(value)) {
        const items: unknown[] = [];
        for (let index = 0; index < value.length; index++) {
          const item: unknown = value[index];
          if (isScalar(item)) items.push(item);
          else {
            path.push(index);
            items.push(copy(item, freeze, keep, ancestors, path, input));
            path.pop();
          }
        }
        out = items;
      } else if (isPlainObject(value)) {
        out = {};
        for (const key of Object.keys(value)) {
          // Before the member is read: a refused key runs no getter. Checked nodes are
          // taken above without this: none holds such a key.
          if (isUnsafeKey(key)) unsafeKey(input, path, key);
          const item = value[key];
          if (item === undefined) continue;
          if (isScalar(item)) setMember(out, key, item);
          else {
            path.push(key);
            setMember(out, key, copy(item, freeze, keep, ancestors, path, input));
            path.pop();
          }
        }
      } else {
        return notJson(path, describeObject(value));
      }
      ancestors.delete(value);
      return freeze ? markChecked(out) : out;
    }
    default:
      return notJson(path, `a ${typeof value}`);
  }
}

/**
 * What a non-plain object is, for a message: `an instance of Date` when its prototype has
 * a constructor of its own (a class's prototype), read through property descriptors so
 * that no getter of the value runs. Otherwise (`Object.create(Object.create(null))`, a
 * class whose prototype lost its constructor, a plain object used as a prototype) the
 * prototype names nothing.
 */
function describeObject(value: object): string {
  const proto: unknown = Object.getPrototypeOf(value);
  const constructor: unknown = proto === null ? undefined : Object.getOwnPropertyDescriptor(proto, 'constructor')?.value;
  const name: unknown = typeof constructor === 'function' ? Object.getOwnPropertyDescriptor(constructor, 'name')?.value : undefined;
  return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object with a prototype other than Object.prototype';
}
