import { Ajv } from 'ajv';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ConfigStore, ConfigurationError, ReloadError, ValidationError } from '../../src/index.js';
import { compileValidator, isStandardSchema } from '../../src/schema/validator.js';
import { copyJson } from '../../src/json/checked-json.js';
import { thrownBy } from '../helpers/rejection.js';

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

  it('gives an ajv of the caller a private copy even without defaults: a coercion lands in the snapshot', async () => {
    // Under `then`, `a.n` must be an integer: the coercing ajv turns "1" into 1. The node
    // `a` equals the live one, so a shared (frozen) `a` would silently refuse that write.
    const conditional = {
      type: 'object',
      properties: { mode: { type: 'string' }, a: { type: 'object' } },
      if: { properties: { mode: { const: 'strict' } } },
      then: { properties: { a: { properties: { n: { type: 'integer' } } } } },
    } as const;
    const store = await ConfigStore.create({
      schema: conditional,
      ajv: new Ajv({ coerceTypes: true, strict: false }),
      initial: { mode: 'loose', a: { n: '1' } },
    });
    const mine = { mode: 'strict', a: { n: '1' } };
    await store.reload(mine);
    expect(store.load().config).toEqual({ mode: 'strict', a: { n: 1 } });
    expect(mine).toEqual({ mode: 'strict', a: { n: '1' } });
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

describe('JSON Schema validation of a parsed file against the live config', () => {
  const schema = {
    type: 'object',
    properties: {
      kind: { type: 'string' },
      services: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          properties: {
            port: { type: 'integer' },
            enabled: { type: 'boolean', default: true },
            tags: { type: 'array', items: { type: 'string' }, default: [] },
            limits: { type: 'object', properties: { cpu: { type: 'number', default: 1 } }, default: {} },
          },
          required: ['port'],
          additionalProperties: false,
        },
      },
      opts: { type: 'object' },
    },
    required: ['services'],
    if: { properties: { kind: { const: 'strict' } }, required: ['kind'] },
    then: { properties: { opts: { type: 'object', properties: { level: { type: 'integer', default: 3 } } } } },
  } as const;
  type Config = { kind?: string; services: Record<string, { port: number; enabled?: boolean; tags?: string[]; limits?: { cpu?: number } }>; opts?: Record<string, unknown> };
  const file = (config: Config): Config => JSON.parse(JSON.stringify(config)) as Config;
  // The old path: ajv on a full mutable copy.
  const reference = (candidate: unknown): { valid: boolean; value: unknown; errors: unknown } => {
    const check = new Ajv({ allErrors: true, useDefaults: true, strict: true }).compile(schema);
    const value = copyJson(candidate);
    const valid = check(value);
    return { valid, value, errors: check.errors };
  };
  const initial: Config = { kind: 'loose', services: { a: { port: 1, tags: ['t'] }, b: { port: 2, limits: { cpu: 2 } } }, opts: {} };

  it('gives the value a full copy gives, with the live nodes where the file equals them after defaults', async () => {
    const store = await ConfigStore.create({ schema, initial: file(initial) });
    const live = store.load().config;
    const validate = compileValidator(schema);
    // A file with every default written out: the services are the live ones.
    const full = file(live as Config);
    full.services.b!.port = 20;
    const validated = validate(full, live) as Config;
    expect(validated).toEqual(reference(full).value);
    expect(JSON.stringify(validated)).toBe(JSON.stringify(reference(full).value));
    expect(validated.services.a).toBe(live.services.a);
    expect(validated.services.b!.limits).toBe(live.services.b!.limits);
    expect(Object.isFrozen(validated.services.b)).toBe(false);
    // The same file without the defaults: a default-less node differs from the live one
    // (so it is copied and ajv writes its defaults), its children are still shared.
    const sparse = file(initial);
    sparse.services.b!.port = 20;
    const again = validate(sparse, live) as Config;
    expect(again).toEqual(reference(sparse).value);
    expect(JSON.stringify(again)).toBe(JSON.stringify(reference(sparse).value));
    expect(again.services.a!.tags).toBe(live.services.a!.tags);
    expect(again.services.b!.limits).toBe(live.services.b!.limits);
    expect(sparse).toEqual(file(sparse));
    expect(Object.isFrozen(sparse.services)).toBe(false);
  });

  it('applies a default that a change elsewhere brings to an unchanged live node (it is frozen: a full copy decides)', async () => {
    const store = await ConfigStore.create({ schema, initial: file(initial) });
    const live = store.load().config;
    expect(live.opts).toEqual({});
    const next = { ...file(initial), kind: 'strict' };
    const validated = compileValidator(schema)(next, live) as Config;
    expect(validated.opts).toEqual({ level: 3 });
    expect(validated).toEqual(reference(next).value);
    await store.reload(next);
    expect(store.load().config.opts).toEqual({ level: 3 });
    expect(store.load().config.services).toBe(live.services);
  });

  it('gives the errors of a full copy for an invalid file, unchanged parts included', async () => {
    const store = await ConfigStore.create({ schema, initial: file(initial) });
    const live = store.load().config;
    const bad = file(initial) as unknown as { services: Record<string, Record<string, unknown>> };
    bad.services.a!.port = 'no';
    bad.services.c = { enabled: 'no' };
    const error = thrownBy(() => compileValidator(schema)(bad, live)) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    const expected = reference(bad);
    expect(expected.valid).toBe(false);
    expect(error.issues.length).toBe((expected.errors as unknown[]).length);
    expect(error.issues.map((issue) => issue.path)).toEqual(['/services/a/port', '/services/c/port', '/services/c/enabled']);
  });

  it('reloads a file: unchanged subtrees shared, patches of the change only, the file neither frozen nor kept', async () => {
    const store = await ConfigStore.create({ schema, initial: file(initial) });
    const before = store.load();
    const next = file(initial);
    next.services.a!.tags = ['t', 'u'];
    const result = await store.reload(next);
    expect(result.status).toBe('applied');
    const after = store.load().config;
    expect(after.services.b).toBe(before.config.services.b);
    expect(after.opts).toBe(before.config.opts);
    expect(result.patches).toEqual([{ op: 'replace', path: ['services', 'a', 'tags'], value: ['t', 'u'] }]);
    expect(after.services.a).toEqual({ port: 1, tags: ['t', 'u'], enabled: true, limits: { cpu: 1 } });
    expect(after.services.a!.limits).toBe(before.config.services.a!.limits);
    expect(Object.isFrozen(next)).toBe(false);
    expect(Object.isFrozen(next.services.a)).toBe(false);
    expect(next.services.a).toEqual({ port: 1, tags: ['t', 'u'] });
    expect(Object.values(after.services).some((node) => node === next.services.a)).toBe(false);
    // The same file again, parsed afresh: unchanged, the very same snapshot.
    const same = await store.reload(file(next));
    expect(same.status).toBe('unchanged');
    expect(store.load().config).toBe(after);
  });
});
