// Text values converted by the JSON Schema's type at their path: which types a path
// takes (every branch of the schema that can apply), and how one text becomes a value.
import { describe, expect, it } from 'vitest';
import { compileTextConversion, convertText, pathTypes } from '../../src/schema/text-conversion.js';
import type { JsonSchema } from '../../src/schema/schema-types.js';
import type { Origins } from '../../src/origin.js';

const types = (schema: unknown, pointer: string): unknown => {
  const result = pathTypes(schema as JsonSchema, pointer === '' ? [] : pointer.slice(1).split('/'));
  return result.declared ? (result.types === 'any' ? 'any' : [...result.types, ...[...result.literals].map((text) => `'${text}'`)].sort()) : 'undeclared';
};

describe('pathTypes', () => {
  it('follows properties, patternProperties, additionalProperties, items and prefixItems', () => {
    const schema = {
      type: 'object',
      properties: { port: { type: 'integer' }, list: { type: 'array', items: { type: 'boolean' } }, pair: { prefixItems: [{ type: 'string' }, { type: 'number' }], items: { type: 'null' } }, old: { items: [{ type: 'integer' }] } },
      patternProperties: { '^x-': { type: 'string' }, '[': { type: 'number' } },
      additionalProperties: { type: 'object', additionalProperties: { type: ['integer', 'null'] } },
    };
    expect(types(schema, '/port')).toStrictEqual(['integer']);
    expect(types(schema, '/list/3')).toStrictEqual(['boolean']);
    expect(types(schema, '/pair/0')).toStrictEqual(['string']);
    expect(types(schema, '/pair/1')).toStrictEqual(['number']);
    expect(types(schema, '/pair/2')).toStrictEqual(['null']);
    expect(types(schema, '/old/0')).toStrictEqual(['integer']);
    expect(types(schema, '/old/1')).toBe('undeclared');
    expect(types(schema, '/x-name')).toStrictEqual(['string']);
    expect(types(schema, '/other/deep')).toStrictEqual(['integer', 'null']);
    expect(types(schema, '')).toStrictEqual(['object']);
  });

  it('unions every branch of allOf, anyOf, oneOf and local $refs; const and enum give their values’ types', () => {
    const schema = {
      $defs: { port: { anyOf: [{ type: 'integer' }, { const: 'auto' }] }, loop: { $ref: '#/$defs/loop' } },
      properties: { port: { $ref: '#/$defs/port' }, mode: { enum: ['a', 1, null, [1], { a: 1 }] }, both: { allOf: [{ type: 'number' }], oneOf: [{ type: 'boolean' }] }, remote: { $ref: 'other.json#/x' }, loop: { $ref: '#/$defs/loop' }, missing: { $ref: '#/$defs/none' } },
      additionalProperties: false,
    };
    expect(types(schema, '/port')).toStrictEqual(["'auto'", 'integer']);
    expect(types(schema, '/mode')).toStrictEqual(["'a'", 'array', 'null', 'number', 'object']);
    expect(types(schema, '/both')).toStrictEqual(['boolean', 'number']);
    expect(types(schema, '/remote')).toBe('any');
    expect(types(schema, '/loop')).toBe('any');
    expect(types(schema, '/missing')).toBe('any');
    expect(types(schema, '/nope')).toBe('undeclared');
  });

  it('takes the schema true as anything and false as nothing; an open object leaves unknown members undeclared', () => {
    expect(types(true, '/a/b')).toBe('any');
    expect(types(false, '/a')).toBe('undeclared');
    expect(types({ type: 'object', properties: { a: true } }, '/a/b')).toBe('any');
    expect(types({ type: 'object', properties: { a: {} } }, '/b')).toBe('undeclared');
    expect(types({ type: 'object', properties: { a: {} } }, '/a')).toBe('any');
  });
});

describe('convertText', () => {
  const as = (text: string, ...names: string[]): unknown => {
    const result = convertText(text, new Set(names));
    return result.ok ? result.value : 'refused';
  };

  it('converts by the other types where the strings are only exact values (const, enum), and keeps those values as text', () => {
    expect(convertText('4', new Set(['integer']), new Set(['auto']))).toStrictEqual({ ok: true, value: 4 });
    expect(convertText('auto', new Set(['integer']), new Set(['auto']))).toStrictEqual({ ok: true, value: 'auto' });
    // Neither: left as text, for validation to name what the schema takes.
    expect(convertText('many', new Set(['integer']), new Set(['auto']))).toStrictEqual({ ok: true, value: 'many' });
  });

  it('keeps text where the schema takes a string or says nothing', () => {
    expect(convertText('0042', 'any')).toStrictEqual({ ok: true, value: '0042' });
    expect(as('0042', 'string', 'integer')).toBe('0042');
  });

  it('converts integers (safe ones only), numbers, booleans and null', () => {
    expect(as(' 42 ', 'integer')).toBe(42);
    expect(as('-1e3', 'integer')).toBe(-1000);
    expect(as('1.5', 'integer')).toBe('refused');
    expect(as('9007199254740993', 'integer')).toBe('refused');
    expect(as('.5', 'number')).toBe(0.5);
    expect(as('1e400', 'number')).toBe('refused');
    expect(as('0x10', 'number')).toBe('refused');
    expect(as('', 'number')).toBe('refused');
    expect(as('TRUE', 'boolean')).toBe(true);
    expect(as('0', 'boolean')).toBe(false);
    expect(as('yes', 'boolean')).toBe('refused');
    expect(as('null', 'null')).toBeNull();
    expect(as('1', 'null', 'boolean')).toBe(true);
  });

  it('parses JSON text for objects and arrays, of the type asked, without prototype keys', () => {
    expect(as('[1,2]', 'array')).toStrictEqual([1, 2]);
    expect(as('{"a":1}', 'object')).toStrictEqual({ a: 1 });
    expect(as('[1]', 'object')).toBe('refused');
    expect(as('{"a":', 'object')).toBe('refused');
    expect(as('{"a":[{"constructor":1}]}', 'object')).toBe('refused');
  });
});

describe('compileTextConversion', () => {
  const origins = (texts: string[], names: Record<string, string> = {}): Origins => ({
    explain: (pointer) => (names[pointer] === undefined ? undefined : { layer: 'env', origin: { env: names[pointer] }, shadowed: [] }),
    texts,
  });

  it('never changes the candidate, copies each object on a converted path once, and leaves the rest shared', () => {
    const convert = compileTextConversion({ type: 'object', properties: { a: { type: 'object', properties: { x: { type: 'integer' }, y: { type: 'integer' } } }, b: { type: 'object' } } });
    const b = { keep: true };
    const candidate = { a: { x: '1', y: '2' }, b };
    const converted = convert(candidate, origins(['/a/x', '/a/y', 'not a pointer', '/b/keep'])) as typeof candidate;
    expect(converted).toStrictEqual({ a: { x: 1, y: 2 }, b: { keep: true } });
    expect(candidate.a).toStrictEqual({ x: '1', y: '2' });
    expect(converted.b).toBe(b);
    expect(convert(candidate, origins([]))).toBe(candidate);
  });

  it('names the path when the origin has no variable or flag', () => {
    const convert = compileTextConversion({ properties: { n: { type: 'integer' } } });
    expect(() => convert({ n: 'x' }, origins(['/n']))).toThrow(expect.objectContaining({ code: 'ERR_VALIDATION', issues: [expect.objectContaining({ path: '/n', message: expect.stringContaining('/n="x"') as string })] }) as Error);
  });
});
