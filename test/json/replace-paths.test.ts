// Path copying: the values at some paths replaced, each object and array on them copied
// once, everything else shared, the original never changed.
import { describe, expect, it } from 'vitest';
import { replacePaths } from '../../src/json/replace-paths.js';

describe('replacePaths', () => {
  const root = Object.freeze({
    a: Object.freeze({ x: 1, y: 2 }),
    list: Object.freeze([Object.freeze({ k: 'v' }), 'keep']),
    other: Object.freeze({ z: 1 }),
    nil: Object.freeze(Object.create(null) as Record<string, unknown>),
  });

  it('replaces the values, copies each container on the paths once, shares the rest and changes nothing', () => {
    const out = replacePaths(root, [
      { keys: ['a', 'x'], value: 10 },
      { keys: ['a', 'y'], value: 20 },
      { keys: ['list', 0, 'k'], value: 'w' },
      { keys: ['nil', 'n'], value: true },
    ]) as Record<string, unknown>;
    expect(out).toStrictEqual({ a: { x: 10, y: 20 }, list: [{ k: 'w' }, 'keep'], other: { z: 1 }, nil: Object.assign(Object.create(null) as object, { n: true }) });
    expect(out.other).toBe(root.other);
    expect(Object.getPrototypeOf(out.nil)).toBeNull();
    expect(root.a).toStrictEqual({ x: 1, y: 2 });
    expect(root.list[0]).toStrictEqual({ k: 'v' });
  });

  it('replaces the root for an empty path, and leaves out a path that runs through a scalar', () => {
    expect(replacePaths(root, [{ keys: [], value: 'text' }])).toBe('text');
    expect(replacePaths(root, [{ keys: ['a', 'x', 'deeper'], value: 1 }])).toStrictEqual(root);
    expect(replacePaths('scalar', [{ keys: ['a'], value: 1 }])).toBe('scalar');
    expect(replacePaths(root, [])).toBe(root);
  });

  it('never reaches a prototype through a key named __proto__', () => {
    const out = replacePaths({}, [{ keys: ['__proto__'], value: { polluted: true } }]) as Record<string, unknown>;
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
