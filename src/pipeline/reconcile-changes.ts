/**
 * Validate and reconcile, at the cost of what changed. The whole-config path (validate a
 * copy that shares the live config's nodes, then reconcile it into frozen nodes) reads
 * every node of the candidate twice and has ajv check all of it; for a recipe that sets
 * one member of a 1M-leaf config that is a million checks for one change. This stage
 * instead finds where the candidate differs from the live config, shares and copies only
 * there, has the schema check only the changed subtrees (change-validation.ts), and
 * freezes in place what it built. It gives the same config and patches as the whole path
 * or, when it cannot tell (an invalid change, a schema keyword that needs more), nothing:
 * the whole path then runs and decides.
 *
 * Where the candidate may differ: for recipes, below the paths immer reports written
 * (stage-input.ts); every object above those paths is a copy immer made for this
 * candidate, which this stage may complete and freeze instead of copying it again
 * (a routing table of 100k entries is copied once per reload, by immer, not three times).
 * For a whole value (a file), anywhere: one walk over it against the live config.
 */
import type { Patch } from 'immer';
import { markChecked, sealJson } from '../json/checked-json.js';
import { isPlainObject, setMember } from '../json/plain-object.js';
import type { Slicer } from '../internal/slices.js';
import { shareJson, shareJsonInSlices } from '../json/share-json.js';
import type { ChangeValidation } from '../schema/validator.js';
import type { Reconciled } from './reconcile.js';
import { deriveDigests, reconcile } from './reconcile.js';
import type { StagedInput } from './stage-input.js';

type Path = readonly (string | number)[];

/** An object above a changed subtree (a copy immer made), and how deep it is. */
interface Above {
  readonly depth: number;
  readonly node: object;
}

/**
 * The validated, frozen config of the next snapshot and its patches; `undefined` when the
 * change check cannot tell (the caller then validates and reconciles the whole candidate).
 * `live` is the live config (checked JSON data); `pause` slices the walk over a whole value.
 * @throws {ValidationError} `ERR_VALIDATION` when the candidate is not JSON data, at its path
 */
export async function reconcileChanges(live: unknown, staged: StagedInput, changes: ChangeValidation, pause: Slicer): Promise<Reconciled | undefined> {
  const units = staged.written === undefined ? [[]] : changedSubtrees(staged.written, staged.candidate, live);
  const patches: Patch[] = [];
  let root = staged.candidate;
  // The subtrees this stage built (mutable until validated), and the copies immer made above them.
  const built: unknown[] = [];
  const above = new Map<string, Above>();
  let same = true;
  for (const unit of units) {
    if (unit.length === 0) {
      // A whole value (a parsed file) may be large: walked in slices.
      root = await shareJsonInSlices(staged.candidate, live, { patches }, pause);
      same &&= root === live;
      built.push(root);
      continue;
    }
    // An object above a written path that is not immer's copy (a snapshot node a recipe
    // put there): it cannot be completed in place.
    if (nodeAt(staged.candidate, unit, unit.length - 1, above) === undefined) return undefined;
    const data = shareUnit(staged.candidate, live, unit, { patches });
    same &&= data.same;
    if (data.value !== undefined) built.push(data.value);
  }
  if (same && patches.length === 0) return { value: live, patches };
  const validated = changes.check(root, patches.map((patch) => patch.path));
  if (validated === undefined) return undefined;
  let result = patches;
  if (changes.writesDefaults && validated.length > 0) {
    // Validation may have written defaults into the nodes it validated, and only there.
    // Inside the changed subtrees those are this stage's own mutable copies: each one is
    // compared with the live config again, for its frozen nodes and its patches (the
    // defaults are changes too). A node validated above them (the root, or an object
    // immer copied, holding live nodes): the whole candidate is compared again.
    const again = outermost(validated);
    if (again.some((path) => path.length === 0 || !units.some((unit) => startsWith(path, unit)))) return reconcile(live, root);
    result = patches.filter((patch) => !again.some((path) => startsWith(patch.path, path)));
    for (const path of again) shareUnit(root, live, path, { patches: result, freeze: true });
  }
  for (const data of built) sealJson(data);
  // immer's copies above the changed subtrees, deepest first: their other members are
  // the live config's own (checked) nodes.
  for (const { node } of [...above.values()].sort((a, b) => b.depth - a.depth)) markChecked(node);
  deriveDigests(root, live, result);
  return { value: root, patches: result };
}

/**
 * Shares the member at `unit` (a path below the root) of the candidate with the live
 * config's, puts the result in its place (an object immer copied, or one this stage
 * built), and records the patches; a member gone is a `remove`. `same`: nothing changed
 * there.
 */
function shareUnit(candidate: unknown, live: unknown, unit: Path, options: { readonly patches: Patch[]; readonly freeze?: boolean }): { readonly value: unknown; readonly same: boolean } {
  const parent = nodeAt(candidate, unit, unit.length - 1) as Record<string, unknown>;
  const liveParent = nodeAt(live, unit, unit.length - 1) as Record<string, unknown>;
  const key = unit[unit.length - 1] as string;
  const was = Object.hasOwn(liveParent, key) ? liveParent[key] : undefined;
  const value = Object.hasOwn(parent, key) ? parent[key] : undefined;
  if (value === undefined) {
    if (was !== undefined) options.patches.push({ op: 'remove', path: [...unit] });
    return { value, same: was === undefined };
  }
  const shared = shareJson(value, was, { ...options, at: unit });
  setMember(parent, key, shared);
  return { value: shared, same: shared === was };
}

/** The paths of `paths` that no other one is above. */
function outermost(paths: readonly Path[]): Path[] {
  return paths.filter((path, index) => !paths.some((other, at) => at !== index && startsWith(path, other) && (other.length < path.length || at < index)));
}

/** True when `path` is `prefix` or below it. */
function startsWith(path: Path, prefix: Path): boolean {
  return prefix.length <= path.length && prefix.every((key, index) => path[index] === key);
}

/**
 * The smallest set of subtrees that holds every written path: each path is cut at the
 * first node that is not a plain object in both the candidate and the live config (an
 * array is reconciled whole; a path through a replaced value ends at it), and a path
 * below another one is dropped.
 */
function changedSubtrees(written: readonly Path[], candidate: unknown, live: unknown): Path[] {
  const cuts: Path[] = [];
  for (const path of written) {
    let node = candidate;
    let liveNode = live;
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
  cuts.sort((a, b) => a.length - b.length);
  const kept: Path[] = [];
  const keys = new Set<string>();
  for (const cut of cuts) {
    let covered = false;
    for (let length = 0; length <= cut.length && !covered; length++) covered = keys.has(JSON.stringify(cut.slice(0, length)));
    if (covered) continue;
    keys.add(JSON.stringify(cut));
    kept.push(cut);
  }
  return kept;
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
