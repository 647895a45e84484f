import type { Patch } from 'immer';
import { WHOLE_VALUE, copyJson, isCheckedJson, isScalar, markChecked, notJson, unsafeKey } from './checked-json.js';
import type { Slicer } from '../internal/slices.js';
import { isPlainObject, isUnsafeKey, setMember } from './plain-object.js';

/** Options of {@link shareJson}. */
export interface ShareJsonOptions {
  /**
   * Freeze every node built and register it as checked: the result is a snapshot's
   * config. Default: build mutable nodes, for a validator that writes defaults into them.
   */
  readonly freeze?: boolean;
  /**
   * Collects the immer patches that turn `live` into the result: `replace` or `add` for
   * each changed or new member, `remove` for each member gone; an array whose length
   * changed is replaced whole (one `replace`). Nothing is collected for a member whose
   * order alone changed: patches do not carry order.
   */
  readonly patches?: Patch[];
  /**
   * Where `value` and `live` sit in the whole config: the start of every patch path and
   * error path. Default: the root.
   */
  readonly at?: readonly (string | number)[];
  /** What `value` is, as an UnsafeKeyError names it: `reload()` (the default) or `recipe`. */
  readonly input?: string;
}

/**
 * JSON data equal to `copyJson(value)`, member order included, that shares every subtree
 * equal to `live`'s at the same place: the one walk that keeps unchanged parts of a
 * config the very same objects across generations, for the validator (mutable nodes
 * around the live ones, which ajv may write defaults into) and for the reconciler
 * (frozen, checked nodes, with patches).
 *
 * `live` is checked JSON data (a snapshot's config); anything else is taken as nothing
 * to share. A subtree of `value` equals `live`'s when it has the same members in the
 * same order, recursively (`undefined` members left out); it is then replaced by the live
 * node. Where a node differs, a new node is built whose equal members are still the live
 * ones; where `live` has no node of the same kind, the subtree is copied, and checked
 * nodes in it (of any snapshot: a recipe's candidate is made of them) are taken as they
 * are. Returns `live` itself when `value` equals it.
 *
 * Refuses what copyJson refuses, with the same error: the walk reads `value` once, in
 * the order copyJson reads it, and skips only subtrees that are checked data (which hold
 * no unsafe key either).
 * @throws {ValidationError} `ERR_VALIDATION` when `value` is not JSON data, at its path
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY` for an own key `__proto__`, `constructor` or `prototype`
 */
export function shareJson(value: unknown, live: unknown, options: ShareJsonOptions = {}): unknown {
  const walk = startWalk(value, live, options);
  let step = walk.next();
  while (step.done !== true) step = walk.next();
  return step.value;
}

/**
 * {@link shareJson}, in slices: every {@link PAUSE_EVERY} members the walk asks `pause`,
 * and goes on when the promise it returns (if any) settles. For a walk over
 * a whole parsed file (100k leaves take about 20 ms), so that the event loop runs
 * between slices instead of stalling for the whole walk.
 * @throws as {@link shareJson}
 */
export async function shareJsonInSlices(value: unknown, live: unknown, options: ShareJsonOptions, pause: Slicer): Promise<unknown> {
  const walk = startWalk(value, live, options);
  let step = walk.next();
  while (step.done !== true) {
    const paused = pause();
    if (paused !== undefined) await paused;
    step = walk.next();
  }
  return step.value;
}

/** Members the walk visits between two pauses. */
export const PAUSE_EVERY = 2048;

/** The walk as a generator: it yields (nothing) every {@link PAUSE_EVERY} members and returns the result. */
function* startWalk(value: unknown, live: unknown, options: ShareJsonOptions): Generator<void, unknown> {
  const sharing = new Sharing(options.freeze === true, options.patches, options.at ?? [], options.input ?? WHOLE_VALUE);
  const was = typeof live === 'object' && live !== null && !isCheckedJson(live) ? undefined : live;
  if (value === was && was !== undefined) return was;
  return isScalar(value) ? sharing.scalar(value, was) : yield* sharing.member(value, was);
}

class Sharing {
  // Where the walk is in `value`, from the root: the error path and the patch path.
  readonly #path: (string | number)[] = [];
  // Objects of `value` on the current path (a second visit is a cycle), shared with the
  // copies of subtrees so that a cycle through them is seen where copyJson sees it.
  readonly #ancestors = new Set<object>();
  readonly #freeze: boolean;
  // Where patches go; `undefined` while none are wanted (inside an array replaced whole).
  #patches: Patch[] | undefined;
  // The options of every copy of a subtree where `live` has nothing to share: one object
  // for the whole walk, carrying its path and ancestors.
  readonly #copy: { freeze: boolean; keepChecked: true; path: (string | number)[]; ancestors: Set<object>; input: string };
  // Members visited since the last pause.
  #visited = 0;

  constructor(freeze: boolean, patches: Patch[] | undefined, at: readonly (string | number)[], input: string) {
    this.#path.push(...at);
    this.#freeze = freeze;
    this.#patches = patches;
    this.#copy = { freeze, keepChecked: true, path: this.#path, ancestors: this.#ancestors, input };
  }

  /** A scalar of `value` where `was` (a live member, or `undefined` for none) differs from it. */
  scalar(value: unknown, was: unknown): unknown {
    this.#patches?.push(this.#change(was, value));
    return value;
  }

  /** The node for a non-scalar member of `value`, where `was` is the live member at its place (`undefined` for none). */
  *member(value: unknown, was: unknown): Generator<void, unknown> {
    if (typeof value === 'object' && value !== null && typeof was === 'object' && was !== null) {
      if (Array.isArray(value)) {
        if (Array.isArray(was)) return yield* this.#array(value, was);
      } else if (!Array.isArray(was) && isPlainObject(value)) {
        return yield* this.#object(value, was as Record<string, unknown>);
      }
    }
    const copied = copyJson(value, this.#copy);
    this.#patches?.push(this.#change(was, copied));
    return copied;
  }

  /** The patch that puts `value` where `was` is (`undefined`: nothing, below the root). */
  #change(was: unknown, value: unknown): Patch {
    return { op: was === undefined && this.#path.length > 0 ? 'add' : 'replace', path: [...this.#path], value };
  }

  // The member loops below push the key on the path, recurse, and pop it; no try/finally:
  // a throw abandons the whole walk, so nothing needs restoring on that way out. A new
  // node is only built from the first member that differs on: an unchanged subtree (the
  // common case) costs a walk and no allocation.

  *#array(value: readonly unknown[], live: readonly unknown[]): Generator<void, unknown> {
    const path = this.#path;
    if (this.#ancestors.has(value)) notJson(path, 'a cycle');
    this.#ancestors.add(value);
    const patches = this.#patches;
    const sameLength = value.length === live.length;
    if (!sameLength) this.#patches = undefined;
    let out: unknown[] | undefined;
    for (let index = 0; index < value.length; index++) {
      if (++this.#visited === PAUSE_EVERY) {
        this.#visited = 0;
        yield;
      }
      const item: unknown = value[index];
      const was = index < live.length ? live[index] : undefined;
      let taken: unknown;
      // `was !== undefined`: a hole or an `undefined` item past the end of `live` must
      // reach the copy, which refuses it.
      if (item === was && was !== undefined) taken = was;
      else {
        path.push(index);
        taken = isScalar(item) ? this.scalar(item, was) : yield* this.member(item, was);
        path.pop();
      }
      if (out !== undefined) out.push(taken);
      else if (taken !== was) (out = live.slice(0, index)).push(taken);
    }
    this.#ancestors.delete(value);
    this.#patches = patches;
    if (sameLength) return out === undefined ? live : this.#built(out);
    const node = this.#built(out ?? live.slice(0, value.length));
    patches?.push({ op: 'replace', path: [...path], value: node });
    return node;
  }

  *#object(value: Record<string, unknown>, live: Record<string, unknown>): Generator<void, unknown> {
    const path = this.#path;
    if (this.#ancestors.has(value)) notJson(path, 'a cycle');
    this.#ancestors.add(value);
    // `live` is checked data (no getters): its members are read in bulk. `value` is read
    // member by member, once each, as copyJson reads it.
    const liveKeys = Object.keys(live);
    const liveValues = Object.values(live);
    const keys = Object.keys(value);
    let out: Record<string, unknown> | undefined;
    // Members of `value` seen so far, `undefined` ones left out: while they are in the
    // same order as `live`'s, the place of the next one in `live`.
    let place = 0;
    // Members of `value` that `live` has too: fewer than `live` has means some are gone.
    let kept = 0;
    for (let index = 0; index < keys.length; index++) {
      if (++this.#visited === PAUSE_EVERY) {
        this.#visited = 0;
        yield;
      }
      const key = keys[index] as string;
      // As copyJson checks it: before the member is read.
      if (isUnsafeKey(key)) unsafeKey(this.#copy.input, path, key);
      const item = value[key];
      if (item === undefined) continue;
      const inPlace = liveKeys[place] === key;
      // Only an own member of `live` is ever taken, never an inherited value.
      const was = inPlace ? liveValues[place] : Object.hasOwn(live, key) ? live[key] : undefined;
      if (was !== undefined) kept++;
      let taken: unknown;
      if (item === was) taken = was;
      else {
        path.push(key);
        taken = isScalar(item) ? this.scalar(item, was) : yield* this.member(item, was);
        path.pop();
      }
      if (out !== undefined) setMember(out, key, taken);
      else if (taken !== was || !inPlace) setMember((out = firstMembers(liveKeys, liveValues, place)), key, taken);
      place++;
    }
    this.#ancestors.delete(value);
    if (kept !== liveKeys.length) {
      out ??= firstMembers(liveKeys, liveValues, place);
      if (this.#patches !== undefined) {
        for (const key of liveKeys) if (!Object.hasOwn(out, key)) this.#patches.push({ op: 'remove', path: [...path, key] });
      }
    }
    return out === undefined ? live : this.#built(out);
  }

  /** A node this walk built: frozen and checked for a snapshot, mutable for a validator. */
  #built<T extends object>(node: T): T {
    return this.#freeze ? markChecked(node) : node;
  }
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
