import type { Patch } from 'immer';
import { copyJson, defineMember, isPlainObject, notJson } from './json-data.js';

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
      return this.#within(next, path, () => this.#mergeArray(prev, next, path));
    }
    if (isPlainObject(next) && isPlainObject(prev)) {
      return this.#within(next, path, () => this.#mergeObject(prev, next, path));
    }
    const value = this.build(next, path);
    this.patches.push({ op: 'replace', path: [...path], value });
    return value;
  }

  /** A checked, frozen copy of JSON data. */
  build(next: unknown, path: (string | number)[]): unknown {
    return copyJson(next, { freeze: true, path });
  }

  #mergeArray(prev: readonly unknown[], next: readonly unknown[], path: (string | number)[]): unknown {
    let changed = false;
    const out: unknown[] = [];
    for (let index = 0; index < next.length; index++) {
      const value = this.#at(path, index, () => this.merge(prev[index], next[index], path));
      if (value !== prev[index]) changed = true;
      out.push(value);
    }
    return changed ? Object.freeze(out) : prev;
  }

  #mergeObject(prev: Record<string, unknown>, next: Record<string, unknown>, path: (string | number)[]): unknown {
    let changed = false;
    const out: Record<string, unknown> = {};
    let kept = 0;
    for (const key of Object.keys(next)) {
      const item = next[key];
      if (item === undefined) continue;
      let value: unknown;
      if (Object.hasOwn(prev, key)) {
        kept++;
        value = this.#at(path, key, () => this.merge(prev[key], item, path));
        if (value !== prev[key]) changed = true;
      } else {
        value = this.#at(path, key, () => this.build(item, path));
        this.patches.push({ op: 'add', path: [...path, key], value });
        changed = true;
      }
      defineMember(out, key, value);
    }
    if (kept !== Object.keys(prev).length) {
      for (const key of Object.keys(prev)) {
        if (!Object.hasOwn(out, key)) this.patches.push({ op: 'remove', path: [...path, key] });
      }
      changed = true;
    }
    return changed ? Object.freeze(out) : prev;
  }

  #within<R>(node: object, path: (string | number)[], body: () => R): R {
    if (this.#ancestors.has(node)) notJson(path, 'a cycle');
    this.#ancestors.add(node);
    try {
      return body();
    } finally {
      this.#ancestors.delete(node);
    }
  }

  #at<R>(path: (string | number)[], key: string | number, body: () => R): R {
    path.push(key);
    try {
      return body();
    } finally {
      path.pop();
    }
  }
}
