import fc from 'fast-check';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../src/errors.js';
import { toPointer } from '../../src/json/json-pointer.js';
import { REDACTED, SensitivePaths } from '../../src/schema/sensitive-paths.js';
import { thrownBy } from '../helpers/rejection.js';

const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null) {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
};

const isDeeplyFrozen = (value: unknown): boolean =>
  typeof value !== 'object' || value === null || (Object.isFrozen(value) && Object.values(value).every(isDeeplyFrozen));

/** The pointers of `pointers` that `covers()` says are sensitive. */
const coveredOf = (sensitive: SensitivePaths, pointers: readonly string[]): string[] => pointers.filter((pointer) => sensitive.covers(pointer));

describe('SensitivePaths from the sensitive option', () => {
  const sensitive = SensitivePaths.compile(['/db/password', '/tokens/*', '/a~1b/~0c'], undefined);

  it('covers each pointer given, and everything under it, but not its siblings', () => {
    expect(coveredOf(sensitive, ['/db/password', '/db/password/x', '/db/host', '/db', '/db/passwords', '/a/b/~0c', '/a~1b/~0c', '/a~1b/c'])).toEqual([
      '/db/password',
      '/db/password/x',
      '/a~1b/~0c',
    ]);
  });

  it('reads a `*` segment as exactly one key, of an object or an array', () => {
    expect(coveredOf(sensitive, ['/tokens', '/tokens/github', '/tokens/0', '/tokens/github/value', '/tokens/'])).toEqual([
      '/tokens/github',
      '/tokens/0',
      '/tokens/github/value',
      '/tokens/',
    ]);
  });

  it("makes the whole config sensitive with the pointer ''", () => {
    const all = SensitivePaths.compile([''], undefined);
    expect(coveredOf(all, ['', '/x', '/x/y'])).toEqual(['', '/x', '/x/y']);
    expect(all.redact(deepFreeze({ x: 1 }))).toBe(REDACTED);
  });

  it('is empty without patterns and a schema that declares nothing, and then answers false', () => {
    for (const empty of [SensitivePaths.compile(undefined, undefined), SensitivePaths.compile([], { type: 'object' }), SensitivePaths.compile(undefined, true)]) {
      expect(empty.isEmpty).toBe(true);
      expect([empty.covers(''), empty.touches(''), empty.covers('not a pointer')]).toEqual([false, false, false]);
    }
    expect(sensitive.isEmpty).toBe(false);
  });

  it('refuses a pattern that is not a JSON Pointer with ERR_ARGUMENT naming sensitive[i]', () => {
    for (const [patterns, argument] of [
      ['/db/password', 'sensitive'],
      [['/ok', 'db/password'], 'sensitive[1]'],
      [['/a~2'], 'sensitive[0]'],
      [[42], 'sensitive[0]'],
      [['/ok', '/ok', null], 'sensitive[2]'],
    ] as const) {
      const error = thrownBy(() => SensitivePaths.compile(patterns as unknown as string[], undefined));
      expect(error).toBeInstanceOf(ArgumentError);
      expect(error).toMatchObject({ code: 'ERR_ARGUMENT', argument });
    }
  });
});

describe('SensitivePaths from a JSON Schema', () => {
  const secret = { type: 'string', writeOnly: true } as const;
  const marked = { type: 'string', 'x-sensitive': true } as const;

  it('finds writeOnly and x-sensitive nodes through properties, and takes the whole subtree under one', () => {
    const sensitive = SensitivePaths.compile(undefined, {
      type: 'object',
      properties: { db: { type: 'object', properties: { password: secret, host: { type: 'string' } } }, tls: { type: 'object', 'x-sensitive': true } },
    });
    expect(coveredOf(sensitive, ['/db/password', '/db/host', '/tls', '/tls/key/pem', '/db'])).toEqual(['/db/password', '/tls', '/tls/key/pem']);
  });

  it('reads a patternProperties pattern as a regex over one key, unanchored as ajv does', () => {
    const sensitive = SensitivePaths.compile(undefined, { type: 'object', patternProperties: { '^tok_': marked, Secret$: secret } });
    expect(coveredOf(sensitive, ['/tok_a', '/a_tok_', '/mySecret', '/Secrets', '/tok_a/x'])).toEqual(['/tok_a', '/mySecret', '/tok_a/x']);
  });

  it('reads additionalProperties as the keys neither declared nor matched by a pattern', () => {
    const sensitive = SensitivePaths.compile(undefined, {
      type: 'object',
      properties: { host: { type: 'string' } },
      patternProperties: { '^n_': { type: 'integer' } },
      additionalProperties: secret,
    });
    expect(coveredOf(sensitive, ['/host', '/n_1', '/other', '/x/y'])).toEqual(['/other', '/x/y']);
  });

  it('follows items, prefixItems, the draft-07 items array with additionalItems, and contains', () => {
    expect(coveredOf(SensitivePaths.compile(undefined, { type: 'array', items: secret }), ['/0', '/7', ''])).toEqual(['/0', '/7']);
    const tuple = SensitivePaths.compile(undefined, { type: 'array', prefixItems: [{ type: 'string' }, secret], items: { type: 'object', properties: { key: marked } } });
    expect(coveredOf(tuple, ['/0', '/1', '/2', '/2/key', '/1/x'])).toEqual(['/1', '/2/key', '/1/x']);
    const draft07 = SensitivePaths.compile(undefined, { type: 'array', items: [secret, { type: 'string' }], additionalItems: marked });
    expect(coveredOf(draft07, ['/0', '/1', '/2', '/3'])).toEqual(['/0', '/2', '/3']);
    expect(coveredOf(SensitivePaths.compile(undefined, { type: 'array', contains: secret }), ['/0', '/5'])).toEqual(['/0', '/5']);
  });

  it('follows allOf, anyOf, oneOf, if/then/else and dependentSchemas as schemas of the same value', () => {
    const sensitive = SensitivePaths.compile(undefined, {
      type: 'object',
      allOf: [{ properties: { a: secret } }],
      anyOf: [{ properties: { b: secret } }, { properties: { c: { type: 'object', oneOf: [{ properties: { d: marked } }] } } }],
      if: { properties: { e: secret } },
      then: { properties: { f: secret } },
      else: { properties: { g: secret } },
      dependentSchemas: { h: { properties: { i: secret } } },
    });
    expect(coveredOf(sensitive, ['/a', '/b', '/c', '/c/d', '/e', '/f', '/g', '/h', '/i'])).toEqual(['/a', '/b', '/c/d', '/e', '/f', '/g', '/i']);
  });

  it('follows local $refs: JSON Pointers (percent-encoded too), anchors, $id, and the root $id', () => {
    const sensitive = SensitivePaths.compile(undefined, {
      $id: 'https://example.com/config.json',
      type: 'object',
      properties: {
        a: { $ref: '#/$defs/pass' },
        b: { $ref: '#/$defs/with%20space' },
        c: { $ref: '#key' },
        d: { $ref: 'https://example.com/config.json#/$defs/pass' },
        e: { $ref: 'token.json' },
        f: { $ref: 'https://elsewhere.example/x.json' },
        g: { $ref: '#/$defs/missing' },
        h: { $ref: '#%zz' },
      },
      $defs: { pass: secret, 'with space': secret, key: { $anchor: 'key', ...marked }, token: { $id: 'token.json', ...secret } },
    });
    expect(coveredOf(sensitive, ['/a', '/b', '/c', '/d', '/e', '/f', '/g', '/h'])).toEqual(['/a', '/b', '/c', '/d', '/e']);
  });

  it('covers every depth of a recursive schema ($ref cycles) and still compiles', () => {
    const sensitive = SensitivePaths.compile(undefined, {
      $ref: '#/$defs/node',
      $defs: { node: { type: 'object', properties: { token: secret, children: { type: 'array', items: { $ref: '#/$defs/node' } }, self: { $ref: '#' } } } },
    });
    const deep = `${'/children/0'.repeat(50)}/self/token`;
    expect(coveredOf(sensitive, ['/token', '/children/3/token', deep, '/children/0/name'])).toEqual(['/token', '/children/3/token', deep]);
    expect(sensitive.touches('/children/0/children')).toBe(true);
  });

  it('matches every key under a pattern that does not compile: more redacted, never less', () => {
    const sensitive = SensitivePaths.compile(undefined, { type: 'object', patternProperties: { '(': secret } });
    expect(coveredOf(sensitive, ['/a', '/('])).toEqual(['/a', '/(']);
  });

  it('adds the option patterns to what the schema declares', () => {
    const sensitive = SensitivePaths.compile(['/apiKey'], { type: 'object', properties: { db: { type: 'object', properties: { password: secret } } } });
    expect(coveredOf(sensitive, ['/apiKey', '/db/password', '/db/host'])).toEqual(['/apiKey', '/db/password']);
  });
});

describe('SensitivePaths from a Standard Schema', () => {
  it('reads the JSON Schema zod 4 offers: .meta({ writeOnly }) and .meta({ "x-sensitive" }), records and arrays included', () => {
    const schema = z.object({
      db: z.object({ host: z.string(), password: z.string().meta({ writeOnly: true }) }),
      tokens: z.record(z.string(), z.string().meta({ 'x-sensitive': true })),
      keys: z.array(z.string().meta({ writeOnly: true })),
      port: z.number(),
    });
    const sensitive = SensitivePaths.compile(undefined, schema);
    expect(coveredOf(sensitive, ['/db/password', '/db/host', '/tokens/github', '/keys/2', '/port'])).toEqual(['/db/password', '/tokens/github', '/keys/2']);
  });

  it('keeps the annotations of a zod schema with a transform, which JSON Schema cannot express', () => {
    const schema = z.object({ password: z.string().meta({ writeOnly: true }), port: z.string().transform(Number) });
    expect(coveredOf(SensitivePaths.compile(undefined, schema), ['/password', '/port'])).toEqual(['/password']);
  });

  it('follows a recursive zod schema', () => {
    interface Node {
      readonly secret: string;
      readonly next?: Node | undefined;
    }
    const node: z.ZodType<Node> = z.lazy(() => z.object({ secret: z.string().meta({ writeOnly: true }), next: node.optional() }));
    expect(coveredOf(SensitivePaths.compile(undefined, node), ['/secret', '/next/next/secret', '/next'])).toEqual(['/secret', '/next/next/secret']);
  });

  it('counts only the option for a Standard Schema that offers no JSON Schema, or whose conversion throws', () => {
    const validate = (value: unknown) => ({ value });
    const plain = { '~standard': { version: 1, vendor: 'plain', validate } };
    const throwing = { '~standard': { version: 1, vendor: 'x', validate, jsonSchema: { input: () => { throw new Error('no'); }, output: 'not a function' } } };
    for (const schema of [plain, throwing]) {
      const sensitive = SensitivePaths.compile(['/key'], schema);
      expect(coveredOf(sensitive, ['/key', '/password'])).toEqual(['/key']);
      expect(SensitivePaths.compile(undefined, schema).isEmpty).toBe(true);
    }
  });

  it('takes a JSON Schema from a draft-07 conversion when draft 2020-12 is refused', () => {
    const jsonSchema = { input: (options: { target: string }) => {
      if (options.target !== 'draft-07') throw new Error('unsupported target');
      return { type: 'object', properties: { pin: { type: 'string', writeOnly: true } } };
    } };
    const schema = Object.assign(() => undefined, { '~standard': { version: 1, vendor: 'y', validate: (value: unknown) => ({ value }), jsonSchema } });
    expect(SensitivePaths.compile(undefined, schema).covers('/pin')).toBe(true);
  });
});

describe('covers and touches', () => {
  const sensitive = SensitivePaths.compile(['/db/password', '/services/*/token'], undefined);

  it('says at or under for covers, and at, under or above for touches', () => {
    const pointers = ['', '/db', '/db/password', '/db/password/x', '/db/host', '/services', '/services/a', '/services/a/token', '/services/a/name', '/other'];
    expect(coveredOf(sensitive, pointers)).toEqual(['/db/password', '/db/password/x', '/services/a/token']);
    expect(pointers.filter((pointer) => sensitive.touches(pointer))).toEqual(['', '/db', '/db/password', '/db/password/x', '/services', '/services/a', '/services/a/token']);
  });

  it('answers true for a string that is not a JSON Pointer: when in doubt, hide', () => {
    expect([sensitive.covers('db/password'), sensitive.touches('/a~9')]).toEqual([true, true]);
  });
});

describe('redact', () => {
  const sensitive = SensitivePaths.compile(['/db/password', '/tokens/*', '/list/1', '/nested/*/secret'], undefined);
  const config = deepFreeze({
    db: { host: 'h', password: 'hunter2', pool: { max: 4 } },
    tokens: { github: 'gh', npm: { value: 'npm' } },
    list: ['a', 'b', 'c'],
    nested: [{ secret: 's0', name: 'n0' }, { name: 'n1' }],
    big: { x: { y: 1 } },
  });

  it('replaces each sensitive subtree by [redacted] and shares every other subtree', () => {
    const redacted = sensitive.redact(config);
    expect(redacted).toEqual({
      db: { host: 'h', password: REDACTED, pool: { max: 4 } },
      tokens: { github: REDACTED, npm: REDACTED },
      list: ['a', REDACTED, 'c'],
      nested: [{ secret: REDACTED, name: 'n0' }, { name: 'n1' }],
      big: { x: { y: 1 } },
    });
    expect(redacted.big).toBe(config.big);
    expect(redacted.db.pool).toBe(config.db.pool);
    expect(redacted.nested[1]).toBe(config.nested[1]);
    expect(Object.keys(redacted)).toEqual(Object.keys(config));
  });

  it('never changes its input, and returns a deeply frozen result (arrays included)', () => {
    const before = JSON.stringify(config);
    const redacted = sensitive.redact(config);
    expect(JSON.stringify(config)).toBe(before);
    expect(isDeeplyFrozen(redacted)).toBe(true);
    expect(Array.isArray(redacted.list)).toBe(true);
  });

  it('returns the value itself when nothing under it is sensitive, and the same result for the same frozen config', () => {
    const clear = deepFreeze({ db: { host: 'h' }, other: [1] });
    expect(sensitive.redact(clear)).toBe(clear);
    expect(SensitivePaths.compile([], undefined).redact(config)).toBe(config);
    expect(sensitive.redact(config)).toBe(sensitive.redact(config));
    expect(sensitive.redact(42)).toBe(42);
    expect(sensitive.redact(deepFreeze({ db: 'a string where an object was' }))).toEqual({ db: 'a string where an object was' });
  });

  it('redacts the subtree at `at`, and returns [redacted] when `at` is sensitive itself', () => {
    expect(sensitive.redact(config.db, '/db')).toEqual({ host: 'h', password: REDACTED, pool: { max: 4 } });
    expect(sensitive.redact(config.db.password, '/db/password')).toBe(REDACTED);
    expect(sensitive.redact(config.tokens.npm.value, '/tokens/npm/value')).toBe(REDACTED);
    expect(sensitive.redact(config.big, '/big')).toBe(config.big);
    expect(thrownBy(() => sensitive.redact(config, 'db'))).toMatchObject({ code: 'ERR_ARGUMENT', argument: 'at' });
  });

  it('walks only named keys when no wildcard applies, and leaves a member named like an array property alone', () => {
    const named = SensitivePaths.compile(['/list/length', '/list/0', '/obj/toString'], undefined);
    const value = deepFreeze({ list: ['s'], obj: { toString: 'secret' } });
    expect(named.redact(value)).toEqual({ list: [REDACTED], obj: { toString: REDACTED } });
  });

  it('redacts by the schema: a map of tokens under additionalProperties, an array of keys', () => {
    const fromSchema = SensitivePaths.compile(undefined, {
      type: 'object',
      properties: { tokens: { type: 'object', properties: { public: { type: 'string' } }, additionalProperties: { type: 'string', writeOnly: true } }, keys: { type: 'array', items: { 'x-sensitive': true } } },
    });
    expect(fromSchema.redact(deepFreeze({ tokens: { public: 'p', a: 'x', b: 'y' }, keys: [{ pem: 'k' }], port: 1 }))).toEqual({
      tokens: { public: 'p', a: REDACTED, b: REDACTED },
      keys: [REDACTED],
      port: 1,
    });
  });

  it('leaves no leaf covers() calls sensitive, keeps every other leaf, and shares every subtree touches() clears', () => {
    const keys = ['a', 'b', '0', '1'];
    const leaf = fc.constantFrom<unknown>(0, 'x', true, null);
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('object'), tie('array')),
      object: fc.dictionary(fc.constantFrom(...keys), tie('tree'), { maxKeys: 4 }),
      array: fc.array(tie('tree'), { maxLength: 3 }),
    }));
    const pattern = fc.array(fc.constantFrom(...keys, '*'), { minLength: 1, maxLength: 3 }).map((segments) => toPointer(segments));
    fc.assert(
      fc.property(tree, fc.array(pattern, { maxLength: 3 }), (generated, patterns) => {
        // Every leaf a unique string, so that a leaf left in the result can be found by value.
        const value = deepFreeze(uniqueLeaves(generated, []));
        const paths = SensitivePaths.compile(patterns, undefined);
        const redacted = paths.redact(value);
        expect(redacted).toEqual(expected(value, '', paths));
        const text = JSON.stringify(redacted);
        for (const [pointer, leafValue] of leavesOf(value, '')) {
          if (paths.covers(pointer)) expect(text).not.toContain(JSON.stringify(leafValue));
        }
        for (const [pointer, node] of nodesOf(value, '')) if (!paths.touches(pointer)) expect(at(redacted, pointer)).toBe(node);
        expect(isDeeplyFrozen(redacted)).toBe(true);
      }),
    );
  });
});

function uniqueLeaves(value: unknown, path: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((item, index) => uniqueLeaves(item, [...path, String(index)]));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, uniqueLeaves(item, [...path, key])]));
  return `leaf:${toPointer(path)}`;
}

/** What redact must give, from covers() alone. */
function expected(value: unknown, pointer: string, paths: SensitivePaths): unknown {
  if (paths.covers(pointer)) return REDACTED;
  if (Array.isArray(value)) return value.map((item, index) => expected(item, `${pointer}/${index}`, paths));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, expected(item, `${pointer}/${key}`, paths)]));
  return value;
}

function* nodesOf(value: unknown, pointer: string): Generator<[string, unknown]> {
  yield [pointer, value];
  if (typeof value === 'object' && value !== null) for (const [key, item] of Object.entries(value)) yield* nodesOf(item, `${pointer}/${key}`);
}

function* leavesOf(value: unknown, pointer: string): Generator<[string, unknown]> {
  for (const [path, node] of nodesOf(value, pointer)) if (typeof node !== 'object' || node === null) yield [path, node];
}

function at(value: unknown, pointer: string): unknown {
  let node = value;
  for (const key of pointer.split('/').slice(1)) node = (node as Record<string, unknown>)[key];
  return node;
}
