import { applyPatches, enablePatches } from 'immer';
import { describe, expect, it } from 'vitest';
import { UnsafeKeyError, ValidationError } from '../../src/errors.js';
import { reconcile } from '../../src/pipeline/reconcile.js';
import { UNSAFE, unsafeCandidates } from '../helpers/json-edits.js';
import { thrownBy } from '../helpers/rejection.js';

// The store turns immer's patches on; this test uses applyPatches without the store.
enablePatches();

const start = (value: unknown) => reconcile(undefined, value, false).value;

describe('reconcile', () => {
  it('returns the previous value itself when nothing changed', () => {
    const previous = start({ a: { b: [1, 2] }, c: 'x' });
    const { value, patches } = reconcile(previous, { a: { b: [1, 2] }, c: 'x' });
    expect(value).toBe(previous);
    expect(patches).toEqual([]);
  });

  it('keeps the order of the new object: reordered members are a new node around the same children, with no patch', () => {
    const previous = start({ a: { b: [1, 2] }, c: 'x' }) as Record<string, unknown>;
    const { value, patches } = reconcile(previous, { c: 'x', a: { b: [1, 2] } });
    expect(Object.keys(value as object)).toEqual(['c', 'a']);
    expect((value as Record<string, unknown>).a).toBe(previous.a);
    expect(Object.isFrozen(value)).toBe(true);
    expect(patches).toEqual([]);
  });

  it('takes a snapshot node moved to where the previous value has nothing, and compares it where it has something', () => {
    const previous = start({ a: { x: 1 }, b: { x: 2 } }) as Record<string, Record<string, unknown>>;
    const { value, patches } = reconcile(previous, { a: previous.a, b: previous.a, c: previous.b });
    const next = value as typeof previous;
    expect(next.a).toBe(previous.a);
    expect(next.c).toBe(previous.b);
    expect(next.b).toEqual({ x: 1 });
    expect(patches).toEqual([
      { op: 'replace', path: ['b', 'x'], value: 1 },
      { op: 'add', path: ['c'], value: previous.b },
    ]);
  });

  it('shares unchanged siblings and names only the changed leaf', () => {
    const previous = start({ a: { b: 1 }, d: { e: [1] } }) as Record<string, unknown>;
    const { value, patches } = reconcile(previous, { a: { b: 2 }, d: { e: [1] } });
    expect((value as Record<string, unknown>).d).toBe(previous.d);
    expect(patches).toEqual([{ op: 'replace', path: ['a', 'b'], value: 2 }]);
  });

  it('emits add and remove patches that immer can apply', () => {
    const previous = start({ keep: 1, drop: 2, list: [1, 2, 3] });
    const next = { keep: 1, added: { x: true }, list: [1, 2] };
    const { value, patches } = reconcile(previous, next);
    expect(applyPatches(previous as object, patches)).toEqual(value);
    expect(patches.map((p) => p.op).sort()).toEqual(['add', 'remove', 'replace']);
  });

  it('copies and freezes new parts, leaving the caller object alone', () => {
    const next = { a: { b: [1] } };
    const { value } = reconcile(undefined, next, false);
    expect(value).toEqual(next);
    expect(value).not.toBe(next);
    expect(Object.isFrozen((value as typeof next).a.b)).toBe(true);
    expect(Object.isFrozen(next.a)).toBe(false);
  });

  // The decision changed (issue 14): such a key was kept as plain data; it is now refused
  // in every input, the validated value included (a validator may add members).
  it('refuses each key that can pollute prototypes, at the root, nested and in arrays, naming the input', () => {
    const previous = start({ a: { b: { c: 1 } }, list: [1, [{ x: 1 }]] });
    for (const key of UNSAFE) {
      for (const { value, pointer } of unsafeCandidates(key)) {
        for (const [before, hasPrevious] of [[undefined, false], [previous, true]] as const) {
          const error = thrownBy(() => reconcile(before, value(), hasPrevious, 'recipe'));
          expect(error).toBeInstanceOf(UnsafeKeyError);
          expect(error).toMatchObject({ code: 'ERR_UNSAFE_KEY', key, pointer, path: 'recipe' });
        }
        expect(thrownBy(() => reconcile(previous, value()))).toMatchObject({ key, pointer, path: 'reload()' });
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses non-JSON values with a ValidationError at their path', () => {
    for (const bad of [{ a: new Date() }, { a: Number.NaN }, { a: [1n] }, { a: Symbol('s') }, { a: new Map() }]) {
      expect(() => reconcile(undefined, bad, false)).toThrow(ValidationError);
    }
    const error = (() => {
      try {
        return reconcile(undefined, { a: { b: [0, Infinity] } }, false);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]?.path).toBe('/a/b/1');
  });
});

describe('reconcile of a whole new object (a freshly parsed file)', () => {
  it('builds only the nodes on the path to a change', () => {
    const previous = start({ a: { list: [1, { x: 1 }, 3], keep: { y: [true] } }, b: 's' }) as { a: { list: unknown[]; keep: object } };
    const { value, patches } = reconcile(previous, { b: 's', a: { keep: { y: [true] }, list: [1, { x: 2 }, 3] } });
    const next = value as typeof previous;
    expect(next).not.toBe(previous);
    expect(next.a.keep).toBe(previous.a.keep);
    expect(next.a.list).not.toBe(previous.a.list);
    expect(next.a.list[2]).toBe(3);
    expect(Object.isFrozen(next.a.list)).toBe(true);
    expect(patches).toEqual([{ op: 'replace', path: ['a', 'list', 1, 'x'], value: 2 }]);
    expect(applyPatches(previous, patches)).toEqual(next);
  });

  it('keeps the members before and after the first change, in the order of the new object', () => {
    const previous = start({ a: 1, b: 2, c: 3 });
    const { value } = reconcile(previous, { c: 3, b: 20, a: 1 });
    expect(Object.entries(value as object)).toEqual([['c', 3], ['b', 20], ['a', 1]]);
  });

  it('sees a removed member even when every other member is unchanged', () => {
    const previous = start({ a: 1, b: { c: 2 }, gone: true }) as Record<string, unknown>;
    const { value, patches } = reconcile(previous, { a: 1, b: { c: 2 }, skipped: undefined });
    expect(value).toEqual({ a: 1, b: { c: 2 } });
    expect((value as Record<string, unknown>).b).toBe(previous.b);
    expect(patches).toEqual([{ op: 'remove', path: ['gone'] }]);
  });

  it('refuses a cycle in the new object', () => {
    const previous = start({ a: { b: {} } });
    const cyclic: Record<string, unknown> = { b: {} };
    (cyclic.b as Record<string, unknown>).loop = cyclic;
    expect(() => reconcile(previous, { a: cyclic })).toThrow(ValidationError);
  });
});
