import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/index.js';
import { copyJson, isCheckedJson, setMember } from '../../src/internal/json-data.js';

describe('copyJson', () => {
  it('marks the nodes of a frozen copy as checked, and nothing else', () => {
    const frozen = copyJson({ a: { b: [1] } }, { freeze: true }) as { a: { b: number[] } };
    expect(isCheckedJson(frozen)).toBe(true);
    expect(isCheckedJson(frozen.a.b)).toBe(true);
    expect(isCheckedJson(copyJson({ a: 1 }))).toBe(false);
    expect(isCheckedJson(Object.freeze({ a: 1 }))).toBe(false);
  });

  it('takes checked nodes as they are with keepChecked, and copies the rest mutable', () => {
    const shared = copyJson({ deep: { x: 1 } }, { freeze: true });
    const copy = copyJson({ shared, own: { y: 2 } }, { keepChecked: true }) as Record<string, unknown>;
    expect(copy.shared).toBe(shared);
    expect(Object.isFrozen(copy)).toBe(false);
    expect(Object.isFrozen(copy.own)).toBe(false);
    expect((copyJson({ shared }) as Record<string, unknown>).shared).not.toBe(shared);
  });

  it('still checks a node the caller froze: only checked nodes are kept', () => {
    const callerFrozen = Object.freeze({ when: new Date(0) });
    expect(() => copyJson({ a: callerFrozen }, { keepChecked: true })).toThrow(ValidationError);
    const plain = Object.freeze({ x: 1 });
    expect((copyJson({ plain }, { keepChecked: true }) as { plain: object }).plain).not.toBe(plain);
  });

  it('names the path of a bad value deep in arrays and objects, and restores the given path', () => {
    const path = ['root'];
    expect(copyJson({ a: [{ b: 1 }] }, { path })).toEqual({ a: [{ b: 1 }] });
    expect(path).toEqual(['root']);
    let error: unknown;
    try {
      copyJson({ a: [{ b: 1 }, { c: [Number.NaN] }] });
    } catch (caught) {
      error = caught;
    }
    expect((error as ValidationError).issues[0]?.path).toBe('/a/1/c/0');
  });
});

describe('setMember', () => {
  it('creates own data members, also for keys Object.prototype has', () => {
    const target: Record<string, unknown> = {};
    for (const key of ['__proto__', 'toString', 'constructor', 'hasOwnProperty', 'plain']) setMember(target, key, key.length);
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
    expect(Object.keys(target)).toEqual(['__proto__', 'toString', 'constructor', 'hasOwnProperty', 'plain']);
    expect(Object.getOwnPropertyDescriptor(target, '__proto__')).toMatchObject({ value: 9, enumerable: true, writable: true });
  });
});
