// The change check validates the changed subtrees with the validators of their
// subschemas, and a node whole where a keyword spans its members; it answers "valid" or
// "cannot tell", never "invalid". Which subschemas it runs, on what, is what these
// tests watch: ajv's getSchema is wrapped to record every validation.
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { copyJson } from '../../src/json/checked-json.js';
import { compileChangeCheck, type ChangePath } from '../../src/schema/change-validation.js';

const KEY = 'txconfig:test';

/** A change check over `schema`, and the validations it ran: subschema pointer and the data given. */
function watched(schema: Record<string, unknown>, writesDefaults = false): { check: (data: unknown, paths: readonly ChangePath[]) => boolean; validated: (data: unknown, paths: readonly ChangePath[]) => readonly ChangePath[] | undefined; runs: { pointer: string; data: unknown }[] } {
  const engine = new Ajv({ allErrors: true, useDefaults: true, strict: true });
  engine.addSchema(schema, KEY);
  const runs: { pointer: string; data: unknown }[] = [];
  const getSchema = engine.getSchema.bind(engine);
  engine.getSchema = ((ref: string) => {
    const validate = getSchema(ref);
    if (validate === undefined) return undefined;
    const pointer = ref.slice(KEY.length + 1);
    return Object.assign((data: unknown) => {
      runs.push({ pointer, data });
      return validate(data);
    }, validate);
  }) as typeof engine.getSchema;
  const validated = compileChangeCheck(schema, engine, KEY, writesDefaults);
  return { check: (data, paths) => validated(data, paths) !== undefined, validated, runs };
}

const routes = {
  type: 'object',
  properties: {
    routes: { type: 'object', additionalProperties: { type: 'object', properties: { upstream: { type: 'string' }, weight: { type: 'integer', default: 1 } }, required: ['upstream'] } },
    mode: { type: 'string' },
  },
  required: ['routes'],
  additionalProperties: false,
};

function tableOf(size: number): Record<string, { upstream: string; weight: number }> {
  const table: Record<string, { upstream: string; weight: number }> = {};
  for (let index = 0; index < size; index++) table[`/r${index}`] = { upstream: `u${index}`, weight: 1 };
  return table;
}

describe('the change check', () => {
  it('validates only the changed member of a wide map, with its own subschema, defaults applied', () => {
    const { validated, runs } = watched(routes);
    const table = copyJson(tableOf(1000), { freeze: true }) as Record<string, unknown>;
    const changed = { upstream: 'new' };
    const data = { routes: { ...table, '/r5': changed }, mode: 'x' };
    expect(validated(data, [['routes', '/r5']])).toEqual([['routes', '/r5']]);
    expect(runs).toEqual([{ pointer: '/properties/routes/additionalProperties', data: changed }]);
    expect(changed).toEqual({ upstream: 'new', weight: 1 });
  });

  it('answers "cannot tell" for an invalid change, never "invalid"', () => {
    const { check } = watched(routes);
    expect(check({ routes: { '/a': { upstream: 3 } } }, [['routes', '/a']])).toBe(false);
    expect(check({ routes: {}, mode: 7 }, [['mode']])).toBe(false);
  });

  it('checks a member added or removed against the key-set keywords of its parent', () => {
    const { check, validated, runs } = watched(routes);
    // An added member that `additionalProperties: false` refuses, and a removed required one: the parent, whole.
    expect(check({ routes: {}, extra: 1 }, [['extra']])).toBe(false);
    expect(runs.map((run) => run.pointer)).toEqual(['']);
    runs.length = 0;
    expect(check({ mode: 'x' }, [['routes']])).toBe(false);
    expect(runs.map((run) => run.pointer)).toEqual(['']);
    runs.length = 0;
    // A removed optional member: nothing left to validate.
    expect(validated({ routes: {} }, [['mode']])).toEqual([]);
    expect(runs).toEqual([]);
  });

  it('validates the smallest enclosing node whole where a keyword spans its members', () => {
    const ab = { a: { type: 'integer' }, b: { type: 'integer' } };
    const spanning = [
      { uniqueItems: true, type: 'array', items: { type: 'integer' } },
      { type: 'object', properties: ab, dependencies: { a: ['b'] } },
      { type: 'object', properties: ab, if: { properties: { a: { const: 1 } }, required: ['a'] }, then: { properties: { b: { const: 2 } }, required: ['b'] } },
      { type: 'object', properties: ab, anyOf: [{ properties: { a: { const: 1 } }, required: ['a'] }, { properties: { b: { const: 1 } }, required: ['b'] }] },
      { type: 'object', properties: ab, propertyNames: { maxLength: 3 } },
      { type: 'object', properties: ab, minProperties: 2 },
    ];
    for (const node of spanning) {
      const { validated, runs } = watched({ type: 'object', properties: { wide: { type: 'object' }, node } });
      const value = Array.isArray(node.items) || node.type === 'array' ? [1, 2] : { a: 1, b: 2 };
      const data = { wide: { x: 1 }, node: value };
      const changed: ChangePath = node.type === 'array' ? ['node', 1] : ['node', 'a'];
      const answer = validated(data, [changed]);
      expect(runs.map((run) => run.pointer)).toEqual(['/properties/node']);
      expect(runs[0]?.data).toBe(value);
      expect(answer).toEqual([['node']]);
    }
  });

  it('follows local references, and the items of arrays changed in place (lists and tuples)', () => {
    const { check, runs } = watched({
      type: 'object',
      $defs: { service: { type: 'object', properties: { ports: { type: 'array', items: { type: 'integer' } }, pair: { type: 'array', items: [{ type: 'string' }, { type: 'integer' }], minItems: 2, additionalItems: false } } } },
      properties: { services: { type: 'object', additionalProperties: { $ref: '#/$defs/service' } } },
    });
    const data = { services: { a: { ports: [80, 81], pair: ['http', 1] } } };
    expect(check(data, [['services', 'a', 'ports', 1], ['services', 'a', 'pair', 0], ['services', 'a', 'pair', 1]])).toBe(true);
    expect(runs.map((run) => run.pointer)).toEqual(['/$defs/service/properties/ports/items', '/$defs/service/properties/pair/items/0', '/$defs/service/properties/pair/items/1']);
  });

  it('validates a member matched by two subschemas (two patterns) as its parent, whole', () => {
    const { check, runs } = watched({ type: 'object', properties: { box: { type: 'object', patternProperties: { '^a': { type: 'integer' }, 'b$': { type: 'integer', minimum: 0 } } } } });
    expect(check({ box: { ab: 1 } }, [['box', 'ab']])).toBe(true);
    expect(runs.map((run) => run.pointer)).toEqual(['/properties/box']);
  });

  it('escapes keys in the subschema pointers it asks ajv for', () => {
    const { check, runs } = watched({ type: 'object', properties: { 'a/b~c d%': { type: 'object', patternProperties: { '^/x': { type: 'integer' } } } } });
    expect(check({ 'a/b~c d%': { '/x1': 2 } }, [['a/b~c d%', '/x1']])).toBe(true);
    expect(runs.map((run) => run.pointer)).toEqual(['/properties/a~1b~0c%20d%25/patternProperties/%5E~1x']);
  });

  it('with defaults in the schema, never validates a node above the change: it holds nodes not its own to write into', () => {
    const { validated, runs } = watched(routes, true);
    // A removed required member: its parent would be validated whole; with defaults, no.
    expect(validated({ mode: 'x' }, [['routes']])).toBeUndefined();
    expect(runs).toEqual([]);
    // The changed member itself is validated, defaults and all.
    const changed = { upstream: 'new' };
    expect(validated({ routes: { '/a': changed } }, [['routes', '/a']])).toEqual([['routes', '/a']]);
    expect(changed).toEqual({ upstream: 'new', weight: 1 });
  });

  it('reads only own members: a `__proto__` key never leads to Object.prototype', () => {
    const { validated, runs } = watched({ type: 'object', properties: { m: { type: 'object', additionalProperties: { type: 'object', properties: { polluted: { type: 'integer', default: 1 } } } } } }, true);
    // Removed: ajv would read Object.prototype's `__proto__` in its place, so the parent
    // would be validated whole, which a schema with defaults does not allow: cannot tell.
    expect(validated({ m: {} }, [['m', '__proto__']])).toBeUndefined();
    expect(runs).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('gives up on too many changes at once: the whole validation is one pass', () => {
    const { check, runs } = watched(routes);
    const paths = Array.from({ length: 300 }, (_, index) => ['routes', `/r${index}`]);
    expect(check({ routes: tableOf(300) }, paths)).toBe(false);
    expect(runs).toEqual([]);
  });

  it('takes a schema of `true` below a path as valid, and a reference beside other keywords as the node whole', () => {
    const { check, runs } = watched({ type: 'object', properties: { free: true, other: { $ref: '#/$defs/count', type: 'integer', minimum: 0 }, plain: { $ref: '#/$defs/count', description: 'x' } }, $defs: { count: { type: 'integer' } } });
    expect(check({ free: { anything: [1] } }, [['free', 'anything']])).toBe(true);
    expect(runs).toEqual([]);
    expect(check({ other: 3, plain: 4 }, [['other'], ['plain']])).toBe(true);
    expect(runs.map((run) => run.pointer)).toEqual(['/properties/other', '/$defs/count']);
  });
});
