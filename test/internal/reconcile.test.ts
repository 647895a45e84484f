import { applyPatches } from 'immer';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/index.js';
import { reconcile } from '../../src/internal/reconcile.js';

const start = (value: unknown) => reconcile(undefined, value, false).value;

describe('reconcile', () => {
  it('returns the previous value itself when nothing changed', () => {
    const previous = start({ a: { b: [1, 2] }, c: 'x' });
    const { value, patches } = reconcile(previous, { c: 'x', a: { b: [1, 2] } });
    expect(value).toBe(previous);
    expect(patches).toEqual([]);
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

  it('keeps a "__proto__" own key as plain data, never as a prototype', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}}') as object;
    const { value } = reconcile(undefined, parsed, false);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value as object)).toEqual(['__proto__']);
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
