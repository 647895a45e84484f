import { Ajv, type ValidateFunction } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigStore, ReloadError, UnsafeKeyError, ValidationError } from '../../src/index.js';
import { copyJson } from '../../src/json/checked-json.js';
import { canShareNodes, validateSharingNodes } from '../../src/schema/shared-node-validation.js';
import { compileValidator, type Validate } from '../../src/schema/validator.js';
import { applyEdits, edits, type Style } from '../helpers/json-edits.js';
import { rootSchema, subschemasOf, valueFor, type Schema as GeneratedSchema } from '../helpers/schema-arbitraries.js';
import { thrownBy } from '../helpers/rejection.js';

describe('the switch: when a schema may be validated on shared nodes', () => {
  const typed = { type: 'object', properties: { a: { type: 'integer', default: 1 } } } as const;

  it('is on for our own ajv with no default, or with typed defaults', () => {
    expect(canShareNodes({ type: 'object' }, true)).toBe(true);
    expect(canShareNodes(true, true)).toBe(true);
    expect(canShareNodes(typed, true)).toBe(true);
    expect(canShareNodes({ ...typed, anyOf: [{ required: ['a'] }, { required: ['b'] }] }, true)).toBe(true);
    expect(canShareNodes({ ...typed, $defs: { n: { type: 'integer' } }, properties: { a: { $ref: '#/$defs/n' }, b: { type: 'string', default: 'd' } } }, true)).toBe(true);
    expect(canShareNodes({ $ref: '#/$defs/n', $defs: { n: { anyOf: [{ type: 'string' }, { type: 'integer' }] } } }, true)).toBe(true);
  });

  it('is off for a caller\'s ajv, an $async schema, an untyped default, and a reference beside a composite keyword with defaults', () => {
    expect(canShareNodes({ type: 'object' }, false)).toBe(false);
    expect(canShareNodes({ $async: true, type: 'object' }, true)).toBe(false);
    expect(canShareNodes({ type: 'object', properties: { a: { default: 1 } } }, true)).toBe(false);
    for (const composite of ['anyOf', 'oneOf', 'not', 'if', 'contains', 'propertyNames']) {
      const schema = { type: 'object', $defs: { n: { type: 'integer' } }, properties: { a: { type: 'integer', default: 1 }, b: { $ref: '#/$defs/n' } }, [composite]: {} };
      expect(canShareNodes(schema, true)).toBe(false);
    }
  });
});

describe('validation of a candidate that shares a snapshot\'s nodes', () => {
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

  it('refuses an unsafe key where the candidate differs from the snapshot, as the full copy does, before ajv runs', () => {
    const live = copyJson({ plain: { x: 1 }, withDefault: { x: 2 } }, { freeze: true }) as Record<string, unknown>;
    let ran = false;
    const check = Object.assign(() => (ran = true), { errors: null }) as unknown as ValidateFunction;
    for (const [candidate, key, pointer] of [
      [{ plain: live.plain, withDefault: JSON.parse('{"x": 2, "__proto__": {"y": 1}}') as unknown }, '__proto__', '/withDefault'],
      [{ plain: live.plain, withDefault: live.withDefault, list: [JSON.parse('{"constructor": 1}') as unknown] }, 'constructor', '/list/0'],
    ] as const) {
      const error = thrownBy(() => validateSharingNodes(check, candidate, live, 'recipe'));
      expect(error).toBeInstanceOf(UnsafeKeyError);
      expect(error).toMatchObject({ key, pointer, path: 'recipe' });
      expect(thrownBy(() => compileValidator(schema, { ajv: new Ajv({ useDefaults: true }) })(candidate, live, 'recipe'))).toMatchObject({ key, pointer, path: 'recipe' });
    }
    expect(ran).toBe(false);
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

describe('validation of a parsed file against the live config', () => {
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

describe('the shortcut against the full copy, on generated schemas and candidates', () => {
  type Schema = GeneratedSchema;
  // Several candidates per schema (compiling is the slow part), each from its own live
  // config: the validated first value (as a snapshot holds it) or, as often, that value
  // as it was given (a checked config that lacks defaults: the result must not depend on
  // the live config, and its nodes then miss defaults wherever they are shared).
  const cases = rootSchema.chain((schema) => {
    const payload = fc.constantFrom(...subschemasOf(schema)).chain((part) => valueFor(part));
    const trial = fc.record({ first: valueFor(schema), edits: edits(payload), style: fc.constantFrom<Style>('file', 'recipe'), validatedLive: fc.boolean() });
    return fc.record({ schema: fc.constant(schema), trials: fc.array(trial, { minLength: 8, maxLength: 16 }) });
  });

  // Our ajv's options, in an instance of the caller's: the switch is off, every
  // candidate is validated on a full copy.
  const fullCopy = (schema: Schema): Validate => compileValidator(schema, { ajv: new Ajv({ allErrors: true, useDefaults: true, strict: true }) });

  it('accepts and rejects what the full copy does, with the same value (same key order) and the same issues', () => {
    const seen = { compiled: 0, switchedOn: 0, sharedAndValid: 0, movedOrRecipe: 0 };
    fc.assert(
      fc.property(cases, ({ schema, trials }) => {
        let validate: Validate;
        try {
          validate = compileValidator(schema);
        } catch {
          return;
        }
        seen.compiled++;
        const reference = fullCopy(schema);
        const switchedOn = canShareNodes(schema, true);
        for (const { first, edits: list, style, validatedLive } of trials) {
          const start = outcome(() => reference(first));
          // A validated value is not always JSON data: ajv's default for the second item of
          // a tuple given as [] leaves a hole at index 0 (a store refuses that value when it
          // reconciles it). Such a value cannot be a live config: the given one is used.
          const validatedJson = validatedLive && start.ok ? outcome(() => copyJson(start.value, { freeze: true })) : undefined;
          const live = validatedJson?.ok === true ? validatedJson.value : copyJson(first, { freeze: true });
          const candidate = applyEdits(live, list, style);
          const text = JSON.stringify(candidate);
          const shortcut = outcome(() => validate(candidate, live));
          const full = outcome(() => reference(candidate));
          expect(shortcut.ok).toBe(full.ok);
          if (shortcut.ok && full.ok) {
            expect(JSON.stringify(shortcut.value)).toBe(JSON.stringify(full.value));
            expect(shortcut.value).toEqual(full.value);
          }
          if (!shortcut.ok && !full.ok) {
            expect(shortcut.error).toBeInstanceOf(ValidationError);
            expect((shortcut.error as ValidationError).issues).toEqual((full.error as ValidationError).issues);
          }
          expect(JSON.stringify(candidate)).toBe(text);
          if (!switchedOn) continue;
          seen.switchedOn++;
          if (style === 'recipe' || list.some((edit) => edit.op === 'move')) seen.movedOrRecipe++;
          if (shortcut.ok && sharesNodeWith(shortcut.value, live)) seen.sharedAndValid++;
        }
      }),
      { numRuns: 150 },
    );
    // The property says something only if the shortcut ran, and often passed on shared nodes.
    expect(seen.compiled).toBeGreaterThan(100);
    expect(seen.switchedOn).toBeGreaterThan(300);
    expect(seen.sharedAndValid).toBeGreaterThan(100);
    expect(seen.movedOrRecipe).toBeGreaterThan(200);
  });
});

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

function outcome(run: () => unknown): Outcome {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** True when some object or array of `value` is a node of `live`. */
function sharesNodeWith(value: unknown, live: unknown): boolean {
  const liveNodes = new Set<unknown>();
  const collect = (node: unknown, into: Set<unknown>): void => {
    if (node === null || typeof node !== 'object') return;
    into.add(node);
    for (const item of Object.values(node)) collect(item, into);
  };
  collect(live, liveNodes);
  const found = new Set<unknown>();
  collect(value, found);
  for (const node of found) if (liveNodes.has(node)) return true;
  return false;
}
