// Generated candidates made from a live config the two ways a reload gets them: a file
// (a fresh parse: equal subtrees, no shared identity) and a recipe (copy-on-write: every
// unchanged node is the live one). Edits set, delete or move members; a moved member is
// the live node itself in a recipe, an equal copy in a file.
import fc from 'fast-check';
import { setMember } from '../../src/json/plain-object.js';

/** Keys of generated objects: few, so that values and live configs often meet. */
export const KEYS = ['a', 'b', 'c', '__proto__', 'constructor'] as const;

/** JSON data over small alphabets (keys from KEYS). */
export const tree: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('object'), tie('array')),
  leaf: fc.constantFrom(0, 1, 'x', 'y', true, null),
  object: fc.dictionary(fc.constantFrom(...KEYS), tie('tree'), { maxKeys: 4 }),
  array: fc.array(tie('tree'), { maxLength: 3 }),
})).tree;

/** One change to a config: at the node reached by `at`, set, delete or move in (from `from` in the live config) the member picked by `key`. */
export interface Edit {
  readonly at: readonly number[];
  readonly op: 'set' | 'delete' | 'move';
  readonly key: number;
  readonly payload: unknown;
  readonly from: readonly number[];
}

/** Edits whose `set` payloads come from `payload`. */
export function edits(payload: fc.Arbitrary<unknown>): fc.Arbitrary<Edit[]> {
  const path = fc.array(fc.nat(7), { maxLength: 4 });
  const edit = fc.record({ at: path, op: fc.constantFrom('set' as const, 'delete' as const, 'move' as const), key: fc.nat(7), payload, from: path });
  return fc.array(edit, { maxLength: 3 });
}

/** How a candidate was made from the live config. */
export type Style = 'file' | 'recipe';

/**
 * The candidate `edits` make of `live`. A file starts from a fresh parse of `live` and
 * moves copies; a recipe copies only the nodes on the path to each edit and moves the
 * live nodes themselves. `live` is never written.
 */
export function applyEdits(live: unknown, list: readonly Edit[], style: Style): unknown {
  let root = style === 'file' ? reparse(live) : live;
  for (const edit of list) {
    const moved = edit.op === 'move' ? pick(live, edit.from) : edit.payload;
    root = editAt(root, edit, 0, style === 'file' ? reparse(moved) : moved);
  }
  return root;
}

/** A fresh parse of the JSON text of `value` (`undefined` stays `undefined`). */
export function reparse(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

function editAt(node: unknown, edit: Edit, depth: number, payload: unknown): unknown {
  if (node === null || typeof node !== 'object') return edit.op === 'delete' ? node : payload;
  const children = Object.keys(node);
  const step = edit.at[depth];
  if (step !== undefined && children.length > 0 && step % (children.length + 1) < children.length) {
    const child = children[step % (children.length + 1)] as string;
    const copy = shallowCopy(node);
    const value = (node as Record<string, unknown>)[child];
    if (value !== null && typeof value === 'object') {
      setAt(copy, child, editAt(value, edit, depth + 1, payload));
      return copy;
    }
  }
  const copy = shallowCopy(node);
  if (Array.isArray(copy)) {
    const index = edit.key % (copy.length + 1);
    if (edit.op === 'delete') copy.splice(index, 1);
    else copy[index] = payload;
    return copy;
  }
  const key = KEYS[edit.key % KEYS.length] as string;
  if (edit.op === 'delete') Reflect.deleteProperty(copy, key);
  else setMember(copy, key, payload);
  return copy;
}

function setAt(node: unknown[] | Record<string, unknown>, key: string, value: unknown): void {
  if (Array.isArray(node)) node[Number(key)] = value;
  else setMember(node, key, value);
}

function shallowCopy(node: object): unknown[] | Record<string, unknown> {
  if (Array.isArray(node)) return (node as unknown[]).slice();
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(node)) setMember(copy, key, (node as Record<string, unknown>)[key]);
  return copy;
}

/** The member of `value` that `path` leads to (each step picks a member by index), as far as it goes. */
export function pick(value: unknown, path: readonly number[]): unknown {
  let node = value;
  for (const step of path) {
    if (node === null || typeof node !== 'object') break;
    const members = Object.values(node);
    if (members.length === 0) break;
    node = members[step % members.length];
  }
  return node;
}
