import { Ajv } from 'ajv';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ArgumentError, ConfigStore, ConfigurationError, ReloadError, UnsafeKeyError, ValidationError, type StandardSchemaV1 } from '../../src/index.js';
import { compileValidator, isStandardSchema } from '../../src/schema/validator.js';
import { copyJson } from '../../src/json/checked-json.js';
import { rejection, thrownBy } from '../helpers/rejection.js';

describe('JSON Schema validation', () => {
  const schema = {
    type: 'object',
    properties: {
      name: { type: 'string' },
      limits: { type: 'object', properties: { max: { type: 'integer', default: 10 } }, default: {} },
    },
    required: ['name'],
    additionalProperties: false,
  } as const;

  it('applies defaults without touching the candidate it was given', () => {
    const validate = compileValidator(schema);
    const candidate = { name: 'a' };
    expect(validate(candidate)).toEqual({ name: 'a', limits: { max: 10 } });
    expect(candidate).toEqual({ name: 'a' });
  });

  it('reports every issue with its JSON path, not just the first', () => {
    const validate = compileValidator(schema);
    let error: unknown;
    try {
      validate({ limits: { max: 'x' }, extra: true });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('ERR_VALIDATION');
    expect((error as ValidationError).issues.map((i) => [i.path, i.keyword]).sort()).toEqual([
      ['/extra', 'additionalProperties'],
      ['/limits/max', 'type'],
      ['/name', 'required'],
    ]);
  });

  it('refuses a schema ajv cannot compile in strict mode with ERR_SCHEMA', async () => {
    const error = await ConfigStore.create({ schema: { type: 'object', propertees: {} }, initial: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('ERR_SCHEMA');
  });

  it('uses an ajv instance of the caller when given one', async () => {
    const ajv = new Ajv({ allErrors: true, useDefaults: true });
    ajv.addFormat('even', (value: string) => value.length % 2 === 0);
    const store = await ConfigStore.create({ schema: { type: 'object', properties: { id: { type: 'string', format: 'even' } } }, initial: { id: 'ab' }, ajv });
    await expect(store.reload({ id: 'abc' })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
  });

  it('refuses an object whose prototype chain has no constructor with a ValidationError at its path', () => {
    const validate = compileValidator(schema);
    class Detached {
      readonly kind = 'detached';
    }
    Reflect.deleteProperty(Detached.prototype, 'constructor');
    for (const odd of [Object.create(Object.create(null) as object) as object, new Detached()]) {
      for (const live of [undefined, copyJson({ name: 'a', limits: { max: 1 } }, { freeze: true })]) {
        const error = thrownBy(() => validate({ name: 'a', limits: odd }, live));
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).issues.map((issue) => issue.path)).toEqual(['/limits']);
      }
    }
  });

  it('refuses a schema that is neither a JSON Schema nor a Standard Schema, and an ajv that is not one, with ERR_ARGUMENT', () => {
    for (const schema of [null, 3, 'object', [], () => undefined]) {
      const error = thrownBy(() => compileValidator(schema as unknown as boolean));
      expect(error).toBeInstanceOf(ArgumentError);
      expect(error).toMatchObject({ code: 'ERR_ARGUMENT', argument: 'schema' });
    }
    for (const ajv of [null, {}, { compile: 1 }]) {
      expect(thrownBy(() => compileValidator({ type: 'object' }, { ajv: ajv as unknown as Ajv }))).toMatchObject({ code: 'ERR_ARGUMENT', argument: 'ajv' });
    }
    expect(compileValidator(true)({ any: 1 })).toEqual({ any: 1 });
  });

  it("falls back to the keyword when the caller's ajv omits messages", () => {
    const ajv = new Ajv({ messages: false, allErrors: true });
    const validate = compileValidator({ type: 'object', properties: { port: { type: 'integer' } }, required: ['port'] }, { ajv });
    expect((thrownBy(() => validate({})) as ValidationError).issues).toEqual([{ path: '/port', message: 'required', keyword: 'required' }]);
  });

  it('escapes JSON Pointer characters in paths', () => {
    const validate = compileValidator({ type: 'object', additionalProperties: { type: 'number' } });
    const error = (() => {
      try {
        validate({ 'a/b~c': 'x' });
      } catch (caught) {
        return caught as ValidationError;
      }
      return null;
    })();
    expect(error?.issues[0]?.path).toBe('/a~1b~0c');
  });
});

describe('the x-sensitive annotation', () => {
  const schema = { type: 'object', properties: { password: { type: 'string', 'x-sensitive': true }, pin: { type: 'string', writeOnly: true } } } as const;

  it('compiles in strict mode on our own ajv, and validates nothing', () => {
    const validate = compileValidator(schema);
    expect(validate({ password: 'p', pin: '1' })).toEqual({ password: 'p', pin: '1' });
    expect(thrownBy(() => compileValidator({ type: 'string', 'x-sensitive': 'yes' }))).toMatchObject({ code: 'ERR_SCHEMA' });
  });

  it("is declared once on a strict ajv of the caller's that does not know it", () => {
    const ajv = new Ajv({ strict: true });
    expect(ajv.getKeyword('x-sensitive')).toBe(false);
    compileValidator(schema, { ajv });
    const declared = ajv.getKeyword('x-sensitive');
    expect(declared).not.toBe(false);
    compileValidator({ ...schema, title: 'again' }, { ajv });
    expect(ajv.getKeyword('x-sensitive')).toBe(declared);
  });

  it("keeps a definition of the caller's own", () => {
    const ajv = new Ajv({ strict: true, allErrors: true });
    ajv.addKeyword({ keyword: 'x-sensitive', schemaType: 'boolean', validate: (marked: boolean, data: unknown) => !marked || (typeof data === 'string' && data.length >= 8) });
    const validate = compileValidator(schema, { ajv });
    expect((thrownBy(() => validate({ password: 'short' })) as ValidationError).issues).toMatchObject([{ path: '/password', keyword: 'x-sensitive' }]);
  });
});

describe('JSON Schema validation of an $async schema', () => {
  const schema = {
    $async: true,
    type: 'object',
    properties: { port: { type: 'integer', default: 80 }, host: { type: 'string' } },
    additionalProperties: false,
  } as const;

  it('rejects a config that fails the schema with a ValidationError at its path', async () => {
    const validate = compileValidator(schema);
    const error = await rejection(Promise.resolve(validate({ port: 'x', extra: 1 })));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((issue) => [issue.path, issue.keyword]).sort()).toEqual([
      ['/extra', 'additionalProperties'],
      ['/port', 'type'],
    ]);
  });

  it('resolves to the validated value, defaults applied, the candidate untouched', async () => {
    const candidate = { host: 'h' };
    await expect(Promise.resolve(compileValidator(schema)(candidate))).resolves.toEqual({ host: 'h', port: 80 });
    expect(candidate).toEqual({ host: 'h' });
  });

  it('awaits an $async schema of a caller\'s ajv, async keywords included, and lets their other failures through', async () => {
    const ajv = new Ajv({ allErrors: true });
    const outage = new Error('lookup service down');
    ajv.addKeyword({
      keyword: 'knownHost',
      async: true,
      type: 'string',
      validate: async (_schema: unknown, data: string) => {
        await Promise.resolve();
        if (data === 'down') throw outage;
        return data !== 'unknown';
      },
    });
    const validate = compileValidator({ $async: true, type: 'object', properties: { host: { type: 'string', knownHost: true } } }, { ajv });
    await expect(Promise.resolve(validate({ host: 'known' }))).resolves.toEqual({ host: 'known' });
    const invalid = await rejection(Promise.resolve(validate({ host: 'unknown' })));
    expect(invalid).toBeInstanceOf(ValidationError);
    expect((invalid as ValidationError).issues).toEqual([{ path: '/host', message: 'must pass "knownHost" keyword validation', keyword: 'knownHost' }]);
    expect(await rejection(Promise.resolve(validate({ host: 'down' })))).toBe(outage);
  });
});

describe('Standard Schema validation', () => {
  const schema = z.object({
    port: z.number().int().default(80),
    routes: z.array(z.object({ path: z.string().startsWith('/') })).default([]),
  });

  it('recognises a Standard Schema v1 validator', () => {
    expect(isStandardSchema(schema)).toBe(true);
    expect(isStandardSchema({ type: 'object' })).toBe(false);
  });

  it('uses the validator output, defaults included', async () => {
    const store = await ConfigStore.create({ schema, initial: {} });
    expect(store.load().config).toEqual({ port: 80, routes: [] });
    await store.reload({ port: 81, routes: [{ path: '/a' }] });
    expect(store.load().config.routes[0]?.path).toBe('/a');
  });

  it('accepts a Standard Schema validator that is a function (as arktype types are)', async () => {
    const schema = Object.assign(() => undefined, {
      '~standard': { version: 1, vendor: 'fn', validate: (value: unknown) => ({ value: value as { n: number } }) },
    }) as StandardSchemaV1<{ n: number }>;
    await expect(Promise.resolve(compileValidator(schema)({ n: 1 }))).resolves.toEqual({ n: 1 });
  });

  it('turns issue paths, absent or with object segments, into JSON Pointers', async () => {
    const schema: StandardSchemaV1<unknown, unknown> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: () => ({ issues: [{ message: 'root is wrong' }, { message: 'deep', path: [{ key: 'a' }, 0, { key: 'b/c' }] }] }),
      },
    };
    const error = await rejection(Promise.resolve(compileValidator(schema)({})));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((issue) => issue.path)).toEqual(['', '/a/0/b~1c']);
  });

  it('reports issues with JSON paths', async () => {
    const store = await ConfigStore.create({ schema, initial: {} });
    const error = (await store.reload({ port: 1.5, routes: [{ path: 'x' }] }).catch((e: unknown) => e)) as ReloadError;
    expect(error).toBeInstanceOf(ReloadError);
    expect(error.code).toBe('ERR_VALIDATION');
    expect(error.issues.map((i) => i.path).sort()).toEqual(['/port', '/routes/0/path']);
  });
});

describe('keys that can pollute prototypes, whatever the schema says of them', () => {
  const open = { type: 'object', additionalProperties: true } as const;
  const strict = { type: 'object', properties: { a: { type: 'integer' } } } as const;
  // Each validator the store may compile: ours sharing nodes, the full copy (a caller's
  // ajv), `true`, an $async schema, and Standard Schemas that strip unknown members or keep them.
  const validators: readonly (readonly [string, (candidate: unknown, live?: unknown, input?: string) => unknown])[] = [
    ['our ajv, a schema that allows any member', compileValidator(open)],
    ['our ajv, no schema on that member', compileValidator(strict)],
    ['our ajv, the schema true', compileValidator(true)],
    ['a caller\'s ajv (a full copy)', compileValidator(open, { ajv: new Ajv({ allErrors: true, useDefaults: true }) })],
    ['an $async schema', compileValidator({ ...open, $async: true })],
    ['zod, stripping unknown members', compileValidator(z.object({ a: z.number() }))],
    ['zod, keeping them', compileValidator(z.looseObject({ a: z.number() }))],
  ];

  for (const [name, validate] of validators) {
    it(`refuses an own key __proto__, constructor or prototype in the candidate: ${name}`, async () => {
      for (const [text, key, pointer] of [
        ['{"a": 1, "__proto__": {"polluted": true}}', '__proto__', ''],
        ['{"a": 1, "m": {"constructor": {"prototype": {"polluted": true}}}}', 'constructor', '/m'],
        ['{"a": 1, "list": [{"prototype": 1}]}', 'prototype', '/list/0'],
      ] as const) {
        const error = await rejection(Promise.resolve().then(() => validate(JSON.parse(text), undefined, 'recipe')));
        expect(error).toBeInstanceOf(UnsafeKeyError);
        expect(error).toMatchObject({ code: 'ERR_UNSAFE_KEY', key, pointer, path: 'recipe' });
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  }

  it('checks the raw candidate, not what a stripping schema makes of it', async () => {
    const schema = z.object({ a: z.number() });
    const candidate = JSON.parse('{"a": 1, "__proto__": {"polluted": true}}') as unknown;
    // The schema alone would hide the key: its output has no such member.
    expect(Object.keys(schema.parse(candidate))).toEqual(['a']);
    expect(await rejection(Promise.resolve(compileValidator(schema)(candidate)))).toMatchObject({ code: 'ERR_UNSAFE_KEY', key: '__proto__', path: 'reload()' });
  });
});
