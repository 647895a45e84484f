import { ValidationError } from '../errors.js';
import { toPointer } from './json-pointer.js';

/** True for plain objects: created by `{}`, `JSON.parse` or `Object.create(null)`. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Throws a ValidationError for a value that is not JSON data. */
export function notJson(path: readonly (string | number)[], what: string): never {
  throw new ValidationError([{ path: toPointer(path), message: `${what} is not JSON data`, keyword: 'json' }]);
}

/** Options of {@link copyJson}. */
export interface CopyJsonOptions {
  /** Freeze every copied object and array (for snapshots). Default: a mutable copy (for validators). */
  readonly freeze?: boolean;
  /** Where `value` sits in the whole config, for error paths. Restored before returning. */
  readonly path?: (string | number)[];
}

// Every object and array a frozen copy created (the nodes of snapshots): checked JSON
// data that can never change, so a later copy may take it as it is.
const checked = new WeakSet<object>();

/** True for an object or array that a frozen {@link copyJson} (or the reconciler) created. */
export function isCheckedJson(value: unknown): boolean {
  return typeof value === 'object' && value !== null && checked.has(value);
}

/**
 * Marks a frozen object or array whose members are all checked JSON data as checked.
 * For the reconciler, which builds new nodes out of checked ones.
 */
export function markChecked<T extends object>(frozen: T): T {
  checked.add(frozen);
  return frozen;
}

/**
 * A deep copy of JSON data: mutable for validators that write defaults into what they
 * check, frozen for snapshots. Refuses anything JSON cannot carry (functions, class
 * instances, cycles, non-finite numbers) with a ValidationError naming the path; drops
 * `undefined` members.
 */
export function copyJson(value: unknown, options: CopyJsonOptions = {}): unknown {
  return copy(value, { freeze: options.freeze === true, keep: false, ancestors: new Set() }, options.path ?? []);
}

/**
 * A mutable copy of JSON data that takes nodes already checked ({@link isCheckedJson}: a
 * snapshot's, frozen) as they are, and also the nodes of `live` (checked JSON data: a
 * snapshot's config) where `value` equals them: every object or array of
 * `value` whose members are, recursively, the same as those of the node at the same place
 * in `live` (same keys in the same order, same scalars, `undefined` members left out) is
 * replaced by that checked node. The result is equal to `copyJson(value)`, member order
 * included: a mutable copy of the parts that differ from `live`, around checked nodes.
 * Refuses what copyJson refuses, with the same error (the walk visits `value` in the same
 * order and skips only subtrees equal to checked data).
 */
export function overlayJson(value: unknown, live: unknown): unknown {
  const context: CopyContext = { freeze: false, keep: true, ancestors: new Set() };
  return isCheckedJson(live) ? overlay(value, live as object, context, []) : copy(value, context, []);
}

/**
 * {@link overlayJson} of `value` against `live`, a checked node (so are all its members).
 * Returns `live` itself when `value` equals it.
 */
function overlay(value: unknown, live: object, context: CopyContext, path: (string | number)[]): unknown {
  // Checked nodes are frozen: the cheap test first, the WeakSet only for frozen values.
  if (typeof value !== 'object' || value === null || (Object.isFrozen(value) && checked.has(value))) return copy(value, context, path);
  const { ancestors } = context;
  if (Array.isArray(value)) {
    if (!Array.isArray(live)) return copy(value, context, path);
    if (ancestors.has(value)) notJson(path, 'a cycle');
    ancestors.add(value);
    const before = live as readonly unknown[];
    let out: unknown[] | undefined;
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      const was = index < before.length ? before[index] : undefined;
      // `was !== undefined`: a hole or an `undefined` item past the end of `live` must
      // reach copy, which refuses it.
      const taken = item === was && was !== undefined ? was : isScalar(item) ? item : (path.push(index), overlayAt(item, was, context, path));
      if (out !== undefined) out.push(taken);
      else if (taken !== was) (out = before.slice(0, index)).push(taken);
    }
    ancestors.delete(value);
    if (out === undefined && value.length !== before.length) out = before.slice(0, value.length);
    return out ?? live;
  }
  if (!isPlainObject(value) || Array.isArray(live)) return copy(value, context, path);
  if (ancestors.has(value)) notJson(path, 'a cycle');
  ancestors.add(value);
  const before = live as Record<string, unknown>;
  // `live` is our own frozen data (no getters): its members are read in bulk. `value` is
  // read member by member, as copy reads it.
  const beforeKeys = Object.keys(before);
  const beforeValues = Object.values(before);
  const keys = Object.keys(value);
  let out: Record<string, unknown> | undefined;
  // Members of `value` seen so far, `undefined` ones left out: while the order is the
  // same, the place of the next member in `live`.
  let place = 0;
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index] as string;
    const item = value[key];
    if (item === undefined) continue;
    // In place: `key` is an own member of `live` (so no inherited value is ever taken).
    const inPlace = beforeKeys[place] === key;
    const was = inPlace ? beforeValues[place] : Object.hasOwn(before, key) ? before[key] : undefined;
    const taken = item === was ? was : isScalar(item) ? item : (path.push(key), overlayAt(item, was, context, path));
    if (out !== undefined) setMember(out, key, taken);
    else if (taken !== was || !inPlace) setMember((out = firstMembers(beforeKeys, beforeValues, place)), key, taken);
    place++;
  }
  ancestors.delete(value);
  if (out === undefined && place !== beforeKeys.length) out = firstMembers(beforeKeys, beforeValues, place);
  return out ?? live;
}

/** `overlay` (or `copy` where `live` has nothing) of a member whose key the caller pushed on `path`; pops it. */
function overlayAt(value: unknown, live: unknown, context: CopyContext, path: (string | number)[]): unknown {
  const taken = typeof live === 'object' && live !== null ? overlay(value, live, context, path) : copy(value, context, path);
  path.pop();
  return taken;
}

/**
 * A new object with the first `count` members of a live node (`keys`, `values`): while no
 * member of the value walked differed, its members were those, in that order (so that
 * value is not read twice).
 */
function firstMembers(keys: readonly string[], values: readonly unknown[], count: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let index = 0; index < count; index++) setMember(out, keys[index] as string, values[index]);
  return out;
}

interface CopyContext {
  readonly freeze: boolean;
  readonly keep: boolean;
  // Objects on the current path: a second visit is a cycle.
  readonly ancestors: Set<object>;
}

function copy(value: unknown, context: CopyContext, path: (string | number)[]): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : notJson(path, String(value));
    case 'object': {
      if (value === null) return null;
      if (context.keep && checked.has(value)) return value;
      const { ancestors } = context;
      if (ancestors.has(value)) notJson(path, 'a cycle');
      let out: unknown[] | Record<string, unknown>;
      ancestors.add(value);
      // No try/finally around the recursion: a throw abandons the whole copy, so the
      // path and the ancestors do not need restoring on that way out.
      if (Array.isArray(value)) {
        const items: unknown[] = [];
        for (let index = 0; index < value.length; index++) {
          const item: unknown = value[index];
          items.push(isScalar(item) ? item : (path.push(index), copyAt(item, context, path)));
        }
        out = items;
      } else if (isPlainObject(value)) {
        out = {};
        for (const key of Object.keys(value)) {
          const item = value[key];
          if (item === undefined) continue;
          setMember(out, key, isScalar(item) ? item : (path.push(key), copyAt(item, context, path)));
        }
      } else {
        return notJson(path, `an instance of ${value.constructor.name || 'a class'}`);
      }
      ancestors.delete(value);
      return context.freeze ? markChecked(Object.freeze(out)) : out;
    }
    default:
      return notJson(path, `a ${typeof value}`);
  }
}

/** `copy` of a member whose key the caller pushed on `path`; pops it. */
function copyAt(value: unknown, context: CopyContext, path: (string | number)[]): unknown {
  const copied = copy(value, context, path);
  path.pop();
  return copied;
}

/** A string, a boolean or a finite number: JSON data that is no object, copied as it is. */
export function isScalar(value: unknown): boolean {
  const type = typeof value;
  return type === 'string' || type === 'boolean' || (type === 'number' && Number.isFinite(value));
}

/**
 * Sets an own, enumerable member of a fresh plain object, as {@link defineMember} does,
 * but by plain assignment (much faster) when `key` is not a property of
 * `Object.prototype`: then no setter and no read-only property can be reached, even when
 * the prototype was changed or frozen. Keys like `__proto__`, `constructor` or
 * `toString` go through defineProperty.
 */
export function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key in Object.prototype) defineMember(target, key, value);
  else target[key] = value;
}

/**
 * Sets an own, enumerable member with defineProperty, not assignment: a key named
 * "__proto__" stays a plain key and can never reach a prototype setter.
 */
export function defineMember(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
