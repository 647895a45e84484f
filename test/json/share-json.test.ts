import fc from 'fast-check';
import { applyPatches, enablePatches, type Patch } from 'immer';
import { describe, expect, it } from 'vitest';
import { UnsafeKeyError, ValidationError } from '../../src/errors.js';
import { copyJson, isCheckedJson } from '../../src/json/checked-json.js';
import { PAUSE_EVERY, shareJson, shareJsonInSlices } from '../../src/json/share-json.js';
import { UNSAFE, applyEdits, edits, holdsUnsafeKey, hostileTree, tree, unsafeCandidates, type Style } from '../helpers/json-edits.js';
import { rejection, thrownBy } from '../helpers/rejection.js';

// The store turns immer's patches on; these tests apply patches without a store.
enablePatches();

describe('shareJson, mutable (for a validator)', () => {
  const frozen = (value: unknown): Record<string, unknown> => copyJson(value, { freeze: true }) as Record<string, unknown>;
  // Equal to copyJson(value), member order included.
  const sameAsCopy = (result: unknown, value: unknown): void => {
    expect(JSON.stringify(result)).toBe(JSON.stringify(copyJson(value)));
    expect(result).toEqual(copyJson(value));
  };

  it('takes the live node for every subtree equal to the live one at the same place, and copies the rest mutable', () => {
    const live = frozen({ a: { x: 1, list: [1, { y: 2 }] }, b: { z: 'z' }, c: [{ n: 1 }, { n: 2 }] });
    const value = { a: { x: 1, list: [1, { y: 2 }] }, b: { z: 'changed' }, c: [{ n: 1 }, { n: 3 }] };
    const result = shareJson(value, live) as { a: unknown; b: unknown; c: unknown[] };
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
    expect(shareJson(value, live)).toBe(live);
    const other = { a: { b: [1, 2, 3] } };
    const result = shareJson(other, live) as { a: { b: number[] } };
    expect(result.a).not.toBe(other.a);
    expect(result.a.b).not.toBe(other.a.b);
  });

  it('keeps the value\'s member order: a reordered node is a new node, its equal members still shared', () => {
    const live = frozen({ a: 1, b: { deep: true }, c: 3 });
    const value = { c: 3, b: { deep: true }, a: 1 };
    const result = shareJson(value, live) as Record<string, unknown>;
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
      const result = shareJson(value, live) as Record<string, unknown>;
      sameAsCopy(result, value);
      if (isCheckedJson((value as Record<string, unknown>).keep) || JSON.stringify((value as Record<string, unknown>).keep) === '{"k":1}') {
        expect(result.keep).toBe(live.keep);
      }
    }
    const shorter = shareJson({ list: [{ i: 0 }, { i: 1 }] }, frozen({ list: [{ i: 0 }, { i: 1 }, { i: 2 }] })) as { list: unknown[] };
    expect(shorter.list).toEqual([{ i: 0 }, { i: 1 }]);
    expect(Object.isFrozen(shorter.list)).toBe(false);
  });

  it('does not look for a moved subtree: an equal subtree at another place is copied', () => {
    const live = frozen({ a: { x: 1 }, b: { y: 2 } });
    const result = shareJson({ a: { y: 2 }, b: { x: 1 } }, live) as Record<string, unknown>;
    expect(result.a).not.toBe(live.b);
    expect(result.b).not.toBe(live.a);
    expect(result).toEqual({ a: { y: 2 }, b: { x: 1 } });
  });

  it('takes a snapshot\'s node as it is where the live config has nothing like it, and compares it where it has', () => {
    const live = frozen({ a: { x: 1 }, list: [1] });
    const elsewhere = frozen({ y: 2 });
    const equal = frozen({ x: 1 });
    const result = shareJson({ a: elsewhere, b: live.a, list: elsewhere, c: equal }, live) as Record<string, unknown>;
    expect(result.b).toBe(live.a);
    expect(result.list).toBe(elsewhere);
    expect(result.c).toBe(equal);
    expect(result.a).toEqual({ y: 2 });
    expect(Object.isFrozen(result.a)).toBe(false);
    expect((shareJson({ a: equal, list: [1] }, live) as Record<string, unknown>).a).toBe(live.a);
    expect(shareJson({ a: equal, list: [1] }, live)).toBe(live);
  });

  it('keeps keys Object.prototype has as own members, and never takes an inherited value', () => {
    const live = frozen(JSON.parse('{"toString":{"p":1},"hasOwnProperty":{"c":1},"plain":1}'));
    const value = JSON.parse('{"toString":{"p":1},"hasOwnProperty":{"c":2},"plain":1,"valueOf":"s"}') as Record<string, unknown>;
    const result = shareJson(value, live) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(result, 'toString')?.value).toBe(Object.getOwnPropertyDescriptor(live, 'toString')?.value);
    expect(Object.getOwnPropertyDescriptor(result, 'hasOwnProperty')?.value).toEqual({ c: 2 });
    expect(Object.keys(result)).toEqual(['toString', 'hasOwnProperty', 'plain', 'valueOf']);
    sameAsCopy(result, value);
    // An own `toString` holding Object.prototype's function is not JSON: never taken
    // for the (inherited) live value it is identical to.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the very function, as a member value
    const inherited = Object.prototype.toString;
    const error = thrownBy(() => shareJson({ plain: 1, toString: inherited }, frozen({ plain: 1 })));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]?.path).toBe('/toString');
    expect((thrownBy(() => copyJson({ plain: 1, toString: inherited })) as ValidationError).issues).toEqual((error as ValidationError).issues);
  });

  it('refuses each key that can pollute prototypes with copyJson\'s error, where the live config differs and where it is equal around it', () => {
    const equal = frozen({ a: { b: { c: 1 } }, list: [1, [{ x: 1 }, { y: 2 }]] });
    for (const key of UNSAFE) {
      for (const { value, pointer } of unsafeCandidates(key)) {
        for (const [live, freeze] of [[undefined, false], [equal, false], [equal, true]] as const) {
          const error = thrownBy(() => shareJson(value(), live, { freeze, input: 'recipe' }));
          expect(error).toBeInstanceOf(UnsafeKeyError);
          expect(error).toMatchObject({ key, pointer, path: 'recipe' });
          expect(facts(error)).toEqual(facts(thrownBy(() => copyJson(value(), { input: 'recipe' }))));
        }
        expect(thrownBy(() => shareJson(value(), equal, { at: ['at'] }))).toMatchObject({ key, pointer: `/at${pointer}`, path: 'reload()' });
      }
    }
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
      const error = thrownBy(() => shareJson(value, live));
      expect(error).toEqual(expected);
      expect((error as ValidationError).issues).toEqual((expected as ValidationError).issues);
    }
  });

  it('is copyJson without live data, or with live data that is not checked', () => {
    const value = { a: { x: 1 } };
    for (const live of [undefined, null, 1, { a: { x: 1 } }, Object.freeze({ a: Object.freeze({ x: 1 }) })]) {
      const result = shareJson(value, live) as Record<string, unknown>;
      sameAsCopy(result, value);
      expect(result.a).not.toBe((live as Record<string, unknown> | null | undefined)?.a);
    }
  });
});

describe('shareJson, frozen with patches (for the reconciler)', () => {
  const frozen = (value: unknown): Record<string, unknown> => copyJson(value, { freeze: true }) as Record<string, unknown>;
  const shared = (value: unknown, live: unknown): { result: unknown; patches: Patch[] } => {
    const patches: Patch[] = [];
    return { result: shareJson(value, live, { freeze: true, patches }), patches };
  };

  it('builds checked nodes only on the path to a change, and names only the change', () => {
    const live = frozen({ a: { b: 1, c: [1, 2] }, d: { e: true } });
    const { result, patches } = shared({ a: { b: 2, c: [1, 2] }, d: { e: true } }, live);
    const next = result as typeof live & { a: Record<string, unknown> };
    expect(isCheckedJson(next)).toBe(true);
    expect(isCheckedJson(next.a)).toBe(true);
    expect(next.d).toBe(live.d);
    expect(next.a.c).toBe((live.a as Record<string, unknown>).c);
    expect(patches).toEqual([{ op: 'replace', path: ['a', 'b'], value: 2 }]);
  });

  it('replaces an array whose length changed with one patch, still sharing its equal items', () => {
    const live = frozen({ list: [{ i: 0 }, { i: 1 }] });
    const { result, patches } = shared({ list: [{ i: 0 }, { i: 9 }, { i: 2 }] }, live);
    const list = (result as { list: unknown[] }).list;
    expect(list[0]).toBe((live.list as unknown[])[0]);
    expect(patches).toEqual([{ op: 'replace', path: ['list'], value: list }]);
    expect(applyPatches(live, patches)).toEqual(result);
  });

  it('names added and removed members, and nothing for a member whose order alone changed', () => {
    const live = frozen({ a: 1, b: { c: 2 }, gone: true });
    const { result, patches } = shared({ b: { c: 2 }, a: 1, added: [1] }, live);
    expect(Object.keys(result as object)).toEqual(['b', 'a', 'added']);
    expect((result as Record<string, unknown>).b).toBe(live.b);
    expect(patches).toEqual([
      { op: 'add', path: ['added'], value: [1] },
      { op: 'remove', path: ['gone'] },
    ]);
    expect(shared({ b: { c: 2 }, a: 1, gone: true }, live).patches).toEqual([]);
  });

  it('copies and freezes where the live config has nothing, as one replace of the root', () => {
    const value = { a: { b: [1] } };
    for (const live of [undefined, { a: { b: [1] } }]) {
      const { result, patches } = shared(value, live);
      expect(result).toEqual(value);
      expect(isCheckedJson((result as typeof value).a.b)).toBe(true);
      expect(patches).toEqual([{ op: 'replace', path: [], value: result }]);
    }
    expect(shared(3, undefined).patches).toEqual([{ op: 'replace', path: [], value: 3 }]);
    expect(shared(3, 3)).toEqual({ result: 3, patches: [] });
  });
});

describe('shareJson, on generated data', () => {
  const candidates = fc.record({ base: tree, edits: edits(tree), style: fc.constantFrom<Style>('file', 'recipe'), other: tree, whole: fc.boolean() });

  it('equals copyJson(value), member order included, made of live nodes, checked nodes and fresh ones; patches lead from live to it', () => {
    fc.assert(
      fc.property(candidates, ({ base, edits: list, style, other, whole }) => {
        const live = copyJson(base, { freeze: true });
        // Mostly an edited live config; sometimes a value unrelated to it.
        const value = whole ? other : applyEdits(live, list, style);
        const text = JSON.stringify(value);
        const expected = copyJson(value);
        const liveNodes = nodesOf(live);
        const valueNodes = nodesOf(value);
        for (const freeze of [false, true]) {
          const patches: Patch[] = [];
          const result = shareJson(value, live, { freeze, patches });
          expect(JSON.stringify(result)).toBe(JSON.stringify(expected));
          expect(result).toEqual(expected);
          for (const node of nodesOf(result)) {
            if (liveNodes.has(node) || isCheckedJson(node)) continue;
            expect(freeze).toBe(false);
            expect(valueNodes.has(node)).toBe(false);
            expect(Object.isFrozen(node)).toBe(false);
          }
          if (freeze && typeof result === 'object' && result !== null) expect(isCheckedJson(result)).toBe(true);
          if (JSON.stringify(value) === JSON.stringify(live)) expect(result).toBe(live);
          // No generated key is one immer refuses in a patch (they are refused before, below).
          if (freeze) expect(applyPatches(live as object, patches)).toEqual(result);
        }
        expect(JSON.stringify(value)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a value exactly when it holds an unsafe key where copyJson does, with the same error', () => {
    const hostile = fc.record({ base: tree, edits: edits(hostileTree, { unsafe: true }), style: fc.constantFrom<Style>('file', 'recipe'), other: hostileTree, whole: fc.boolean() });
    let refused = 0;
    fc.assert(
      fc.property(hostile, ({ base, edits: list, style, other, whole }) => {
        const live = copyJson(base, { freeze: true });
        const value = whole ? other : applyEdits(live, list, style);
        const expected = thrownBy(() => copyJson(value));
        expect(expected instanceof UnsafeKeyError).toBe(holdsUnsafeKey(value));
        if (expected !== undefined) refused++;
        for (const freeze of [false, true]) expect(facts(thrownBy(() => shareJson(value, live, { freeze })))).toEqual(facts(expected));
      }),
      { numRuns: 1000 },
    );
    expect(refused).toBeGreaterThan(200);
  });
});

/** What an error says a program reads: its class, code, and for an unsafe key the key and where. */
function facts(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const { key, pointer, path, issues } = error as Partial<UnsafeKeyError & ValidationError>;
  return { name: error.name, code: (error as { code?: unknown }).code, key, pointer, path, issues };
}

function nodesOf(value: unknown, into = new Set<unknown>()): Set<unknown> {
  if (value === null || typeof value !== 'object') return into;
  into.add(value);
  for (const item of Object.values(value)) nodesOf(item, into);
  return into;
}

describe('shareJson in slices', () => {
  const table = (size: number, changed: number): Record<string, unknown> => {
    const routes: Record<string, unknown> = {};
    for (let index = 0; index < size; index++) routes[`/r${index}`] = { upstream: index === changed ? 'new' : `u${index}`, tags: ['a', index] };
    return { routes, mode: 'x' };
  };

  it('gives the result and patches of one walk, asking for a pause every PAUSE_EVERY members', async () => {
    const live = copyJson(table(10_000, -1), { freeze: true });
    const whole: Patch[] = [];
    const expected = shareJson(table(10_000, 77), live, { patches: whole, freeze: true });
    const sliced: Patch[] = [];
    let pauses = 0;
    let turns = 0;
    const result = await shareJsonInSlices(table(10_000, 77), live, { patches: sliced, freeze: true }, () => {
      pauses++;
      // Every other pause waits for a turn of the event loop, as a slicer does once its slice has run.
      if (pauses % 2 === 1) return undefined;
      return new Promise<void>((resolve) => {
        setImmediate(() => {
          turns++;
          resolve();
        });
      });
    });
    expect(JSON.stringify(result)).toBe(JSON.stringify(expected));
    expect(sliced).toEqual(whole);
    expect(sliced.map((patch) => patch.path)).toEqual([['routes', '/r77', 'upstream']]);
    // Members visited: 2 at the root, 10,000 in the table, 2 in each entry, 2 in each tags array.
    expect(pauses).toBe(Math.floor((2 + 10_000 + 10_000 * 4) / PAUSE_EVERY));
    expect(turns).toBe(Math.floor(pauses / 2));
    expect((result as { routes: Record<string, unknown> }).routes['/r5']).toBe((live as { routes: Record<string, unknown> }).routes['/r5']);
  });

  it('refuses what one walk refuses, at the same path', async () => {
    const live = copyJson(table(3000, -1), { freeze: true });
    const bad = table(3000, -1);
    (bad.routes as Record<string, unknown>)['/r2999'] = { upstream: () => 1 };
    const error = await rejection(shareJsonInSlices(bad, live, {}, () => undefined));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual((thrownBy(() => shareJson(bad, live)) as ValidationError).issues);
  });

  it('refuses an unsafe key as one walk refuses it, past the first pause', async () => {
    const live = copyJson(table(3000, -1), { freeze: true });
    const bad = table(3000, -1);
    (bad.routes as Record<string, unknown>)['/r2999'] = JSON.parse('{"upstream": "u", "__proto__": {"polluted": true}}');
    let pauses = 0;
    const error = await rejection(shareJsonInSlices(bad, live, { input: 'recipe' }, () => {
      pauses++;
      return undefined;
    }));
    expect(pauses).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(UnsafeKeyError);
    expect(facts(error)).toEqual(facts(thrownBy(() => shareJson(bad, live, { input: 'recipe' }))));
    expect(error).toMatchObject({ key: '__proto__', pointer: '/routes/~1r2999', path: 'recipe' });
  });
});
