import { z } from 'zod';
import { describe, expectTypeOf, it } from 'vitest';
import {
  ConfigStore,
  MemoryArtifactStore,
  type Artifact,
  type CandidateSnapshot,
  type DeepReadonly,
  type Participant,
  type Snapshot,
} from '../../src/index.js';

const schema = z.object({
  server: z.object({ port: z.number(), hosts: z.array(z.string()) }),
  routes: z.array(z.object({ path: z.string(), upstreams: z.array(z.object({ url: z.string() })) })),
  labels: z.record(z.string(), z.string()),
});
type Config = z.output<typeof schema>;
const initial: Config = { server: { port: 1, hosts: [] }, routes: [], labels: {} };

describe('snapshots are deeply read-only', () => {
  it('refuses assignment at every depth of the config', async () => {
    const snap = (await ConfigStore.create({ schema, initial })).load();
    // @ts-expect-error the config itself
    snap.config = initial;
    // @ts-expect-error a top-level property
    snap.config.server = { port: 2, hosts: [] };
    // @ts-expect-error a nested property
    snap.config.server.port = 2;
    // @ts-expect-error an array element
    snap.config.server.hosts[0] = 'h';
    // @ts-expect-error a property of an object inside two arrays
    snap.config.routes[0]!.upstreams[0]!.url = 'u';
    // @ts-expect-error a record entry
    snap.config.labels.team = 'x';
    // @ts-expect-error delete is assignment too
    delete snap.config.labels.team;
    expectTypeOf(snap.config.routes).toEqualTypeOf<readonly { readonly path: string; readonly upstreams: readonly { readonly url: string }[] }[]>();
  });

  it('leaves arrays without mutating methods', async () => {
    const snap = (await ConfigStore.create({ schema, initial })).load();
    expectTypeOf(snap.config.server.hosts).toEqualTypeOf<readonly string[]>();
    expectTypeOf(snap.config.server.hosts).not.toHaveProperty('push');
    expectTypeOf(snap.config.server.hosts).not.toHaveProperty('sort');
    expectTypeOf(snap.config.server.hosts).toHaveProperty('map');
  });

  it('refuses assignment to the snapshot fields and its artifacts', async () => {
    const snap = (await ConfigStore.create({ schema, initial })).load();
    // @ts-expect-error generation is read-only
    snap.generation = 2;
    // @ts-expect-error digest is read-only
    snap.digest = '';
    const first = snap.artifacts[0];
    // @ts-expect-error artifacts is a read-only list
    snap.artifacts[0] = first;
    expectTypeOf(snap.artifacts).toEqualTypeOf<readonly Artifact[]>();
    expectTypeOf(snap.artifacts[0]!).toHaveProperty('digest').toEqualTypeOf<string>();
  });

  it('is what every other view of a snapshot gives: pins, events, results, prepare', async () => {
    const store = await ConfigStore.create({ schema, initial });
    type Live = ReturnType<typeof store.load>;
    expectTypeOf<Live>().toExtend<Snapshot<Config>>();
    expectTypeOf<Live['config']>().toEqualTypeOf<DeepReadonly<Config>>();
    using pin = store.pin();
    expectTypeOf(pin.snapshot).toEqualTypeOf<Live>();
    store.subscribe((event) => {
      expectTypeOf(event.snapshot).toEqualTypeOf<Live>();
      expectTypeOf(event.previous).toEqualTypeOf<Live | null>();
    });
    const result = await store.reload((draft) => {
      // Drafts are the one mutable view, for the recipe's duration.
      draft.server.hosts.push('h');
      draft.labels.team = 'x';
    });
    // @ts-expect-error results hold read-only snapshots
    result.snapshot.config.server.port = 3;
    const txn = await store.begin();
    txn.set(initial);
    const prepared = await txn.prepare();
    expectTypeOf(prepared.snapshot).toEqualTypeOf<CandidateSnapshot<Config, Live['derived']>>();
    expectTypeOf(prepared.snapshot).not.toHaveProperty('committedAt');
    // @ts-expect-error a candidate is read-only too
    prepared.snapshot.config.server.port = 3;
    await prepared.rollback();
  });

  it('hands participants a read-only candidate', () => {
    const p: Participant<Config, 'p', number> = {
      name: 'p',
      prepare(ctx) {
        expectTypeOf(ctx.config).toEqualTypeOf<DeepReadonly<Config>>();
        // @ts-expect-error a participant cannot change the candidate
        ctx.config.server.port = 1;
        return { derived: ctx.config.server.port };
      },
    };
    expectTypeOf(p.name).toEqualTypeOf<'p'>();
  });
});

describe('DeepReadonly', () => {
  it('reaches through objects, arrays, nested arrays and tuples, and leaves functions and primitives', () => {
    expectTypeOf<DeepReadonly<{ a: { b: number[][] } }>>().toEqualTypeOf<{ readonly a: { readonly b: readonly (readonly number[])[] } }>();
    expectTypeOf<DeepReadonly<string>>().toEqualTypeOf<string>();
    expectTypeOf<DeepReadonly<() => void>>().toEqualTypeOf<() => void>();
    expectTypeOf<DeepReadonly<{ f: (x: number) => string }>>().toEqualTypeOf<{ readonly f: (x: number) => string }>();
    expectTypeOf<DeepReadonly<{ a?: { b: string } | null }>>().toEqualTypeOf<{ readonly a?: { readonly b: string } | null }>();
  });

  it('is assignable from the mutable type, never the other way round', () => {
    expectTypeOf<Config>().toExtend<DeepReadonly<Config>>();
    expectTypeOf<DeepReadonly<Config>>().not.toExtend<Config>();
  });

  it('keeps artifacts of a MemoryArtifactStore read-only records', async () => {
    const artifact = await new MemoryArtifactStore().put('a', 'x');
    // @ts-expect-error artifacts are read-only records
    artifact.path = '/elsewhere';
    expectTypeOf(artifact).toEqualTypeOf<Artifact>();
  });
});
