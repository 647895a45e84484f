import { afterEach, describe, expect, it } from 'vitest';
import { UnsafeKeyError, ValidationError } from '../../src/errors.js';
import { copyJson, isCheckedJson, isScalar, markChecked } from '../../src/json/checked-json.js';
import { UNSAFE, unsafeCandidates } from '../helpers/json-edits.js';
import { thrownBy } from '../helpers/rejection.js';

describe('the registry of checked JSON', () => {
  it('registers the nodes of a frozen copy, and nothing else', () => {
    const frozen = copyJson({ a: { b: [1] } }, { freeze: true }) as { a: { b: number[] } };
    expect(isCheckedJson(frozen)).toBe(true);
    expect(isCheckedJson(frozen.a.b)).toBe(true);
    expect(Object.isFrozen(frozen.a.b)).toBe(true);
    expect(isCheckedJson(copyJson({ a: 1 }))).toBe(false);
    expect(isCheckedJson(Object.freeze({ a: 1 }))).toBe(false);
    expect(isCheckedJson(null)).toBe(false);
    expect(isCheckedJson('x')).toBe(false);
  });

  it('freezes what it marks', () => {
    const node = markChecked({ a: 1 });
    expect(Object.isFrozen(node)).toBe(true);
    expect(isCheckedJson(node)).toBe(true);
  });

  it('calls scalars only strings, booleans and finite numbers', () => {
    expect(['s', true, 0, -1.5].every(isScalar)).toBe(true);
    expect([null, undefined, Number.NaN, Number.POSITIVE_INFINITY, 1n, {}, []].some(isScalar)).toBe(false);
  });
});

describe('copyJson', () => {
  it('copies everything by default, and takes checked nodes as they are with keepChecked', () => {
    const shared = copyJson({ deep: { x: 1 } }, { freeze: true });
    expect((copyJson({ shared }) as Record<string, unknown>).shared).not.toBe(shared);
    const copy = copyJson({ shared, own: { y: 2 } }, { keepChecked: true }) as Record<string, unknown>;
    expect(copy.shared).toBe(shared);
    expect(Object.isFrozen(copy)).toBe(false);
    expect(Object.isFrozen(copy.own)).toBe(false);
  });

  it('still checks a node the caller froze: only checked nodes are kept', () => {
    const callerFrozen = Object.freeze({ when: new Date(0) });
    expect(() => copyJson({ a: callerFrozen }, { keepChecked: true })).toThrow(ValidationError);
    const plain = Object.freeze({ x: 1 });
    expect((copyJson({ plain }, { keepChecked: true }) as { plain: object }).plain).not.toBe(plain);
  });

  it('drops undefined members and keeps member order', () => {
    const copy = copyJson({ b: 1, gone: undefined, a: { d: 2, c: 3 } });
    expect(JSON.stringify(copy)).toBe('{"b":1,"a":{"d":2,"c":3}}');
  });

  it('names the path of a bad value deep in arrays and objects, and restores the given path', () => {
    const path = ['root'];
    expect(copyJson({ a: [{ b: 1 }] }, { path })).toEqual({ a: [{ b: 1 }] });
    expect(path).toEqual(['root']);
    const error = thrownBy(() => copyJson({ a: [{ b: 1 }, { c: [Number.NaN] }] }));
    expect((error as ValidationError).issues[0]?.path).toBe('/a/1/c/0');
  });

  it('refuses a cycle, also one through the ancestors a walk passes in', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = { again: cyclic };
    expect((thrownBy(() => copyJson(cyclic)) as ValidationError).issues[0]?.path).toBe('/self/again');
    const parent: Record<string, unknown> = { child: { up: null } };
    (parent.child as Record<string, unknown>).up = parent;
    const error = thrownBy(() => copyJson(parent.child, { ancestors: new Set([parent]), path: ['child'] }));
    expect((error as ValidationError).issues[0]?.path).toBe('/child/up');
  });
});

describe('copyJson of objects that are not plain', () => {
  it('refuses an object whose prototype chain has no constructor, at its path', () => {
    class Detached {
      readonly kind = 'detached';
    }
    Reflect.deleteProperty(Detached.prototype, 'constructor');
    for (const odd of [Object.create(Object.create(null) as object) as object, new Detached()]) {
      for (const freeze of [false, true]) {
        const error = thrownBy(() => copyJson({ a: [odd] }, { freeze }));
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).issues[0]?.path).toBe('/a/0');
      }
    }
  });

  it('names the class of an instance without running its code', () => {
    class Named {
      readonly kind = 'named';
    }
    const sneaky = Object.create(
      Object.defineProperty({}, 'constructor', {
        get: () => {
          throw new Error('ran');
        },
      }),
    ) as object;
    expect((thrownBy(() => copyJson({ a: new Named() })) as ValidationError).message).toContain('Named');
    expect((thrownBy(() => copyJson({ a: new Map() })) as ValidationError).message).toContain('Map');
    expect(thrownBy(() => copyJson({ a: sneaky }))).toBeInstanceOf(ValidationError);
  });
});

describe('copyJson of keys that can pollute prototypes', () => {
  const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();
  afterEach(() => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);
  });

  for (const key of UNSAFE) {
    for (const { where, value, pointer } of unsafeCandidates(key)) {
      it(`refuses ${key} ${where} with an UnsafeKeyError naming the input and the object holding it, frozen or not`, () => {
        for (const freeze of [false, true]) {
          const error = thrownBy(() => copyJson(value(), { freeze }));
          expect(error).toBeInstanceOf(UnsafeKeyError);
          expect(error).toMatchObject({ code: 'ERR_UNSAFE_KEY', path: 'reload()', key, pointer, line: undefined, column: undefined });
        }
        expect(thrownBy(() => copyJson(value(), { input: 'recipe' }))).toMatchObject({ path: 'recipe', key, pointer });
      });
    }
  }

  it('refuses an own unsafe key whatever its value, undefined included, without reading it', () => {
    let read = false;
    const getter = Object.defineProperty({ a: 1 }, 'prototype', {
      enumerable: true,
      get: () => {
        read = true;
        return 1;
      },
    });
    expect(thrownBy(() => copyJson({ x: getter }))).toMatchObject({ code: 'ERR_UNSAFE_KEY', key: 'prototype', pointer: '/x' });
    expect(read).toBe(false);
    expect(thrownBy(() => copyJson({ constructor: undefined }))).toMatchObject({ code: 'ERR_UNSAFE_KEY', key: 'constructor', pointer: '' });
  });

  it('meets keys and values in one order: the first of an unsafe key and a value that is not JSON data decides', () => {
    expect(thrownBy(() => copyJson({ a: Number.NaN, constructor: 1 }))).toBeInstanceOf(ValidationError);
    expect(thrownBy(() => copyJson({ constructor: 1, a: Number.NaN }))).toBeInstanceOf(UnsafeKeyError);
  });

  it('takes inherited and non-enumerable keys as what they are: not data', () => {
    const hidden = Object.defineProperty({ a: 1 }, 'constructor', { value: { polluted: true }, enumerable: false });
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { b: 2 });
    expect(copyJson({ hidden, bare, plain: { c: 3 } }, { freeze: true })).toEqual({ hidden: { a: 1 }, bare: { b: 2 }, plain: { c: 3 } });
  });
});
