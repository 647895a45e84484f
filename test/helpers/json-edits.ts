// Generated candidates made from a live config the two ways a reload gets them: a file
// (a fresh parse: equal subtrees, no shared identity) and a recipe (copy-on-write: every
// unchanged node is the live one). Edits set, delete or move members; a moved member is
// the live node itself in a recipe, an equal copy in a file.
import fc from 'fast-check';
import { setMember } from '../../src/json/plain-object.js';

/**
 * Keys of generated objects: few, so that values and live configs often meet. Two are
 * names Object.prototype has (a member must stay an own key, never reach the prototype's);
 * none can pollute prototypes: those are never data (UNSAFE).
 */
export const KEYS = ['a', 'b', 'c', 'toString', 'hasOwnProperty'] as const;

/** The keys every input refuses with ERR_UNSAFE_KEY, for the edits that bring one in. */
export const UNSAFE = ['__proto__', 'constructor', 'prototype'] as const;

/** JSON data over small alphabets, with keys from `keys`. */
function treeOf(keys: readonly string[]): fc.Arbitrary<unknown> {
  return fc.letrec((tie) => ({
    tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('object'), tie('array')),
    leaf: fc.constantFrom(0, 1, 'x', 'y', true, null),
    // fast-check defines a `__proto__` key as an own member, never as the prototype.
    object: fc.dictionary(fc.constantFrom(...keys), tie('tree'), { maxKeys: 4 }),
    array: fc.array(tie('tree'), { maxLength: 3 }),
  })).tree;
}

/** JSON data over small alphabets (keys from KEYS). */
export const tree: fc.Arbitrary<unknown> = treeOf(KEYS);

/** Like {@link tree}, but objects may hold UNSAFE keys (as own members) too: a candidate every input refuses. */
export const hostileTree: fc.Arbitrary<unknown> = treeOf([...KEYS, ...UNSAFE]);

/**
 * One change to a config: at the node reached by `at`, set, delete or move in (from `from`
 * in the live config) the member picked by `key`, or named `name` when given (an UNSAFE key).
 */
export interface Edit {
  readonly at: readonly number[];
  readonly op: 'set' | 'delete' | 'move';
  readonly key: number;
  readonly name?: string | undefined;
  readonly payload: unknown;
  readonly from: readonly number[];
}

/** Edits whose `set` payloads come from `payload`; with `unsafe`, an edit may name an UNSAFE key. */
export function edits(payload: fc.Arbitrary<unknown>, options: { readonly unsafe?: boolean } = {}): fc.Arbitrary<Edit[]> {
  const path = fc.array(fc.nat(7), { maxLength: 4 });
  const name = options.unsafe === true ? fc.option(fc.constantFrom(...UNSAFE), { nil: undefined, freq: 2 }) : fc.constant(undefined);
  const edit = fc.record({ at: path, op: fc.constantFrom('set' as const, 'delete' as const, 'move' as const), key: fc.nat(7), name, payload, from: path });
  return fc.array(edit, { maxLength: 3 });
}

/** The key an edit sets or deletes in an object. */
export function keyOf(edit: Edit): string {
  return edit.name ?? (KEYS[edit.key % KEYS.length] as string);
}

/** True when an object in `value` holds an UNSAFE key as an own enumerable member (a candidate every input refuses). */
export function holdsUnsafeKey(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (!Array.isArray(value) && Object.keys(value).some((key) => (UNSAFE as readonly string[]).includes(key))) return true;
  return Object.values(value).some(holdsUnsafeKey);
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
  const key = keyOf(edit);
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

/** A candidate holding an UNSAFE key as an own member, and the JSON Pointer of the object that holds it. */
export interface UnsafeCandidate {
  /** Where the key is, for test names. */
  readonly where: string;
  /** A fresh parse each call: `JSON.parse` makes `__proto__` an own member. */
  readonly value: () => Record<string, unknown>;
  readonly pointer: string;
}

/** `key` at the root, nested in objects, in an object inside arrays. */
export function unsafeCandidates(key: string): UnsafeCandidate[] {
  const name = JSON.stringify(key);
  const cases = [
    { where: 'at the root', text: `{"a": 1, ${name}: {"polluted": true}}`, pointer: '' },
    { where: 'nested in objects', text: `{"a": {"b": {"c": 1, ${name}: {"polluted": true}}}}`, pointer: '/a/b' },
    { where: 'inside arrays', text: `{"list": [1, [{"x": 1}, {${name}: null}]]}`, pointer: '/list/1/1' },
  ];
  return cases.map(({ where, text, pointer }) => ({ where, value: () => JSON.parse(text) as Record<string, unknown>, pointer }));
}
