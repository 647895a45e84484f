import type { Patch } from 'immer';
import { copyJson, isPlainObject, isScalar, markChecked, notJson, setMember } from '../json/checked-json.js';

/** The result of {@link reconcile}. */
export interface Reconciled {
  /** The candidate, deeply frozen, sharing every subtree equal to the previous value's. */
  readonly value: unknown;
  /** What changed, as immer patches (applying them to the previous value yields `value`). */
  readonly patches: Patch[];
}

/**
 * Reconciles a candidate config against the live one, the way a file-driven reload
 * needs it: the candidate is usually a whole new object freshly parsed, so identity says
 * nothing. Every subtree of `next` that equals the same place in `previous` is replaced
 * by the previous (frozen) subtree, so unchanged parts keep their identity across
 * generations and patches name only what really changed.
 *
 * New parts are copied, never aliased: the caller's object is neither frozen nor kept.
 * Throws a ValidationError when `next` is not JSON data (functions, class instances,
 * cycles, non-finite numbers). `undefined` members are left out.
 *
 * `previous` must be a value this function returned earlier (frozen, checked): a node of
 * `next` that *is* a node of `previous` is taken as it is, without a walk.
 */
export function reconcile(previous: unknown, next: unknown, hasPrevious = true): Reconciled {
  const walker = new Walker();
  if (!hasPrevious) {
    const value = walker.build(next, []);
    return { value, patches: [{ op: 'replace', path: [], value }] };
  }
  const value = walker.merge(previous, next, []);
  return { value, patches: walker.patches };
}

class Walker {
  readonly patches: Patch[] = [];
  // Objects of `next` on the current path: a second visit is a cycle.
  readonly #ancestors = new Set<object>();

  merge(prev: unknown, next: unknown, path: (string | number)[]): unknown {
    if (next === prev && (prev === null || typeof prev !== 'object' || Object.isFrozen(prev))) return prev;
    if (next === null || typeof next !== 'object') {
      const value = this.build(next, path);
      if (value === prev) return prev;
      this.patches.push({ op: 'replace', path: [...path], value });
      return value;
    }
    if (Array.isArray(next) && Array.isArray(prev) && prev.length === next.length) {
      this.#enter(next, path);
      const value = this.#mergeArray(prev, next, path);
      this.#ancestors.delete(next);
      return value;
    }
    if (isPlainObject(next) && isPlainObject(prev)) {
      this.#enter(next, path);
      const value = this.#mergeObject(prev, next, path);
      this.#ancestors.delete(next);
      return value;
    }
    const value = this.build(next, path);
    this.patches.push({ op: 'replace', path: [...path], value });
    return value;
  }

  /** A checked, frozen copy of JSON data. */
  build(next: unknown, path: (string | number)[]): unknown {
    return copyJson(next, { freeze: true, path });
  }

  // The member loops below push the key on `path`, recurse, and pop it; no try/finally:
  // a throw abandons the whole walk, so nothing needs restoring on that way out. The new
  // node is only built from the first changed member on: an unchanged subtree (the
  // common case) costs a walk and no allocation.

  #mergeArray(prev: readonly unknown[], next: readonly unknown[], path: (string | number)[]): unknown {
    let out: unknown[] | undefined;
    for (let index = 0; index < next.length; index++) {
      const before = prev[index];
      const item = next[index];
      let value = before;
      if (item !== before || !isScalar(before)) {
        path.push(index);
        value = this.merge(before, item, path);
        path.pop();
      }
      if (out !== undefined) out.push(value);
      else if (value !== before) (out = prev.slice(0, index)).push(value);
    }
    return out === undefined ? prev : markChecked(Object.freeze(out));
  }

  #mergeObject(prev: Record<string, unknown>, next: Record<string, unknown>, path: (string | number)[]): unknown {
    let out: Record<string, unknown> | undefined;
    let kept = 0;
    const keys = Object.keys(next);
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index] as string;
      const item = next[key];
      if (item === undefined) continue;
      let value: unknown;
      if (Object.hasOwn(prev, key)) {
        kept++;
        const before = prev[key];
        value = before;
        if (item !== before || !isScalar(before)) {
          path.push(key);
          value = this.merge(before, item, path);
          path.pop();
        }
        if (value === before) {
          if (out !== undefined) setMember(out, key, value);
          continue;
        }
      } else {
        path.push(key);
        value = this.build(item, path);
        path.pop();
        this.patches.push({ op: 'add', path: [...path, key], value });
      }
      out ??= unchangedMembers(prev, next, keys, index);
      setMember(out, key, value);
    }
    if (kept !== Object.keys(prev).length) {
      out ??= unchangedMembers(prev, next, keys, keys.length);
      for (const key of Object.keys(prev)) {
        if (!Object.hasOwn(out, key)) this.patches.push({ op: 'remove', path: [...path, key] });
      }
    }
    return out === undefined ? prev : markChecked(Object.freeze(out));
  }

  /** Marks `node` as on the current path; a second visit is a cycle. */
  #enter(node: object, path: (string | number)[]): void {
    if (this.#ancestors.has(node)) notJson(path, 'a cycle');
    this.#ancestors.add(node);
  }
}

/** A new object with the members `keys[0 … end)` of `next`, all unchanged: their values are `prev`'s. */
function unchangedMembers(prev: Record<string, unknown>, next: Record<string, unknown>, keys: readonly string[], end: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let index = 0; index < end; index++) {
    const key = keys[index] as string;
    if (next[key] !== undefined) setMember(out, key, prev[key]);
  }
  return out;
}
