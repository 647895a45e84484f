// The reload path that costs what changed (validate and reconcile only the changed
// subtrees) against the whole path, on generated schemas, configs and edits: the same
// outcome, config (same key order), digest, patches and issues, reload after reload.
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigStore, ReloadError, type ReloadResult } from '../../src/index.js';
import { compileValidator } from '../../src/schema/validator.js';
import { KEYS, applyEdits, edits, pick, type Edit, type Style } from '../helpers/json-edits.js';
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

type Outcome = { readonly status: 'applied'; readonly snapshot: { readonly config: unknown; readonly digest: string }; readonly patches: readonly unknown[] } | { readonly status: 'unchanged' } | { readonly status: 'rejected'; readonly error: ReloadError };

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
  try {
    const result: ReloadResult =
      style === 'file'
        ? await store.reload(applyEdits(live, list, 'file'))
        : await store.reload((draft: unknown) => {
            editInPlace(draft, list, live);
          });
    return result.status === 'applied' ? { status: 'applied', snapshot: result.snapshot, patches: result.patches } : { status: 'unchanged' };
  } catch (error) {
    if (error instanceof ReloadError) return { status: 'rejected', error };
    throw error;
  }
}

/**
 * The edits of json-edits.ts made on an immer draft, in place, as a recipe makes them; a
 * moved member is the live node itself. A `__proto__` key becomes `c`: assigning it on a
 * draft would set the copy's prototype, which no recipe means to do.
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
    const key = KEYS[edit.key % KEYS.length] === '__proto__' ? 'c' : (KEYS[edit.key % KEYS.length] as string);
    put.push([...path, key]);
    if (edit.op === 'delete') Reflect.deleteProperty(node, key);
    else (node as Record<string, unknown>)[key] = payload;
  }
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
