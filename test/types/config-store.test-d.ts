import { z } from 'zod';
import { describe, expectTypeOf, it } from 'vitest';
import { ConfigStore, type FromSchema, type Participant, type Snapshot, type StoreConfig, type StoreDerived } from '../../src/index.js';

describe('type inference', () => {
  it('infers the config type from a JSON Schema declared as const', async () => {
    const schema = {
      type: 'object',
      properties: {
        port: { type: 'integer', default: 8080 },
        host: { type: 'string' },
        mode: { enum: ['a', 'b'] },
        tags: { type: 'array', items: { type: 'string' } },
      },
      required: ['host'],
      additionalProperties: false,
    } as const;
    expectTypeOf<FromSchema<typeof schema>>().toEqualTypeOf<{ port: number; host: string; mode?: 'a' | 'b'; tags?: string[] }>();
    const store = await ConfigStore.create({ schema, initial: { host: 'x' } });
    expectTypeOf(store.load().config.port).toEqualTypeOf<number>();
    expectTypeOf(store.load().config.tags).toEqualTypeOf<readonly string[] | undefined>();
  });

  it('infers the config type from a Standard Schema output', async () => {
    const schema = z.object({ port: z.number().default(80), name: z.string() });
    const store = await ConfigStore.create({ schema, initial: { name: 'n' } });
    expectTypeOf(store.load().config).toEqualTypeOf<{ readonly port: number; readonly name: string }>();
  });

  it('makes snapshots deeply read-only', async () => {
    const store = await ConfigStore.create({ schema: z.object({ list: z.array(z.object({ a: z.number() })) }), initial: { list: [] } });
    const snap = store.load();
    // @ts-expect-error a snapshot's config cannot be assigned
    snap.config.list = [];
    // @ts-expect-error nested objects are read-only too
    snap.config.list[0]!.a = 1;
    // @ts-expect-error arrays have no mutating methods
    // eslint-disable-next-line @typescript-eslint/no-unsafe-call -- the call is the type error under test
    snap.config.list.push({ a: 1 });
    expectTypeOf(snap).toExtend<Snapshot>();
  });

  it('types derived state per participant', async () => {
    const schema = z.object({ port: z.number() });
    const listen: Participant<{ port: number }, 'listen', { address: string }> = {
      name: 'listen',
      prepare: (ctx) => ({ derived: { address: `:${ctx.config.port}` } }),
    };
    const count: Participant<{ port: number }, 'count', number> = { name: 'count', prepare: () => ({ derived: 1 }) };
    const store = await ConfigStore.create({ schema, initial: { port: 1 }, participants: [listen, count] });
    expectTypeOf(store.load().derived.listen.address).toEqualTypeOf<string>();
    expectTypeOf(store.load().derived.count).toEqualTypeOf<number>();
  });

  it('types reload recipes against the config', async () => {
    const store = await ConfigStore.create({ schema: z.object({ port: z.number() }), initial: { port: 1 } });
    await store.reload((draft) => {
      expectTypeOf(draft.port).toEqualTypeOf<number>();
      draft.port = 2;
    });
    // @ts-expect-error a wrong shape is a type error
    await store.reload({ port: 'x' }).catch(() => undefined);
  });
});

describe('the types of a store, named', () => {
  it('StoreConfig and StoreDerived give the config and derived types of a store', async () => {
    const counter: Participant<{ port: number }, 'counter', { reloads: number }> = {
      name: 'counter',
      prepare: ({ previousDerived }) => {
        expectTypeOf(previousDerived).toEqualTypeOf<{ readonly reloads: number } | undefined>();
        return { derived: { reloads: (previousDerived?.reloads ?? 0) + 1 } };
      },
    };
    const store = await ConfigStore.create({
      schema: { type: 'object', properties: { port: { type: 'integer', default: 1 } }, required: [], additionalProperties: false } as const,
      initial: {},
      participants: [counter],
    });
    expectTypeOf(store.load().derived.counter.reloads).toEqualTypeOf<number>();
    expectTypeOf<StoreConfig<typeof store>>().toEqualTypeOf<{ port: number }>();
    expectTypeOf<StoreDerived<typeof store>>().toEqualTypeOf<{ counter: { reloads: number } }>();
  });
});
