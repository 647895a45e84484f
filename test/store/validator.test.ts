import { Ajv } from 'ajv';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ConfigStore, ConfigurationError, ReloadError, ValidationError } from '../../src/index.js';
import { compileValidator, isStandardSchema } from '../../src/store/validator.js';
import { copyJson } from '../../src/internal/json-data.js';

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

  it('reports issues with JSON paths', async () => {
    const store = await ConfigStore.create({ schema, initial: {} });
    const error = (await store.reload({ port: 1.5, routes: [{ path: 'x' }] }).catch((e: unknown) => e)) as ReloadError;
    expect(error).toBeInstanceOf(ReloadError);
    expect(error.code).toBe('ERR_VALIDATION');
    expect(error.issues.map((i) => i.path).sort()).toEqual(['/port', '/routes/0/path']);
  });
});

describe('JSON Schema validation of a candidate that shares a snapshot\'s nodes', () => {
  const schema = {
    type: 'object',
    properties: {
      plain: { type: 'object', properties: { x: { type: 'integer' } }, additionalProperties: false },
      withDefault: {
        type: 'object',
        properties: { x: { type: 'integer' }, y: { type: 'integer', default: 5 } },
        additionalProperties: false,
      },
      list: { type: 'array', items: { type: 'object', properties: { n: { type: 'integer', default: 0 } } }, default: [] },
    },
    additionalProperties: false,
  } as const;

  it('takes a snapshot\'s nodes into the validated value as they are, and copies the rest', () => {
    const validate = compileValidator(schema);
    const shared = copyJson({ x: 2, y: 7 }, { freeze: true });
    const own = { x: 3 };
    const validated = validate({ withDefault: shared, plain: own }) as Record<string, unknown>;
    expect(validated.withDefault).toBe(shared);
    expect(validated.plain).toEqual(own);
    expect(validated.plain).not.toBe(own);
    expect(validated.list).toEqual([]);
  });

  it('does not share with an ajv instance of the caller (it may coerce or remove)', () => {
    const validate = compileValidator(schema, { ajv: new Ajv({ useDefaults: true }) });
    const shared = copyJson({ x: 2, y: 7 }, { freeze: true });
    expect((validate({ withDefault: shared }) as Record<string, unknown>).withDefault).not.toBe(shared);
  });

  it('shares the unchanged subtrees of a recipe\'s candidate instead of copying them', async () => {
    const store = await ConfigStore.create({ schema, initial: { plain: { x: 1 }, withDefault: { x: 2 }, list: [{}, { n: 3 }] } });
    const before = store.load().config;
    await store.reload((draft) => {
      draft.plain!.x = 10;
    });
    const after = store.load().config;
    expect(after.plain).toEqual({ x: 10 });
    expect(after.withDefault).toBe(before.withDefault);
    expect(after.list).toBe(before.list);
    expect(after.list).toEqual([{ n: 0 }, { n: 3 }]);
  });

  it('applies the defaults of a subtree moved to where other defaults apply', async () => {
    const store = await ConfigStore.create({ schema, initial: { plain: { x: 1 }, withDefault: { x: 2 } } });
    await store.reload((draft) => {
      draft.withDefault = draft.plain as NonNullable<typeof draft.withDefault>;
    });
    expect(store.load().config.withDefault).toEqual({ x: 1, y: 5 });
    expect(store.load().config.plain).toEqual({ x: 1 });
  });

  it('applies the defaults of new array items next to shared ones', async () => {
    const store = await ConfigStore.create({ schema, initial: { list: [{ n: 1 }] } });
    await store.reload((draft) => {
      draft.list.push({} as { n: number });
    });
    expect(store.load().config.list).toEqual([{ n: 1 }, { n: 0 }]);
  });

  it('gives the same errors as a full copy when the candidate is invalid', async () => {
    const store = await ConfigStore.create({ schema, initial: { plain: { x: 1 }, withDefault: { x: 2 } } });
    const error = (await store
      .reload((draft) => {
        (draft.withDefault as { x: unknown }).x = 'no';
      })
      .catch((e: unknown) => e)) as ReloadError;
    expect(error.code).toBe('ERR_VALIDATION');
    expect(error.issues.map((i) => i.path)).toEqual(['/withDefault/x']);
  });

  it('applies the default of a schema referenced from anyOf (so sharing is off) to a moved subtree', async () => {
    // `node` is recursive, so ajv compiles it on its own and it applies its default even
    // inside anyOf: a frozen node would fail the first branch only, and pass the second.
    const referenced = {
      type: 'object',
      $defs: { node: { type: 'object', properties: { x: { type: 'string', default: 'd' }, child: { $ref: '#/$defs/node' } } } },
      properties: { a: { type: 'object' }, b: { anyOf: [{ $ref: '#/$defs/node' }, { type: 'object' }] } },
    } as const;
    const store = await ConfigStore.create({ schema: referenced, initial: { a: {}, b: {} } });
    expect(store.load().config).toEqual({ a: {}, b: { x: 'd' } });
    await store.reload((draft) => {
      (draft as Record<string, unknown>).b = (draft as Record<string, unknown>).a;
    });
    expect(store.load().config).toEqual({ a: {}, b: { x: 'd' } });
  });

  it('applies a default that has no type (so sharing is off) to a moved subtree', async () => {
    const untyped = {
      type: 'object',
      properties: {
        a: { type: 'object', properties: { x: { type: 'integer' } } },
        b: { type: 'object', properties: { x: { type: 'integer' }, tag: { default: 'def' } } },
      },
    } as const;
    const store = await ConfigStore.create({ schema: untyped, initial: { a: { x: 1 }, b: { x: 2 } } });
    expect(store.load().config.b).toEqual({ x: 2, tag: 'def' });
    await store.reload((draft) => {
      draft.b = draft.a as NonNullable<typeof draft.b>;
    });
    expect(store.load().config.b).toEqual({ x: 1, tag: 'def' });
  });
});
