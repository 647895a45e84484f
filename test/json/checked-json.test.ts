import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/index.js';
import { copyJson, isCheckedJson, overlayJson, setMember } from '../../src/json/checked-json.js';
import { thrownBy } from '../helpers/rejection.js';

describe('copyJson', () => {
  it('marks the nodes of a frozen copy as checked, and nothing else', () => {
    const frozen = copyJson({ a: { b: [1] } }, { freeze: true }) as { a: { b: number[] } };
    expect(isCheckedJson(frozen)).toBe(true);
    expect(isCheckedJson(frozen.a.b)).toBe(true);
    expect(isCheckedJson(copyJson({ a: 1 }))).toBe(false);
    expect(isCheckedJson(Object.freeze({ a: 1 }))).toBe(false);
  });

  it('takes checked nodes as they are (overlayJson with no live config), and copies the rest mutable', () => {
    const shared = copyJson({ deep: { x: 1 } }, { freeze: true });
    const copy = overlayJson({ shared, own: { y: 2 } }, undefined) as Record<string, unknown>;
    expect(copy.shared).toBe(shared);
    expect(Object.isFrozen(copy)).toBe(false);
    expect(Object.isFrozen(copy.own)).toBe(false);
    expect((copyJson({ shared }) as Record<string, unknown>).shared).not.toBe(shared);
  });

  it('still checks a node the caller froze: only checked nodes are kept', () => {
    const callerFrozen = Object.freeze({ when: new Date(0) });
    expect(() => overlayJson({ a: callerFrozen }, undefined)).toThrow(ValidationError);
    const plain = Object.freeze({ x: 1 });
    expect((overlayJson({ plain }, undefined) as { plain: object }).plain).not.toBe(plain);
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

describe('overlayJson', () => {
  const frozen = (value: unknown): Record<string, unknown> => copyJson(value, { freeze: true }) as Record<string, unknown>;
  // Equal to copyJson(value), member order included.
  const sameAsCopy = (result: unknown, value: unknown): void => {
    expect(JSON.stringify(result)).toBe(JSON.stringify(copyJson(value)));
    expect(result).toEqual(copyJson(value));
  };

  it('takes the live node for every subtree equal to the live one at the same place, and copies the rest mutable', () => {
    const live = frozen({ a: { x: 1, list: [1, { y: 2 }] }, b: { z: 'z' }, c: [{ n: 1 }, { n: 2 }] });
    const value = { a: { x: 1, list: [1, { y: 2 }] }, b: { z: 'changed' }, c: [{ n: 1 }, { n: 3 }] };
    const result = overlayJson(value, live) as { a: unknown; b: unknown; c: unknown[] };
    sameAsCopy(result, value);
    expect(result.a).toBe(live.a);
    expect(result.b).not.toBe(live.b);
    expect(result.c[0]).toBe((live.c as unknown[])[0]);
    for (const node of [result, result.b, result.c, result.c[1]]) {
      expect(Object.isFrozen(node)).toBe(false);
      expect(isCheckedJson(node)).toBe(false);
    }
    expect(value.b).toEqual({ z: 'changed' });
    expect(Object.isFrozen(value)).toBe(false);
  });

  it('returns the live config itself when the value equals it, and never the caller\'s nodes', () => {
    const live = frozen({ a: { b: [1, 2] }, s: 'x' });
    const value = { a: { b: [1, 2] }, s: 'x', gone: undefined };
    expect(overlayJson(value, live)).toBe(live);
    const other = { a: { b: [1, 2, 3] } };
    const result = overlayJson(other, live) as { a: { b: number[] } };
    expect(result.a).not.toBe(other.a);
    expect(result.a.b).not.toBe(other.a.b);
  });

  it('keeps the value\'s member order: a reordered node is a new node, its equal members still shared', () => {
    const live = frozen({ a: 1, b: { deep: true }, c: 3 });
    const value = { c: 3, b: { deep: true }, a: 1 };
    const result = overlayJson(value, live) as Record<string, unknown>;
    expect(result).not.toBe(live);
    expect(Object.keys(result)).toEqual(['c', 'b', 'a']);
    expect(result.b).toBe(live.b);
    sameAsCopy(result, value);
  });

  it('handles added, removed and undefined members, and arrays that grow or shrink', () => {
    const live = frozen({ keep: { k: 1 }, drop: 1, list: [{ i: 0 }, { i: 1 }, { i: 2 }], short: [1] });
    const cases: unknown[] = [
      { keep: { k: 1 }, drop: 1, list: [{ i: 0 }, { i: 1 }, { i: 2 }], short: [1], extra: { e: 1 } },
      { keep: { k: 1 }, list: [{ i: 0 }, { i: 1 }, { i: 2 }], short: [1] },
      { keep: { k: 1 }, drop: undefined, list: [{ i: 0 }, { i: 1 }], short: [1, 2] },
      { keep: { k: 1 }, drop: 1, list: [{ i: 0 }], short: [] },
      { keep: [1], drop: { now: 'object' }, list: { 0: { i: 0 } }, short: 'scalar' },
      { keep: null, drop: false, list: [[{ i: 0 }]], short: [null] },
    ];
    for (const value of cases) {
      const result = overlayJson(value, live) as Record<string, unknown>;
      sameAsCopy(result, value);
      if (isCheckedJson((value as Record<string, unknown>).keep) || JSON.stringify((value as Record<string, unknown>).keep) === '{"k":1}') {
        expect(result.keep).toBe(live.keep);
      }
    }
    const shorter = overlayJson({ list: [{ i: 0 }, { i: 1 }] }, frozen({ list: [{ i: 0 }, { i: 1 }, { i: 2 }] })) as { list: unknown[] };
    expect(shorter.list).toEqual([{ i: 0 }, { i: 1 }]);
    expect(Object.isFrozen(shorter.list)).toBe(false);
  });

  it('does not look for a moved subtree: an equal subtree at another place is copied', () => {
    const live = frozen({ a: { x: 1 }, b: { y: 2 } });
    const result = overlayJson({ a: { y: 2 }, b: { x: 1 } }, live) as Record<string, unknown>;
    expect(result.a).not.toBe(live.b);
    expect(result.b).not.toBe(live.a);
    expect(result).toEqual({ a: { y: 2 }, b: { x: 1 } });
  });

  it('takes the nodes of any snapshot as they are (a recipe\'s candidate), wherever they are', () => {
    const live = frozen({ a: { x: 1 } });
    const elsewhere = frozen({ y: 2 });
    const result = overlayJson({ a: elsewhere, b: live.a }, live) as Record<string, unknown>;
    expect(result.a).toBe(elsewhere);
    expect(result.b).toBe(live.a);
  });

  it('keeps keys Object.prototype has as own members, and never takes an inherited value', () => {
    const live = frozen(JSON.parse('{"__proto__":{"p":1},"constructor":{"c":1},"plain":1}'));
    const value = JSON.parse('{"__proto__":{"p":1},"constructor":{"c":2},"plain":1,"toString":"s"}') as Record<string, unknown>;
    const result = overlayJson(value, live) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(result, '__proto__')?.value).toBe(live.__proto__);
    expect(result.constructor).toEqual({ c: 2 });
    expect(Object.keys(result)).toEqual(['__proto__', 'constructor', 'plain', 'toString']);
    sameAsCopy(result, value);
    // An own `toString` holding Object.prototype's function is not JSON: never taken
    // for the (inherited) live value it is identical to.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the very function, as a member value
    const inherited = Object.prototype.toString;
    const error = thrownBy(() => overlayJson({ plain: 1, toString: inherited }, live));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]?.path).toBe('/toString');
    expect((thrownBy(() => copyJson({ plain: 1, toString: inherited })) as ValidationError).issues).toEqual((error as ValidationError).issues);
  });

  it('refuses what copyJson refuses, with the same error at the same path', () => {
    const live = frozen({ a: { b: { c: { d: {} } } }, list: [1, 2], n: 1 });
    const cyclic: Record<string, unknown> = { list: [1, 2], n: 1 };
    cyclic.a = { b: { c: { d: cyclic } } };
    const inner: Record<string, unknown> = {};
    inner.self = { again: inner };
    const bad: unknown[] = [
      cyclic,
      { a: { b: { c: { d: inner } } } },
      { a: { b: { c: { d: { e: Number.NaN } } } } },
      { n: Number.POSITIVE_INFINITY },
      { list: [1, undefined] },
      { list: [1, 2, undefined] },
      // eslint-disable-next-line no-sparse-arrays -- a hole
      { list: [1, , 3] },
      { a: { b: new Date(0) } },
      { a: { b: { c: () => 1 } } },
      { list: [1, 2n] },
      { a: { b: { c: { d: { s: Symbol('s') } } } } },
    ];
    for (const value of bad) {
      const expected = thrownBy(() => copyJson(value));
      expect(expected).toBeInstanceOf(ValidationError);
      const error = thrownBy(() => overlayJson(value, live));
      expect(error).toEqual(expected);
      expect((error as ValidationError).issues).toEqual((expected as ValidationError).issues);
    }
  });

  it('is copyJson without live data, or with live data that is not checked', () => {
    const value = { a: { x: 1 } };
    for (const live of [undefined, null, 1, { a: { x: 1 } }, Object.freeze({ a: Object.freeze({ x: 1 }) })]) {
      const result = overlayJson(value, live) as Record<string, unknown>;
      sameAsCopy(result, value);
      expect(result.a).not.toBe((live as Record<string, unknown> | null | undefined)?.a);
    }
  });
});

describe('overlayJson, on generated data', () => {
  // Small alphabets, so that the value and the live data often share subtrees.
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('object'), tie('array')),
    leaf: fc.constantFrom(0, 1, 'x', 'y', true, null),
    object: fc.dictionary(fc.constantFrom('a', 'b', 'c', '__proto__', 'constructor'), tie('tree'), { maxKeys: 4 }),
    array: fc.array(tie('tree'), { maxLength: 3 }),
  }));

  it('equals copyJson(value), member order included, made of live nodes and fresh mutable ones', () => {
    fc.assert(
      fc.property(tree, tree, fc.boolean(), (base, other, mix) => {
        const live = copyJson(base, { freeze: true });
        // Half the time the value is the live data with one member replaced.
        let value: unknown = other;
        if (mix && typeof base === 'object' && base !== null && !Array.isArray(base)) {
          value = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
          setMember(value as Record<string, unknown>, 'b', other);
        }
        const liveNodes = new Set<unknown>();
        const valueNodes = new Set<unknown>();
        collect(live, liveNodes);
        collect(value, valueNodes);
        const result = overlayJson(value, live);
        expect(JSON.stringify(result)).toBe(JSON.stringify(copyJson(value)));
        expect(result).toEqual(copyJson(value));
        const resultNodes = new Set<unknown>();
        collect(result, resultNodes);
        for (const node of resultNodes) {
          expect(valueNodes.has(node)).toBe(false);
          if (!liveNodes.has(node)) expect(Object.isFrozen(node)).toBe(false);
        }
        if (JSON.stringify(value) === JSON.stringify(base)) expect(result).toBe(live);
      }),
      { numRuns: 2000 },
    );
  });
});

function collect(value: unknown, into: Set<unknown>): void {
  if (value === null || typeof value !== 'object') return;
  into.add(value);
  for (const item of Object.values(value)) collect(item, into);
}
