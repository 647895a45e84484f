import { describe, expect, it } from 'vitest';
import { ConfigStore, type ChangeEvent, type Participant } from '../../src/index.js';
import { recording, serverSchema, sleep, type Journal, type ServerConfig } from '../helpers/store-fixtures.js';
import { unhandledRejections } from '../helpers/unhandled-rejections.js';

const create = (participants: Participant<ServerConfig>[] = []) => ConfigStore.create({ schema: serverSchema, initial: {}, participants });

/** Collects the unhandled rejections of the process while `run` runs, and a little after. */
async function unhandledRejectionsDuring(run: () => Promise<void>): Promise<unknown[]> {
  using unhandled = unhandledRejections();
  await run();
  // Unhandled rejections are reported after the microtask queue drains.
  await sleep(20);
  return [...unhandled.reasons];
}

describe('PreparedTransaction.commit', () => {
  it('reports a commit hook that returns a rejected promise as a commit failure, with no unhandled rejection', async () => {
    const asyncCommit: Participant<ServerConfig> = {
      name: 'async',
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the defect under test: a commit hook that returns a promise
      prepare: () => ({ commit: () => Promise.reject(new Error('switched too late')) }),
    };
    let failures: readonly unknown[] = [];
    const unhandled = await unhandledRejectionsDuring(async () => {
      const withHook = await ConfigStore.create({ schema: serverSchema, initial: {}, participants: [recording('a', []), asyncCommit] }).catch((error: unknown) => error);
      // The cold start's commit hook failed: create() rejects with ERR_COMMIT.
      expect(withHook).toMatchObject({ code: 'ERR_COMMIT' });
      failures = (withHook as { failures: readonly unknown[] }).failures;
    });
    expect(unhandled).toEqual([]);
    expect(failures).toMatchObject([{ participant: 'async', phase: 'commit' }]);
  });

  it('keeps the swap and reports ERR_COMMIT in the result and the status when a hook returns a promise', async () => {
    let commitReturnsPromise = false;
    const sometimesAsync: Participant<ServerConfig> = {
      name: 'sometimes',
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the defect under test: a commit hook that returns a promise
      prepare: () => ({ commit: () => (commitReturnsPromise ? Promise.reject(new Error('late')) : undefined) }),
    };
    const store = await create([sometimesAsync]);
    commitReturnsPromise = true;
    let result;
    const unhandled = await unhandledRejectionsDuring(async () => {
      result = await store.reload({ port: 2 });
    });
    expect(unhandled).toEqual([]);
    expect(result).toMatchObject({ status: 'applied', commitFailures: [{ participant: 'sometimes', phase: 'commit' }], error: { code: 'ERR_COMMIT' } });
    expect(store.load().config.port).toBe(2);
    expect(store.status()).toMatchObject({ lastReloadSuccessful: false, lastError: { code: 'ERR_COMMIT' }, counters: { failed: 1 } });
  });

  it('freezes the patches deeply: no subscriber can change what the others or the caller see', async () => {
    const store = await create();
    const seen: ChangeEvent<unknown, unknown>[] = [];
    const attempts: string[] = [];
    store.subscribe((event) => {
      seen.push(event);
      for (const attempt of [
        () => (event.patches as unknown[]).splice(0),
        () => ((event.patches[0] as { op: string }).op = 'remove'),
        () => (event.patches[0]?.path as unknown[]).push('x'),
      ]) {
        try {
          attempt();
          attempts.push('changed');
        } catch (error) {
          attempts.push((error as Error).name);
        }
      }
    });
    store.subscribe((event) => {
      seen.push(event);
    });
    const result = await store.reload((draft) => {
      draft.port = 9;
      draft.upstreams.a = { url: 'http://a' };
    });
    expect(attempts).toEqual(['TypeError', 'TypeError', 'TypeError']);
    expect(seen[1]).toBe(seen[0]);
    expect(seen[0]).toBe(result);
    expect(result.patches).toEqual([
      { op: 'replace', path: ['port'], value: 9 },
      { op: 'add', path: ['upstreams', 'a'], value: { url: 'http://a' } },
    ]);
    for (const patch of result.patches) {
      expect(Object.isFrozen(patch)).toBe(true);
      expect(Object.isFrozen(patch.path)).toBe(true);
      if (typeof patch.value === 'object' && patch.value !== null) expect(Object.isFrozen(patch.value)).toBe(true);
    }
  });
});

describe('the patches a participant sees', () => {
  it('are frozen: a participant cannot empty or edit them before the next one and the subscribers see them', async () => {
    const attempts: string[] = [];
    const vandal: Participant<ServerConfig> = {
      name: 'vandal',
      prepare: ({ patches }) => {
        for (const attempt of [() => (patches as unknown[]).splice(0), () => ((patches as unknown as { op: string }[])[0]!.op = 'remove')]) {
          try {
            attempt();
            attempts.push('changed');
          } catch (error) {
            attempts.push((error as Error).name);
          }
        }
        return {};
      },
    };
    const journal: Journal = [];
    const seenByNext: unknown[] = [];
    const next: Participant<ServerConfig> = {
      name: 'next',
      prepare: (ctx) => {
        seenByNext.push(ctx.patches);
        return recording('n', journal).prepare(ctx);
      },
    };
    const store = await create([vandal, next]);
    const result = await store.reload({ port: 7 });
    expect(attempts.slice(-2)).toEqual(['TypeError', 'TypeError']);
    expect(seenByNext.at(-1)).toBe(result.patches);
    expect(result.patches).toEqual([{ op: 'replace', path: ['port'], value: 7 }]);
  });
});
