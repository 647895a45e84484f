import { z } from 'zod';
import { describe, expectTypeOf, it } from 'vitest';
import {
  ConfigStore,
  type ConfigInputOf,
  type ConfigOf,
  type DeepReadonly,
  type FromSchema,
  type FromSchemaInput,
  type StandardSchemaV1,
} from '../../src/index.js';

describe('config types inferred from a JSON Schema declared as const', () => {
  const schema = {
    type: 'object',
    properties: {
      port: { type: 'integer', minimum: 1, default: 8080 },
      host: { type: 'string' },
      debug: { type: 'boolean', default: false },
      level: { enum: ['info', 'debug'], default: 'info' },
      version: { const: 2 },
      proxy: { type: ['string', 'null'] },
      limits: {
        type: 'object',
        properties: { rps: { type: 'number' }, burst: { type: 'integer', default: 10 } },
        required: ['rps'],
        additionalProperties: false,
      },
      upstreams: {
        type: 'object',
        additionalProperties: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'], additionalProperties: false },
      },
      tags: { type: 'array', items: { type: 'string' } },
      target: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
      mode: { oneOf: [{ const: 'a' }, { const: 'b' }] },
    },
    required: ['host', 'limits'],
    additionalProperties: false,
  } as const;

  it('makes required properties and properties with a default present in the output', () => {
    expectTypeOf<FromSchema<typeof schema>>().toEqualTypeOf<{
      port: number;
      host: string;
      debug: boolean;
      level: 'info' | 'debug';
      limits: { rps: number; burst: number };
      version?: 2;
      proxy?: string | null;
      upstreams?: { [key: string]: { url: string } };
      tags?: string[];
      target?: string | number;
      mode?: 'a' | 'b';
    }>();
  });

  it('leaves properties with a default optional in the input', () => {
    type Input = FromSchemaInput<typeof schema>;
    expectTypeOf<Input['port']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Input['limits']>().toEqualTypeOf<{ rps: number; burst?: number }>();
    expectTypeOf<{ host: string; limits: { rps: number } }>().toExtend<Input>();
    expectTypeOf<{ host: string }>().not.toExtend<Input>();
  });

  it('agrees with ConfigOf and ConfigInputOf, which the store uses', () => {
    expectTypeOf<ConfigOf<typeof schema>>().toEqualTypeOf<FromSchema<typeof schema>>();
    expectTypeOf<ConfigInputOf<typeof schema>>().toEqualTypeOf<FromSchemaInput<typeof schema>>();
  });

  it('allows any extra property unless additionalProperties is false', () => {
    type Open = { readonly type: 'object'; readonly properties: { readonly a: { readonly type: 'string' } } };
    expectTypeOf<FromSchema<Open>>().toEqualTypeOf<{ a?: string; [key: string]: unknown }>();
    type Typed = { readonly type: 'object'; readonly additionalProperties: { readonly type: 'integer' } };
    expectTypeOf<FromSchema<Typed>>().toEqualTypeOf<{ [key: string]: number }>();
  });

  it('falls back to unknown for what it does not understand', () => {
    expectTypeOf<FromSchema<true>>().toBeUnknown();
    expectTypeOf<FromSchema<{ readonly not: { readonly type: 'string' } }>>().toBeUnknown();
    expectTypeOf<FromSchema<{ readonly type: 'array'; readonly items: readonly [{ readonly type: 'string' }] }>>().toEqualTypeOf<unknown[]>();
  });

  it('types the store: load() gives the output, reload() takes the input', async () => {
    const store = await ConfigStore.create({ schema, initial: { host: 'h', limits: { rps: 1 } } });
    expectTypeOf(store.load().config).toEqualTypeOf<DeepReadonly<FromSchema<typeof schema>>>();
    expectTypeOf(store.load().config.limits.burst).toEqualTypeOf<number>();
    await store.reload({ host: 'h', limits: { rps: 2 } });
    // @ts-expect-error host is required in the input too
    await store.reload({ limits: { rps: 2 } }).catch(() => undefined);
    // @ts-expect-error additionalProperties: false forbids unknown keys
    await store.reload({ host: 'h', limits: { rps: 2 }, extra: 1 }).catch(() => undefined);
  });
});

describe('config types inferred from a Standard Schema', () => {
  const schema = z.object({
    port: z.number().int().default(8080),
    name: z.string(),
    started: z.string().transform((text) => new Date(text)),
    nested: z.object({ list: z.array(z.string()) }).optional(),
  });

  it('takes the output type for the config and the input type for reloads', () => {
    expectTypeOf<ConfigOf<typeof schema>>().toEqualTypeOf<z.output<typeof schema>>();
    expectTypeOf<ConfigInputOf<typeof schema>>().toEqualTypeOf<z.input<typeof schema>>();
    expectTypeOf<ConfigOf<typeof schema>['started']>().toEqualTypeOf<Date>();
    expectTypeOf<ConfigInputOf<typeof schema>['started']>().toEqualTypeOf<string>();
  });

  it('types the store from the schema', async () => {
    const store = await ConfigStore.create({ schema, initial: { name: 'n', started: '2026-01-01' } });
    const { config } = store.load();
    expectTypeOf(config.port).toEqualTypeOf<number>();
    expectTypeOf(config.started).toEqualTypeOf<DeepReadonly<Date>>();
    expectTypeOf(config.nested).toEqualTypeOf<{ readonly list: readonly string[] } | undefined>();
    await store.reload({ name: 'm', started: '2026-01-02' });
    // @ts-expect-error the input of `started` is a string, not the Date it becomes
    await store.reload({ name: 'm', started: new Date() }).catch(() => undefined);
  });

  it('accepts any Standard Schema v1 validator, not only zod', async () => {
    const handWritten: StandardSchemaV1<{ n: string }, { n: number }> = {
      '~standard': { version: 1, vendor: 'test', validate: (value) => ({ value: { n: Number((value as { n: string }).n) } }) },
    };
    const store = await ConfigStore.create({ schema: handWritten, initial: { n: '1' } });
    expectTypeOf(store.load().config).toEqualTypeOf<{ readonly n: number }>();
    expectTypeOf<Parameters<typeof store.reload>[0]>().toExtend<{ n: string } | ((draft: { n: number }) => unknown)>();
  });
});
