// Keys that can pollute prototypes (`__proto__`, `constructor`, `prototype`) given to the
// store in memory: a value to reload() or set(), the initial config, what a recipe writes
// or returns. Each is refused with ERR_UNSAFE_KEY before anything is validated, frozen or
// shared; the live snapshot stays the very same object; Object.prototype is never touched.
// (This used to keep such a key as plain data: the decision changed with issue 14.)
import { Ajv } from 'ajv';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigStore, ReloadError, UnsafeKeyError, type Participant, type ReloadResult } from '../../src/index.js';
import { UNSAFE, unsafeCandidates } from '../helpers/json-edits.js';
import { rejection } from '../helpers/rejection.js';

type AnyStore = ConfigStore<unknown, Record<string, unknown>, unknown>;
type Draft = Record<string, unknown>;

const LIVE = { a: { b: { c: 1 } }, list: [1, [{ x: 1 }]], n: 1 };
// Permissive: no schema keyword could refuse these members, so the key check alone does.
const schema = { type: 'object' } as const;

const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();
afterEach(() => {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);
});

/** A participant that records every prepare: none may run for a refused candidate. */
function watcher(): Participant<unknown> & { readonly prepared: unknown[] } {
  const prepared: unknown[] = [];
  return {
    name: 'watcher',
    prepared,
    prepare: (ctx) => {
      prepared.push(ctx.config);
      return {};
    },
  };
}

/** The two stores a candidate is tried on: the change path (our ajv) and the whole path only (a caller's ajv). */
async function stores(participants: Participant<unknown>[] = []): Promise<AnyStore[]> {
  return [
    (await ConfigStore.create({ schema, initial: LIVE, participants })) as unknown as AnyStore,
    (await ConfigStore.create({ schema, initial: LIVE, participants, ajv: new Ajv({ allErrors: true }) })) as unknown as AnyStore,
  ];
}

/** `target[key] = value`, as a recipe writes it (a plain assignment, through immer's proxy), for any key. */
function assign(target: Draft, key: string, value: unknown): void {
  target[key] = value;
}

/** Checks a refusal: ERR_UNSAFE_KEY from the validate stage, naming the key, the object holding it and the input. */
function expectUnsafe(error: unknown, key: string, pointer: string, input: string): void {
  expect(error).toBeInstanceOf(ReloadError);
  const { code, failures } = error as ReloadError;
  expect(code).toBe('ERR_UNSAFE_KEY');
  expect(failures).toHaveLength(1);
  expect(failures[0]).toMatchObject({ participant: null, phase: 'validate' });
  expect(failures[0]?.error).toBeInstanceOf(UnsafeKeyError);
  expect(failures[0]?.error).toMatchObject({ code: 'ERR_UNSAFE_KEY', key, pointer, path: input, line: undefined, column: undefined });
}

/** Runs `reload` on both stores and checks each refuses it, its live snapshot and status as they must be. */
async function expectRefused(reload: (store: AnyStore) => Promise<unknown>, key: string, pointer: string, input: string): Promise<void> {
  const participant = watcher();
  for (const store of await stores([participant])) {
    const before = store.load();
    const heard: unknown[] = [];
    store.subscribe((event) => void heard.push(event));
    expectUnsafe(await rejection(reload(store)), key, pointer, input);
    expect(store.load()).toBe(before);
    expect(store.status().lastError).toMatchObject({ code: 'ERR_UNSAFE_KEY', causeCode: 'ERR_UNSAFE_KEY' });
    expect(store.status().counters.rejected).toBe(1);
    expect(heard).toEqual([]);
  }
  // Prepared twice at cold start (two stores), never for the refused candidate.
  expect(participant.prepared).toHaveLength(2);
}

describe('a whole value with a key that can pollute prototypes', () => {
  for (const key of UNSAFE) {
    for (const { where, value, pointer } of unsafeCandidates(key)) {
      it(`refuses ${key} ${where} given to reload(), set() and requestReload(), keeping the very same live snapshot`, async () => {
        await expectRefused((store) => store.reload(value()), key, pointer, 'reload()');
        await expectRefused(async (store) => {
          const txn = await store.begin();
          txn.set(value());
          return txn.prepare();
        }, key, pointer, 'reload()');
        await expectRefused(async (store) => {
          const outcome: ReloadResult = await store.requestReload(value);
          if (outcome.status === 'rejected') throw outcome.error;
          return outcome;
        }, key, pointer, 'reload()');
      });

      it(`refuses ${key} ${where} as the initial config, with the error a reload gives`, async () => {
        for (const ajv of [undefined, new Ajv({ allErrors: true })]) {
          const error = await rejection(ConfigStore.create({ schema, initial: value(), ...(ajv === undefined ? {} : { ajv }) }));
          expectUnsafe(error, key, pointer, 'reload()');
        }
      });
    }
  }

  it('refuses the key whatever its value, and takes keys that are only inherited or not enumerable as not data', async () => {
    await expectRefused((store) => store.reload({ n: 2, constructor: undefined }), 'constructor', '', 'reload()');
    for (const store of await stores()) {
      const hidden = Object.defineProperty({ n: 2 }, 'prototype', { value: { polluted: true }, enumerable: false });
      const result = await store.reload(hidden);
      expect(result.status).toBe('applied');
      expect(Object.getOwnPropertyNames(store.load().config)).toEqual(['n']);
    }
  });
});

describe('a recipe that brings in a key that can pollute prototypes', () => {
  const recipes: readonly (readonly [string, (draft: Draft) => unknown, string, string])[] = [
    ['assigns constructor on the draft', (draft) => { assign(draft, 'constructor', 1); }, 'constructor', ''],
    ['assigns prototype deep in the draft', (draft) => void (((draft.a as Draft).b as Draft).prototype = { polluted: true }), 'prototype', '/a/b'],
    ['puts a parsed value with __proto__', (draft) => void (draft.x = JSON.parse('{"y": {"__proto__": {"polluted": true}}}')), '__proto__', '/x/y'],
    ['puts one into an array', (draft) => void (draft.list as unknown[]).push(JSON.parse('{"constructor": {"prototype": 1}}')), 'constructor', '/list/2'],
    [
      'defines one on an object of its own',
      (draft) => void (draft.m = Object.defineProperty({}, 'constructor', { value: 1, enumerable: true })),
      'constructor',
      '/m',
    ],
    ['returns a parsed value with __proto__', () => JSON.parse('{"n": 1, "__proto__": {"polluted": true}}') as unknown, '__proto__', ''],
    ['returns a spread of the draft with prototype', (draft) => ({ ...draft, prototype: 1 }), 'prototype', ''],
  ];

  for (const [what, recipe, key, pointer] of recipes) {
    it(`refuses a recipe that ${what}, on the change path and the whole path alike`, async () => {
      await expectRefused((store) => store.reload(recipe), key, pointer, 'recipe');
    });
  }

  it('names the recipe when one ran after a whole value, and the whole value when it came last', async () => {
    for (const store of await stores()) {
      const txn = await store.begin();
      txn.set({ n: 2 }).update((draft) => { assign(draft as Draft, 'constructor', 1); });
      expectUnsafe(await rejection(txn.prepare()), 'constructor', '', 'recipe');
      const again = await store.begin();
      again.update((draft) => void ((draft as Draft).n = 3)).set(JSON.parse('{"prototype": 1}'));
      expectUnsafe(await rejection(again.prepare()), 'prototype', '', 'reload()');
    }
  });

  it('keeps immer\'s own refusals (setting the draft\'s prototype, defining a property on it) as a failed recipe', async () => {
    for (const store of await stores()) {
      const before = store.load();
      for (const recipe of [
        (draft: Draft) => void ((draft as { __proto__: unknown }).__proto__ = { polluted: true }),
        (draft: Draft) => void Object.defineProperty(draft, 'constructor', { value: 1, enumerable: true }),
      ]) {
        const error = await rejection(store.reload(recipe));
        expect(error).toMatchObject({ code: 'ERR_PREPARE', failures: [{ participant: null, phase: 'update' }] });
        expect(store.load()).toBe(before);
      }
    }
  });

  it('changes nothing when it deletes a key the live config only inherits', async () => {
    for (const store of await stores()) {
      const before = store.load();
      const result = await store.reload((draft: Draft) => void Reflect.deleteProperty(draft, 'constructor'));
      expect(result.status).toBe('unchanged');
      expect(store.load()).toBe(before);
    }
  });
});

describe('what a schema makes of the candidate cannot let a key in, or hide one', () => {
  it('refuses the key although a Standard Schema would strip it', async () => {
    const store = await ConfigStore.create({ schema: z.object({ n: z.number() }), initial: { n: 1 } });
    const before = store.load();
    expectUnsafe(await rejection(store.reload(JSON.parse('{"n": 2, "__proto__": {"polluted": true}}') as never)), '__proto__', '', 'reload()');
    expect(store.load()).toBe(before);
  });

  it('refuses one the validated value holds: a Standard Schema\'s output, a JSON Schema default', async () => {
    const adds = z.object({ n: z.number() }).transform((value) => ({ ...value, constructor: { polluted: true } }));
    expectUnsafe(await rejection(ConfigStore.create({ schema: adds, initial: { n: 1 } })), 'constructor', '', 'reload()');
    const defaulted = { type: 'object', properties: { m: { type: 'object', properties: { prototype: { type: 'integer', default: 1 } } } } } as const;
    const store = await ConfigStore.create({ schema: defaulted, initial: {} });
    expectUnsafe(await rejection(store.reload((draft) => void ((draft as Draft).m = {}))), 'prototype', '/m', 'recipe');
    expectUnsafe(await rejection(store.reload({ m: {} })), 'prototype', '/m', 'reload()');
  });
});
