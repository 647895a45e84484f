import { describe, expect, it } from 'vitest';
import { UNSAFE_KEYS, isPlainObject, isUnsafeKey, setMember } from '../../src/json/plain-object.js';
import { UNSAFE } from '../helpers/json-edits.js';

describe('isPlainObject', () => {
  it('takes objects from {}, JSON.parse and Object.create(null), and nothing else', () => {
    for (const plain of [{}, JSON.parse('{"a":1}') as unknown, Object.create(null) as unknown]) expect(isPlainObject(plain)).toBe(true);
    class Instance {
      readonly kind = 'instance';
    }
    for (const other of [[], null, 'x', new Instance(), new Date(0), Object.create({}) as unknown]) expect(isPlainObject(other)).toBe(false);
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


describe('isUnsafeKey', () => {
  it('is true for every member of UNSAFE_KEYS, the tests\' list of them, and nothing else', () => {
    expect([...UNSAFE_KEYS].sort()).toEqual([...UNSAFE].sort());
    for (const key of UNSAFE_KEYS) expect(isUnsafeKey(key)).toBe(true);
    // Same lengths, other names; names Object.prototype has; a near miss of each.
    for (const key of ['_proto__x_', '__proto_x_', 'prototypes', 'Prototype', 'constructo_', 'CONSTRUCTOR', 'toString', 'hasOwnProperty', '__defineGetter__', '', 'a', '__proto', 'proto']) {
      expect(isUnsafeKey(key)).toBe(false);
    }
  });
});
