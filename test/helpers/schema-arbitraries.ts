// Generated JSON Schemas (objects, arrays, tuples, allOf, anyOf, if/then/else, local
// references, defaults with and without a type) and values mostly valid for them: for
// property tests that compare a shortcut of validation with the whole validation.
import fc from 'fast-check';
import { setMember } from '../../src/json/plain-object.js';
import { tree } from './json-edits.js';

export type Schema = Record<string, unknown>;
const KEY = fc.constantFrom('a', 'b');
// A recursive definition (ajv compiles it on its own) and a plain one (inlined).
const DEFS = {
  node: { type: 'object', properties: { a: { type: 'string', default: 'd' }, c: { $ref: '#/$defs/node' } } },
  count: { type: 'integer', default: 1 },
};
const optional = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arbitrary, { nil: undefined });
const withoutUndefined = (schema: Record<string, unknown>): Schema => Object.fromEntries(Object.entries(schema).filter(([, value]) => value !== undefined));

const { object: objectSchema } = fc.letrec((tie) => ({
  schema: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { arbitrary: tie('scalar'), weight: 4 },
    { arbitrary: tie('object'), weight: 3 },
    tie('array'),
    tie('tuple'),
    tie('allOf'),
    tie('anyOf'),
    tie('conditional'),
    { arbitrary: tie('ref'), weight: 2 },
    // Traps that broke the shortcut before: a default without a type, and a schema
    // compiled on its own (recursive) that applies its defaults inside a branch of anyOf.
    { arbitrary: fc.record({ default: fc.constantFrom(0, 'x') }), weight: 2 },
    fc.constantFrom<Schema>({ anyOf: [{ $ref: '#/$defs/node' }, { type: 'object' }] }, { anyOf: [{ type: 'object' }, { $ref: '#/$defs/node' }] }),
  ),
  scalar: fc
    .tuple(fc.constantFrom('integer', 'string', 'boolean'), fc.boolean(), fc.boolean())
    .map(([type, hasDefault, enumerated]): Schema => {
      const values = { integer: [0, 1], string: ['x', 'y'], boolean: [true, false] }[type] as unknown[];
      return withoutUndefined({ type, default: hasDefault ? values[1] : undefined, enum: enumerated && type !== 'boolean' ? values : undefined });
    }),
  object: fc
    .record({
      properties: fc.dictionary(KEY, tie('schema'), { maxKeys: 3 }),
      defaulted: fc.boolean(),
      closed: fc.constantFrom(undefined, false, { type: 'integer' }),
      requireAll: fc.boolean(),
    })
    .map(({ properties, defaulted, closed, requireAll }): Schema => {
      const keys = Object.keys(properties);
      return withoutUndefined({
        type: 'object',
        properties,
        required: requireAll && keys.length > 0 ? keys : undefined,
        additionalProperties: closed,
        default: defaulted ? {} : undefined,
      });
    }),
  array: fc.record({ items: tie('schema'), defaulted: fc.boolean() }).map(({ items, defaulted }): Schema => withoutUndefined({ type: 'array', items, default: defaulted ? [] : undefined })),
  tuple: fc.tuple(tie('schema'), tie('schema')).map(([first, second]): Schema => ({ type: 'array', items: [first, second], minItems: 2, additionalItems: false })),
  allOf: fc.tuple(tie('object'), tie('object')).map(([first, second]): Schema => ({ type: 'object', allOf: [first, second] })),
  anyOf: fc.tuple(tie('schema'), tie('schema')).map(([first, second]): Schema => ({ anyOf: [withoutDefaults(first), withoutDefaults(second)] })),
  conditional: fc
    .tuple(KEY, tie('object'), optional(tie('object')))
    .map(([key, then, otherwise]): Schema => withoutUndefined({ type: 'object', properties: { [key]: {} }, if: { properties: { [key]: { const: 1 } }, required: [key] }, then, else: otherwise })),
  ref: fc.constantFrom<Schema>({ $ref: '#/$defs/node' }, { $ref: '#/$defs/count' }),
}));
// `$defs` only where referenced: a `$ref` anywhere turns the shortcut off beside a composite keyword.
export const rootSchema = objectSchema.map((schema): Schema => {
  const root = withoutUndefined({ ...schema, default: undefined });
  return JSON.stringify(root).includes('"$ref"') ? { ...root, $defs: DEFS } : root;
});

/**
 * Values mostly valid for `schema`, with members left out (where defaults go) and now and
 * then junk; never with a key that can pollute prototypes (every input refuses those
 * before validation: json-edits' `hostileTree` makes them).
 */
export function valueFor(schema: unknown, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 4 || schema === null || typeof schema !== 'object') return tree;
  const s = schema as Schema;
  const valid = validValueFor(s, depth);
  return fc.oneof({ arbitrary: valid, weight: 9 }, { arbitrary: tree, weight: 1 });
}

function validValueFor(s: Schema, depth: number): fc.Arbitrary<unknown> {
  if (typeof s.$ref === 'string') return valueFor(DEFS[s.$ref.slice('#/$defs/'.length) as keyof typeof DEFS], depth + 1);
  if (Array.isArray(s.anyOf)) return fc.oneof(...(s.anyOf as unknown[]).map((branch) => valueFor(branch, depth + 1)));
  if (Array.isArray(s.allOf)) {
    return fc.tuple(...(s.allOf as unknown[]).map((branch) => valueFor(branch, depth + 1))).map((parts) => {
      // Member by member, as the store copies: a junk part may have a key Object.prototype
      // has (`toString`); never one that can pollute prototypes (json-edits' KEYS hold none:
      // such a value is refused, not validated).
      const merged: Record<string, unknown> = {};
      for (const part of parts) if (isRecord(part)) for (const key of Object.keys(part)) setMember(merged, key, part[key]);
      return merged;
    });
  }
  switch (s.type) {
    case 'integer':
      return fc.constantFrom(0, 1);
    case 'string':
      return fc.constantFrom('x', 'y');
    case 'boolean':
      return fc.boolean();
    case 'array':
      if (Array.isArray(s.items)) return fc.array(fc.oneof(...(s.items as unknown[]).map((item) => valueFor(item, depth + 1))), { maxLength: 3 });
      return fc.array(valueFor(s.items, depth + 1), { maxLength: 3 });
    case 'object': {
      const members: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, property] of Object.entries(s.properties ?? {})) members[key] = valueFor(property, depth + 1);
      for (const branch of [s.then, s.else]) {
        if (isRecord(branch)) for (const [key, property] of Object.entries((branch.properties ?? {}) as Schema)) members[key] ??= valueFor(property, depth + 1);
      }
      if (typeof s.if === 'object') for (const key of Object.keys((s.if as Schema).properties ?? {})) members[key] = fc.constantFrom(1, 0);
      return fc.record(members, { requiredKeys: [] });
    }
    default:
      return fc.constantFrom(0, 'x');
  }
}

/** Every subschema of `schema`: values for them are payloads an edit may put anywhere. */
export function subschemasOf(schema: unknown, into: unknown[] = []): unknown[] {
  if (schema === null || typeof schema !== 'object') return into;
  if (!Array.isArray(schema)) into.push(schema);
  for (const [key, value] of Object.entries(schema)) if (key !== 'enum' && key !== 'const' && key !== 'default') subschemasOf(value, into);
  return into;
}


function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `schema` without its `default` keywords (`enum` values are data, kept as they are). */
export function withoutDefaults(schema: unknown): unknown {
  if (schema === null || typeof schema !== 'object') return schema;
  if (Array.isArray(schema)) return schema.map(withoutDefaults);
  return Object.fromEntries(Object.entries(schema).filter(([key]) => key !== 'default').map(([key, value]) => [key, key === 'enum' ? value : withoutDefaults(value)]));
}
