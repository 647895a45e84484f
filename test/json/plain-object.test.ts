import { describe, expect, it } from 'vitest';
import { isPlainObject, setMember } from '../../src/json/plain-object.js';

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

