// The reload path that costs what changed (validate and reconcile only the changed
// subtrees) against the whole path, on generated schemas, configs and edits: the same
// outcome, config (same key order), digest, patches and issues, reload after reload.
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { current, Immer } from 'immer';
import { describe, expect, it } from 'vitest';
import { ConfigStore, ReloadError, UnsafeKeyError, type ReloadResult } from '../../src/index.js';
import { copyJson } from '../../src/json/checked-json.js';
import { setMember } from '../../src/json/plain-object.js';
import { reconcileChanges } from '../../src/pipeline/reconcile-changes.js';
import { stageInput } from '../../src/pipeline/stage-input.js';
import { compileValidator, type Validate } from '../../src/schema/validator.js';
import { thrownBy } from '../helpers/rejection.js';
import { KEYS, applyEdits, edits, holdsUnsafeKey, hostileTree, keyOf, pick, type Edit, type Style } from '../helpers/json-edits.js';
import { rootSchema, subschemasOf, valueFor, type Schema } from '../helpers/schema-arbitraries.js';

type Store = ConfigStore<unknown, Record<string, unknown>, unknown>;

describe('reloads validated at the cost of what changed, against the whole validation', () => {
  const cases = rootSchema.chain((schema) => {
    const payload = fc.constantFrom(...subschemasOf(schema)).chain((part) => valueFor(part));
    const trial = fc.record({ edits: edits(payload), style: fc.constantFrom<Style>('file', 'recipe') });
    return fc.record({ schema: fc.constant(schema), initial: valueFor(schema), trials: fc.array(trial, { minLength: 6, maxLength: 12 }) });
  });

  it('gives the whole path\'s result on every reload: status, config, digest, patches, issues', async () => {
    const seen = { stores: 0, changeChecked: 0, applied: 0, rejected: 0, notIdempotent: 0 };
    await fc.assert(
      fc.asyncProperty(cases, async ({ schema, initial, trials }) => {
        const stores = await createBoth(schema, initial);
        if (stores === undefined) return;
        seen.stores++;
        if ('changes' in compileValidator(schema)) seen.changeChecked++;
        const [fast, whole] = stores;
        const revalidate = compileValidator(schema, { ajv: new Ajv({ allErrors: true, useDefaults: true, strict: true }) });
        for (const { edits: list, style } of trials) {
          const live = fast.load().config;
          // The change path assumes the live config is valid as it stands (docs/decisions.md).
          // A schema whose defaults make a value invalid (a default that then satisfies an
          // `if` whose `then` refuses it) breaks that: the whole path would refuse the very
          // config it committed. Such a case stops here.
          if (!isValid(() => revalidate(live))) {
            seen.notIdempotent++;
            break;
          }
          // Each store gets its own copy of the edits: a recipe may change the objects it puts in.
          const results = await Promise.all([fast, whole].map((store) => outcome(store, structuredClone(list), style)));
          const [mine, theirs] = results as [Outcome, Outcome];
          expect(mine.status).toBe(theirs.status);
          expect(mine.held || theirs.held).toBe(false);
          if (mine.status === 'rejected' && theirs.status === 'rejected') {
            seen.rejected++;
            expect(mine.error.code).toBe(theirs.error.code);
            expect(issuesOf(mine.error)).toEqual(issuesOf(theirs.error));
            expect(fast.load().config).toBe(live);
            continue;
          }
          if (mine.status !== 'applied' || theirs.status !== 'applied') continue;
          seen.applied++;
          expect(JSON.stringify(mine.snapshot.config)).toBe(JSON.stringify(theirs.snapshot.config));
          expect(mine.snapshot.digest).toBe(theirs.snapshot.digest);
          expect(sortedPatches(mine.patches)).toEqual(sortedPatches(theirs.patches));
          expectDeeplyFrozen(mine.snapshot.config);
        }
      }),
      { numRuns: 200 },
    );
    expect(seen.stores).toBeGreaterThan(80);
    expect(seen.changeChecked).toBeGreaterThan(50);
    expect(seen.applied).toBeGreaterThan(100);
    expect(seen.rejected).toBeGreaterThan(150);
  });
});

describe('a wide map changed by recipes', () => {
  it('gives the whole path\'s digest, config and patches for members set, added and removed, nested ones included', async () => {
    const schema = { type: 'object', properties: { routes: { type: 'object', additionalProperties: { type: 'object', properties: { to: { type: 'string' }, weight: { type: 'integer' } }, required: ['to'] } } }, required: ['routes'] };
    const routes: Record<string, { to: string; weight?: number }> = {};
    for (let index = 0; index < 300; index++) routes[`/r${index}`] = { to: `u${index}`, weight: index };
    const stores = await createBoth(schema, { routes });
    const [fast, whole] = stores!;
    const recipes: ((draft: { routes: Record<string, { to: string; weight?: number }> }) => void)[] = [
      (draft) => {
        draft.routes['/r7']!.to = 'changed';
      },
      (draft) => {
        draft.routes['/new'] = { to: 'added' };
      },
      (draft) => {
        delete draft.routes['/r8'];
      },
      (draft) => {
        draft.routes['/r9'] = { to: 'replaced', weight: 1 };
        delete draft.routes['/r10']!.weight;
        draft.routes['/a-first'] = { to: 'sorted first' };
      },
      (draft) => {
        draft.routes['/r11']!.to = 'u11';
      },
    ];
    for (const recipe of recipes) {
      const [mine, theirs] = await Promise.all([fast.reload(recipe as never), whole.reload(recipe as never)]);
      expect(mine.status).toBe(theirs.status);
      expect(mine.snapshot.digest).toBe(theirs.snapshot.digest);
      expect(JSON.stringify(mine.snapshot.config)).toBe(JSON.stringify(theirs.snapshot.config));
      expect(sortedPatches(mine.status === 'applied' ? mine.patches : [])).toEqual(sortedPatches(theirs.status === 'applied' ? theirs.patches : []));
    }
    expect(fast.load().generation).toBe(5);
  });
});

/** How a reload ended; `held`: the candidate held a key that can pollute prototypes. */
describe('keys that can pollute prototypes, on the change path and the whole path', () => {
  const cases = rootSchema.chain((schema) => {
    const valid = fc.constantFrom(...subschemasOf(schema)).chain((part) => valueFor(part));
    const trial = fc.record({ edits: edits(fc.oneof(valid, hostileTree), { unsafe: true }), style: fc.constantFrom<Style>('file', 'recipe') });
    return fc.record({ schema: fc.constant(schema), initial: valueFor(schema), trials: fc.array(trial, { minLength: 4, maxLength: 8 }) });
  });

  it('refuses a generated edit that brings one in on both paths, with the same UnsafeKeyError, the live snapshot kept', async () => {
    const seen = { refused: 0, changeChecked: 0, applied: 0 };
    const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();
    await fc.assert(
      fc.asyncProperty(cases, async ({ schema, initial, trials }) => {
        const stores = await createBoth(schema, initial);
        if (stores === undefined) return;
        if ('changes' in compileValidator(schema)) seen.changeChecked++;
        const [fast, whole] = stores;
        const revalidate = compileValidator(schema, { ajv: new Ajv({ allErrors: true, useDefaults: true, strict: true }) });
        for (const { edits: list, style } of trials) {
          // As above: a schema whose defaults make the live config invalid stops here.
          if (!isValid(() => revalidate(fast.load().config))) break;
          const before = [fast.load(), whole.load()];
          const [mine, theirs] = (await Promise.all([fast, whole].map((store) => outcome(store, structuredClone(list), style)))) as [Outcome, Outcome];
          expect(mine.held).toBe(theirs.held);
          expect(mine.status).toBe(theirs.status);
          if (mine.held) {
            seen.refused++;
            for (const result of [mine, theirs]) {
              expect(result.status).toBe('rejected');
              const { error } = result as { error: ReloadError };
              expect(error.code).toBe('ERR_UNSAFE_KEY');
              expect(error.failures[0]).toMatchObject({ participant: null, phase: 'validate' });
              expect(error.failures[0]?.error).toBeInstanceOf(UnsafeKeyError);
              expect((error.failures[0]?.error as UnsafeKeyError).path).toBe(style === 'file' ? 'reload()' : 'recipe');
            }
            expect(issuesOf((mine as { error: ReloadError }).error)).toEqual(issuesOf((theirs as { error: ReloadError }).error));
            expect(fast.load()).toBe(before[0]);
            expect(whole.load()).toBe(before[1]);
            continue;
          }
          if (mine.status === 'rejected') expect(mine.error.code).not.toBe('ERR_UNSAFE_KEY');
          if (mine.status === 'applied' && theirs.status === 'applied') {
            seen.applied++;
            expect(JSON.stringify(mine.snapshot.config)).toBe(JSON.stringify(theirs.snapshot.config));
            expect(mine.snapshot.digest).toBe(theirs.snapshot.digest);
          }
        }
        expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);
      }),
      { numRuns: 150 },
    );
    expect(seen.refused).toBeGreaterThan(100);
    expect(seen.changeChecked).toBeGreaterThan(40);
    expect(seen.applied).toBeGreaterThan(20);
  });

  // Direct calls: what the stage gives back is the candidate for the whole path, which
  // names the key; immer's copies are as the recipe left them.
  const validate = compileValidator({ type: 'object' }) as Validate;
  const changes = validate.changes!;
  const immer = new Immer({ autoFreeze: false });
  const live = copyJson({ m: { a: 1 }, n: { b: [1, { c: 2 }] } }, { freeze: true }) as Record<string, Record<string, unknown>>;
  const stage = (recipe: (draft: Record<string, Record<string, unknown>>) => unknown) => stageInput(live, [{ kind: 'update', recipe: recipe as never }], immer);

  it('sends a recipe\'s candidate with an unsafe key to the whole path, which refuses it with the same error', async () => {
    const recipes: ((draft: Record<string, Record<string, unknown>>) => unknown)[] = [
      (draft) => { assign(draft.m!, 'constructor', 1); },
      (draft) => { draft.m!.prototype = { x: 1 }; },
      (draft) => { draft.n!.b = [1, JSON.parse('{"__proto__": {"polluted": true}}')]; },
      (draft) => { draft.x = JSON.parse('{"deep": {"__proto__": 1}}') as Record<string, unknown>; },
      (draft) => { const made = { a: 1 }; Object.defineProperty(made, 'constructor', { value: 1, enumerable: true }); draft.m = made; },
    ];
    for (const recipe of recipes) {
      const staged = stage(recipe);
      const text = JSON.stringify(staged.candidate);
      const outcome = await reconcileChanges(live, staged, changes, () => undefined, 'recipe');
      expect(outcome).toEqual({ whole: staged.candidate });
      expect(JSON.stringify(staged.candidate)).toBe(text);
      expect(thrownBy(() => validate(staged.candidate, live, 'recipe'))).toMatchObject({ code: 'ERR_UNSAFE_KEY', path: 'recipe' });
    }
  });

  it('takes no own unsafe member of immer\'s copy for the live node\'s inherited one, even when immer reported no patch for it', async () => {
    const staged = stage((draft) => { draft.m!.a = 2; });
    // The value Object.prototype gives every live node under that name: equal, never the same member.
    Object.defineProperty(staged.candidate, 'constructor', { value: Object, enumerable: true });
    expect(await reconcileChanges(live, staged, changes, () => undefined, 'recipe')).toEqual({ whole: staged.candidate });
  });

  it('deletes what is not there: deleting a key the live config only inherits changes nothing', async () => {
    const staged = stage((draft) => { Reflect.deleteProperty(draft.m!, 'constructor'); });
    expect(await reconcileChanges(live, staged, changes, () => undefined, 'recipe')).toEqual({ reconciled: { value: live, patches: [] } });
  });
});

type Outcome = (
  | { readonly status: 'applied'; readonly snapshot: { readonly config: unknown; readonly digest: string }; readonly patches: readonly unknown[] }
  | { readonly status: 'unchanged' }
  | { readonly status: 'rejected'; readonly error: ReloadError }
) & { readonly held: boolean };

/** The two stores: ours (the change path where the schema allows it) and one that always validates whole (an ajv of the caller's). Undefined when `initial` is refused (by both). */
async function createBoth(schema: Schema, initial: unknown): Promise<[Store, Store] | undefined> {
  const made = await Promise.allSettled([
    ConfigStore.create({ schema, initial }),
    ConfigStore.create({ schema, initial, ajv: new Ajv({ allErrors: true, useDefaults: true, strict: true }) }),
  ]);
  const [mine, theirs] = made;
  expect(mine.status).toBe(theirs.status);
  if (mine.status === 'rejected' || theirs.status === 'rejected') return undefined;
  return [mine.value, theirs.value];
}

async function outcome(store: Store, list: readonly Edit[], style: Style): Promise<Outcome> {
  const live = store.load().config;
  let held = false;
  try {
    let result: ReloadResult;
    if (style === 'file') {
      const candidate = applyEdits(live, list, 'file');
      held = holdsUnsafeKey(candidate);
      result = await store.reload(candidate);
    } else {
      result = await store.reload((draft: unknown) => {
        editInPlace(draft, list, live);
        held = holdsUnsafeKey(draft !== null && typeof draft === 'object' ? current(draft) : draft);
      });
    }
    return result.status === 'applied' ? { status: 'applied', snapshot: result.snapshot, patches: result.patches, held } : { status: 'unchanged', held };
  } catch (error) {
    if (error instanceof ReloadError) return { status: 'rejected', error, held };
    throw error;
  }
}

/**
 * The edits of json-edits.ts made on an immer draft, in place, as a recipe makes them; a
 * moved member is the live node itself. A `__proto__` key cannot be assigned on a draft
 * (immer refuses to set its prototype): the recipe puts it in a new object instead, as a
 * recipe that assigns a parsed value does, under KEYS' pick.
 */
function editInPlace(draft: unknown, list: readonly Edit[], live: unknown): void {
  // Where this recipe put something: an edit that leads into such a place is skipped.
  // Whether writing into a moved live node works depends on its identity (immer drafts it
  // only where it already was), and the two stores share nodes differently (the whole path
  // with an ajv of the caller's copies moved subtrees): their recipes would differ.
  const put: (readonly string[])[] = [];
  const under = (path: readonly string[]): boolean => put.some((place) => place.length <= path.length && place.every((key, index) => path[index] === key));
  for (const edit of list) {
    const payload = edit.op === 'move' ? pick(live, edit.from) : edit.payload;
    let node = draft;
    const path: string[] = [];
    for (const step of edit.at) {
      if (node === null || typeof node !== 'object') break;
      const children = Object.keys(node);
      if (children.length === 0 || step % (children.length + 1) >= children.length) break;
      const child = children[step % (children.length + 1)] as string;
      const value = (node as Record<string, unknown>)[child];
      if (value === null || typeof value !== 'object') break;
      path.push(child);
      node = value;
    }
    if (node === null || typeof node !== 'object' || under(path)) continue;
    if (Array.isArray(node)) {
      const index = edit.key % (node.length + 1);
      // The whole array: a splice moves what was put to other indexes.
      put.push(path);
      if (edit.op === 'delete') node.splice(index, 1);
      else node[index] = payload;
      continue;
    }
    const named = keyOf(edit);
    const key = named === '__proto__' ? (KEYS[edit.key % KEYS.length] as string) : named;
    put.push([...path, key]);
    if (edit.op === 'delete') Reflect.deleteProperty(node, named);
    else if (named === '__proto__') (node as Record<string, unknown>)[key] = withMember({}, named, payload);
    else (node as Record<string, unknown>)[key] = payload;
  }
}

/** `target[key] = value`, as a recipe writes it (a plain assignment, through immer's proxy), for any key. */
function assign(target: Record<string, unknown>, key: string, value: unknown): void {
  target[key] = value;
}

function withMember(object: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  setMember(object, key, value);
  return object;
}

function isValid(validate: () => unknown): boolean {
  try {
    validate();
    return true;
  } catch {
    return false;
  }
}

function issuesOf(error: ReloadError): unknown {
  return error.failures.map((failure) => (failure.error as { issues?: unknown }).issues ?? String(failure.error));
}

function sortedPatches(patches: readonly unknown[]): unknown[] {
  return [...patches].sort((a, b) => JSON.stringify((a as { path: unknown }).path).localeCompare(JSON.stringify((b as { path: unknown }).path)));
}

function expectDeeplyFrozen(value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  expect(Object.isFrozen(value)).toBe(true);
  for (const item of Object.values(value)) expectDeeplyFrozen(item);
}
