/**
 * Validate and reconcile, at the cost of what changed. The whole-config path (validate a
 * copy that shares the live config's nodes, then reconcile it into frozen nodes) reads
 * every node of the candidate twice and has ajv check all of it; for a recipe that sets
 * one member of a 1M-leaf config that is a million checks for one change. This stage
 * instead finds where the candidate differs from the live config, shares and copies only
 * there, has the schema check only the changed subtrees (change-validation.ts), and
 * freezes in place what it built. It gives the same config and patches as the whole path
 * or, when it cannot tell (an invalid change, a schema keyword that needs more), the
 * candidate for the whole path, which then runs and decides.
 *
 * Where the candidate may differ: for recipes, below the paths immer reports written
 * (stage-input.ts), and wherever a member of immer's copies above them differs from the
 * live one (immer's patches can miss a change). Those copies are made for this candidate
 * only, so this stage completes and freezes them instead of copying them again (a
 * routing table of 100k entries is copied once per reload, by immer, not three times).
 * For a whole value (a file), anywhere: one walk over it against the live config.
 */
import type { Patch } from 'immer';
import { UnsafeKeyError, ValidationError } from '../errors.js';
import { WHOLE_VALUE, markChecked, sealJson, unsafeKey } from '../json/checked-json.js';
import { isPlainObject, isUnsafeKey, setMember } from '../json/plain-object.js';
import type { Slicer } from '../internal/slices.js';
import { shareJson, shareJsonInSlices } from '../json/share-json.js';
import type { ChangeValidation } from '../schema/validator.js';
import type { Reconciled } from './reconcile.js';
import { deriveDigests, reconcile } from './reconcile.js';
import type { StagedInput } from './stage-input.js';

type Path = readonly (string | number)[];

/** An object above a changed subtree (a copy immer made), how deep it is, and its members once compared. */
interface Above {
  readonly depth: number;
  readonly node: object;
  members?: number;
}

/**
 * The validated, frozen config of the next snapshot and its patches; or, when the change
 * check cannot tell, what the caller must validate and reconcile whole instead.
 * `live` is the live config (checked JSON data); `pause` slices the walk over a whole
 * value; `input` names the candidate in an UnsafeKeyError. A candidate that is not JSON
 * data, or that holds an own key that can pollute prototypes where it differs from the
 * live config (the only places it can: the live config holds none), goes to the whole
 * path too, which names it: both paths refuse the same candidates with the same error.
 */
export async function reconcileChanges(live: unknown, staged: StagedInput, changes: ChangeValidation, pause: Slicer, input = WHOLE_VALUE): Promise<ChangeOutcome> {
  const { candidate } = staged;
  if (candidate === live) return { reconciled: { value: live, patches: [] } };
  const patches: Patch[] = [];
  // The subtrees this stage built (mutable until validated), and what this stage put into
  // immer's copies (taken back for a value that is not JSON data).
  const built: unknown[] = [];
  const placed: Placement[] = [];
  let root = candidate;
  let found: Subtrees | undefined;
  try {
    found = staged.written === undefined ? undefined : changedSubtrees(staged.written, candidate, live);
    if (found === undefined) {
      // A whole value (a parsed file, or a recipe's result immer did not copy from the
      // live config) may be large: walked in slices.
      root = await shareJsonInSlices(candidate, live, { patches, input }, pause);
      if (root === live) return { reconciled: { value: live, patches } };
      built.push(root);
    } else {
      for (const unit of found.units) {
        const data = shareUnit(candidate, live, unit, { patches, input }, placed);
        if (data !== undefined) built.push(data);
      }
    }
  } catch (error) {
    // A value that is not JSON data, or an unsafe key: the whole path names it, where its
    // walk meets it first (this stage meets the changed subtrees in another order).
    if (!(error instanceof ValidationError || error instanceof UnsafeKeyError)) throw error;
    undo(placed);
    return { whole: candidate };
  }
  const validated = changes.check(root, patches.map((patch) => patch.path));
  // The whole path then validates what this stage read (each member of the candidate is
  // read once: the value checked is the value kept); the check took back its defaults.
  if (validated === undefined) return { whole: root };
  let result = patches;
  if (changes.writesDefaults && validated.length > 0) {
    // Validation may have written defaults into the nodes it validated, and only there:
    // this stage's own copies (the check validates nothing above a change when the schema
    // has defaults). Each is compared with the live config again, for its frozen nodes
    // and its patches (the defaults are changes too).
    const again = outermost(validated);
    if (again.some((path) => path.length === 0)) return { reconciled: reconcile(live, root, true, input) };
    result = patches.filter((patch) => !again.some((path) => startsWith(patch.path, path)));
    for (const path of again) shareUnit(root, live, path, { patches: result, freeze: true, input });
  }
  for (const data of built) sealJson(data);
  // immer's copies above the changed subtrees, deepest first: every other member of
  // theirs is the live config's own (checked) node, which changedSubtrees made sure of.
  if (found !== undefined) {
    // Each copy's member count, for the next reload's comparison: as compared, less the
    // members this stage deleted from it.
    for (const { parent, had, value } of placed) if (had && value === undefined) countDeleted(found.above, parent);
    for (const { node, members } of [...found.above.values()].sort((a, b) => b.depth - a.depth)) {
      markChecked(node);
      if (members !== undefined) counts.set(node, members);
    }
  }
  deriveDigests(root, live, result);
  return { reconciled: { value: root, patches: result } };
}

/**
 * What {@link reconcileChanges} gives: the next config and its patches, or the candidate
 * the whole path must validate and reconcile (the check could not tell).
 */
export type ChangeOutcome = { readonly reconciled: Reconciled } | { readonly whole: unknown };

/** A member this stage set in an object immer copied: where, and what was there. */
interface Placement {
  readonly parent: Record<string, unknown>;
  readonly key: string;
  readonly had: boolean;
  readonly value: unknown;
}

/** Puts back what this stage replaced in immer's copies, latest first. */
function undo(placed: readonly Placement[]): void {
  for (let index = placed.length - 1; index >= 0; index--) {
    const { parent, key, had, value } = placed[index] as Placement;
    if (had) setMember(parent, key, value);
    else Reflect.deleteProperty(parent, key);
  }
}

/**
 * Shares the member at `unit` (a path below the root) of the candidate with the live
 * config's and puts the result in its place (an object immer copied, or one this stage
 * built), recording the patches (a member gone or `undefined` is a `remove`, and is
 * deleted) and, with `placed`, what it replaced. The shared value, `undefined` for none.
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY` when the candidate holds the member under an unsafe key, or one below it does
 */
function shareUnit(
  candidate: unknown,
  live: unknown,
  unit: Path,
  options: { readonly patches: Patch[]; readonly freeze?: boolean; readonly input: string },
  placed?: Placement[],
): unknown {
  const parent = nodeAt(candidate, unit, unit.length - 1) as Record<string, unknown>;
  const liveParent = nodeAt(live, unit, unit.length - 1) as Record<string, unknown>;
  const key = unit[unit.length - 1] as string;
  const was = Object.hasOwn(liveParent, key) ? liveParent[key] : undefined;
  const had = Object.hasOwn(parent, key);
  // The key of a changed member is the one key of it that the walk below does not visit;
  // every key above it is one the live config holds too. A key only deleted is no data.
  if (had && isUnsafeKey(key)) unsafeKey(options.input, unit.slice(0, -1), key);
  const value = had ? parent[key] : undefined;
  if (value === undefined) {
    if (was !== undefined) options.patches.push({ op: 'remove', path: [...unit] });
    if (had) {
      placed?.push({ parent, key, had, value });
      Reflect.deleteProperty(parent, key);
    }
    return undefined;
  }
  const shared = shareJson(value, was, { ...options, at: unit });
  placed?.push({ parent, key, had, value });
  setMember(parent, key, shared);
  return shared;
}

/** The paths of `paths` that no other one is above (one of equal paths), shortest first. */
function outermost(paths: readonly Path[]): Path[] {
  const sorted = [...paths].sort((a, b) => a.length - b.length);
  const kept: Path[] = [];
  const keys = new Set<string>();
  for (const path of sorted) {
    let covered = false;
    for (let length = 0; length <= path.length && !covered; length++) covered = keys.has(JSON.stringify(path.slice(0, length)));
    if (covered) continue;
    keys.add(JSON.stringify(path));
    kept.push(path);
  }
  return kept;
}

/** True when `path` is `prefix` or below it. */
function startsWith(path: Path, prefix: Path): boolean {
  return prefix.length <= path.length && prefix.every((key, index) => path[index] === key);
}

/** Where a recipe's candidate differs from the live config. */
interface Subtrees {
  /** Paths of the members that differ (set, added or removed), none below another. */
  readonly units: Path[];
  /** immer's copies above them, by path (JSON): the root, and each object on the way. */
  readonly above: Map<string, Above>;
}

/**
 * Where a recipe's candidate differs from the live config: the paths immer reports
 * written, each cut at the first node that is not a plain object in both (an array is
 * reconciled whole; a path through a replaced value ends at it), none below another; then
 * completed, because immer's patches can miss a change (a draft the recipe also put inside
 * a new object, a change undone in the same recipe): every member of immer's copies above
 * the cuts is compared with the live one, and one that differs, or is gone, and that no
 * cut covers is a changed subtree too. `undefined` when the candidate is not made that
 * way (its root is not immer's copy of a plain object, or an object above a cut is
 * frozen, a snapshot's node put there): it is then walked whole.
 */
function changedSubtrees(written: readonly Path[], candidate: unknown, live: unknown): Subtrees | undefined {
  if (!isPlainObject(candidate) || Object.isFrozen(candidate) || !isPlainObject(live)) return undefined;
  const cuts: Path[] = [];
  for (const path of written) {
    let node: unknown = candidate;
    let liveNode: unknown = live;
    let depth = 0;
    // Down while both are plain objects holding the key; a key only one of them holds is
    // a member added or removed: the cut ends at it.
    while (depth < path.length && isPlainObject(node) && isPlainObject(liveNode)) {
      const key = path[depth++];
      if (typeof key !== 'string' || !Object.hasOwn(node, key) || !Object.hasOwn(liveNode, key)) break;
      node = node[key];
      liveNode = liveNode[key];
    }
    cuts.push(path.slice(0, depth));
  }
  const units = outermost(cuts);
  const above = new Map<string, Above>([['[]', { depth: 0, node: candidate }]]);
  for (const unit of units) if (nodeAt(candidate, unit, unit.length - 1, above) === undefined) return undefined;
  // Members of each copy that lead to a deeper copy or are a cut: not compared here.
  const onPaths = new Map<string, Set<string>>();
  for (const unit of units) {
    for (let depth = 0; depth < unit.length; depth++) {
      const at = JSON.stringify(unit.slice(0, depth));
      let keys = onPaths.get(at);
      if (keys === undefined) onPaths.set(at, (keys = new Set()));
      keys.add(unit[depth] as string);
    }
  }
  for (const [at, entry] of above) {
    const { node } = entry;
    const path = JSON.parse(at) as string[];
    const liveNode = nodeAt(live, path, path.length) as Record<string, unknown>;
    const skip = onPaths.get(at);
    const copy = node as Record<string, unknown>;
    let shared = 0;
    const keys = Object.keys(copy);
    entry.members = keys.length;
    for (const key of keys) {
      const value = copy[key];
      // The same value: JSON data, so an own member of the live node (Object.prototype
      // holds no JSON data); most members of a copy are these. Not under an unsafe key:
      // the live node holds none, so the same value there is Object.prototype's own (its
      // `constructor`, itself as `__proto__`), and the member a change to refuse.
      if (value === liveNode[key] && value !== undefined && !isUnsafeKey(key)) {
        shared++;
        continue;
      }
      if (Object.hasOwn(liveNode, key)) shared++;
      if (skip?.has(key) !== true) units.push([...path, key]);
    }
    if (shared === memberCount(liveNode)) continue;
    for (const key of Object.keys(liveNode)) if (!Object.hasOwn(copy, key) && skip?.has(key) !== true) units.push([...path, key]);
  }
  return { units, above };
}

/** One member fewer in the copy `parent`. */
function countDeleted(above: Map<string, Above>, parent: object): void {
  for (const entry of above.values()) if (entry.node === parent && entry.members !== undefined) entry.members--;
}

// Members of checked objects, counted once: a checked object never changes.
const counts = new WeakMap<object, number>();

function memberCount(node: object): number {
  let count = counts.get(node);
  if (count === undefined) counts.set(node, (count = Object.keys(node).length));
  return count;
}

/**
 * The node at the first `depth` keys of `path` in `root`. With `above`, each object on
 * the way (the root included) must be a mutable object, not checked data, and is
 * recorded there; `undefined` when one is not.
 */
function nodeAt(root: unknown, path: Path, depth: number, above?: Map<string, Above>): unknown {
  let node = root;
  for (let index = 0; ; index++) {
    if (above !== undefined) {
      if (!isPlainObject(node) || Object.isFrozen(node)) return undefined;
      above.set(JSON.stringify(path.slice(0, index)), { depth: index, node });
    }
    if (index === depth) return node;
    node = (node as Record<string, unknown>)[path[index] as string];
  }
}
