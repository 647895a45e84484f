import type { Patch } from 'immer';
import { deriveDigest } from '../json/canonical-json.js';
import { isPlainObject } from '../json/plain-object.js';
import { WHOLE_VALUE } from '../json/checked-json.js';
import { shareJson } from '../json/share-json.js';

/** The result of {@link reconcile}. */
export interface Reconciled {
  /** The candidate, deeply frozen and checked, sharing every subtree equal to the previous value's. */
  readonly value: unknown;
  /** What changed, as immer patches (applying them to the previous value yields `value`). */
  readonly patches: Patch[];
}

/**
 * The reconcile stage: turns a validated candidate into the config of the next snapshot.
 * The candidate is often a whole new object (freshly parsed from a file), so identity
 * says nothing: every subtree of `next` equal to the same place in `previous` (same
 * members in the same order) is replaced by the previous, frozen subtree, so unchanged
 * parts keep their identity across generations and the patches name only what changed.
 * The walk is {@link shareJson}'s, the one the validator shares the live config's nodes
 * with.
 *
 * New parts are copied and frozen, never aliased: the caller's object is neither frozen
 * nor kept. Nodes of a snapshot (checked JSON) are taken as they are. `undefined` members
 * are left out. `previous` must be a value this function returned earlier; with
 * `hasPrevious` false (a cold start) it is ignored and the patches are one `replace` of
 * the root. `input` names `next` in an UnsafeKeyError: this walk checks the keys of the
 * validated value too, so a key a validator added (a default, a Standard Schema's
 * output) cannot reach a snapshot either.
 * @throws {ValidationError} `ERR_VALIDATION` when `next` is not JSON data (functions, class instances, cycles, non-finite numbers), at its path
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY` for an own key `__proto__`, `constructor` or `prototype` in `next`
 */
export function reconcile(previous: unknown, next: unknown, hasPrevious = true, input = WHOLE_VALUE): Reconciled {
  const patches: Patch[] = [];
  const value = shareJson(next, hasPrevious ? previous : undefined, { freeze: true, patches, input });
  if (hasPrevious) deriveDigests(value, previous, patches);
  return { value, patches };
}

/**
 * Gives every object of `config` (checked) above a patch the digest that follows from its
 * counterpart in `previous` and the members changed under it ({@link deriveDigest}):
 * for wide maps, instead of encoding all their members again when the digest is asked
 * for. Deepest first, so each one finds its changed children's digests known.
 */
export function deriveDigests(config: unknown, previous: unknown, patches: readonly Patch[]): void {
  const changed = new Map<object, { readonly previous: Record<string, unknown>; readonly keys: Set<string>; readonly depth: number }>();
  for (const { path } of patches) {
    let node = config;
    let was = previous;
    for (let depth = 0; depth < path.length && node !== was && isPlainObject(node) && isPlainObject(was); depth++) {
      const key = path[depth] as string;
      let entry = changed.get(node);
      if (entry === undefined) changed.set(node, (entry = { previous: was, keys: new Set(), depth }));
      entry.keys.add(key);
      node = node[key];
      was = was[key];
    }
  }
  for (const [node, { previous: was, keys }] of [...changed].sort(([, a], [, b]) => b.depth - a.depth)) deriveDigest(node as Record<string, unknown>, was, keys);
}
