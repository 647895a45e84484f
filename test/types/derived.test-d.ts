import { describe, expectTypeOf, it } from 'vitest';
import {
  ConfigStore,
  type ReloadCommitted,
  type DerivedOf,
  type Participant,
  type ReloadError,
  type ReloadResult,
} from '../../src/index.js';

const schema = {
  type: 'object',
  properties: {
    port: { type: 'integer', default: 8080 },
    runtimes: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
  },
  additionalProperties: false,
} as const;
interface Config {
  port: number;
  runtimes: { [name: string]: string };
}

const listen: Participant<Config, 'listen', { address: string; backlog: number }> = {
  name: 'listen',
  prepare: ({ config }) => ({ derived: { address: `:${config.port}`, backlog: 511 } }),
};
const runtimes: Participant<Config, 'runtimes', { [name: string]: { path: string } }> = {
  name: 'runtimes',
  prepare: ({ config }) => ({ derived: Object.fromEntries(Object.entries(config.runtimes).map(([name, path]) => [name, { path }])) }),
};
const sideEffectOnly: Participant<Config, 'audit'> = { name: 'audit', prepare: () => ({}) };

describe('derived state is typed per participant', () => {
  it('keys derived state by participant name, with each participant its own type', () => {
    type Derived = DerivedOf<[typeof listen, typeof runtimes, typeof sideEffectOnly]>;
    expectTypeOf<Derived>().toEqualTypeOf<{
      listen: { address: string; backlog: number };
      runtimes: { [name: string]: { path: string } };
      audit: unknown;
    }>();
    expectTypeOf(sideEffectOnly.name).toEqualTypeOf<'audit'>();
  });

  it('carries it through the store: load, subscribe, pin, results and transactions', async () => {
    const store = await ConfigStore.create({ schema, initial: {}, participants: [listen, runtimes] });
    const { derived } = store.load();
    expectTypeOf(derived.listen).toEqualTypeOf<{ readonly address: string; readonly backlog: number }>();
    expectTypeOf(derived.runtimes.runc).toEqualTypeOf<{ readonly path: string } | undefined>();
    expectTypeOf(derived).not.toHaveProperty('audit');
    // @ts-expect-error derived state is read-only
    derived.listen.backlog = 1;

    store.subscribe(({ snapshot }) => {
      expectTypeOf(snapshot.derived.listen.address).toEqualTypeOf<string>();
    });
    using pin = store.pin();
    expectTypeOf(pin.snapshot.derived.listen.backlog).toEqualTypeOf<number>();

    const result = await store.reload((draft) => {
      draft.port = 9090;
    });
    expectTypeOf(result.snapshot.derived.listen.address).toEqualTypeOf<string>();

    const txn = await store.begin();
    txn.update((draft) => {
      draft.runtimes.crun = '/usr/bin/crun';
    });
    const prepared = await txn.prepare();
    expectTypeOf(prepared.snapshot.derived.runtimes).toEqualTypeOf<{ readonly [name: string]: { readonly path: string } }>();
    prepared.commit();
  });

  it('refuses a participant written for another config', async () => {
    const wrong: Participant<{ name: string }, 'wrong', number> = { name: 'wrong', prepare: ({ config }) => ({ derived: config.name.length }) };
    // @ts-expect-error `wrong` reads `name`, which this schema does not have
    await ConfigStore.create({ schema, initial: {}, participants: [wrong] }).catch(() => undefined);
  });

  it('types prepare: derived must match the declared type', () => {
    const bad: Participant<Config, 'bad', string> = {
      name: 'bad',
      // @ts-expect-error derived is declared a string
      prepare: () => ({ derived: 1 }),
    };
    expectTypeOf(bad.name).toEqualTypeOf<'bad'>();
  });
});

describe('results are unions keyed on status', () => {
  it('narrows what reload() resolves to', () => {
    type R = ReloadCommitted<Config, DerivedOf<[typeof listen]>>;
    const check = (result: R): void => {
      if (result.status === 'applied') expectTypeOf(result.previous?.derived.listen.address).toEqualTypeOf<string | undefined>();
      else expectTypeOf(result.patches).toEqualTypeOf<readonly []>();
    };
    expectTypeOf(check).toBeFunction();
  });

  it('narrows a requestReload result: every member has the live snapshot, a failure has an error', () => {
    const check = (result: ReloadResult<Config, DerivedOf<[typeof listen]>>): void => {
      expectTypeOf(result.snapshot.derived.listen.backlog).toEqualTypeOf<number>();
      if (result.status === 'rejected' || result.status === 'aborted') {
        expectTypeOf(result.error).toEqualTypeOf<ReloadError>();
      } else if (result.status === 'applied') {
        expectTypeOf(result.error).toEqualTypeOf<ReloadError | undefined>();
      } else {
        expectTypeOf(result.error).toEqualTypeOf<undefined>();
      }
    };
    expectTypeOf(check).toBeFunction();
  });
});

describe('derived state holding a Map or a Set', () => {
  const indexed: Participant<Config, 'indexed', { byName: Map<string, { path: string }>; names: Set<string> }> = {
    name: 'indexed',
    prepare: ({ config }) => ({
      derived: { byName: new Map(Object.entries(config.runtimes).map(([name, path]) => [name, { path }])), names: new Set(Object.keys(config.runtimes)) },
    }),
  };

  it('is read back as ReadonlyMap and ReadonlySet, with read-only values', async () => {
    const store = await ConfigStore.create({ schema, initial: {}, participants: [indexed] });
    const { byName, names } = store.load().derived.indexed;
    expectTypeOf(byName).toEqualTypeOf<ReadonlyMap<string, { readonly path: string }>>();
    expectTypeOf(names).toEqualTypeOf<ReadonlySet<string>>();
    expectTypeOf(byName).not.toHaveProperty('set');
    expectTypeOf(names).not.toHaveProperty('add');
  });
});
