import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { log } from '../../src/internal/debug.js';
import { reloadOnFileChange, type ReloadOnFileChangeOptions } from '../../src/sources/reload-on-file-change.js';
import type { ReloadRequester } from '../../src/sources/reload-requester.js';
import { ConfigStore } from '../../src/store/config-store.js';
import type { ConfigWatcher } from '../../src/sources/watch-config-file.js';
import type { ReloadResult } from '../../src/transaction/reload-result.js';
import { captureLog } from '../helpers/capture-log.js';
import { eventually } from '../helpers/watch-recorder.js';
import { unhandledRejections } from '../helpers/unhandled-rejections.js';

type Result = ReloadResult<unknown, unknown>;

let dir: string;
let path: string;
let watchers: ConfigWatcher<unknown>[];

beforeEach(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'txconfig-reload-on-file-change-'));
  path = join(dir, 'config.json');
  watchers = [];
});

afterEach(async () => {
  await Promise.all(watchers.map((watcher) => watcher.close()));
  await fs.rm(dir, { recursive: true, force: true });
});

const json = (value: unknown): string => JSON.stringify(value);

/** A real store that takes any object. */
function createStore(initial: unknown) {
  return ConfigStore.create({ schema: { type: 'object' }, initial });
}
type Store = Awaited<ReturnType<typeof createStore>>;

/** A real store on the file's content, a trigger with fast timings and no poll, and the results it reports. */
async function start(options: ReloadOnFileChangeOptions<Result> = {}): Promise<{ store: Store; watcher: ConfigWatcher; results: Result[] }> {
  const store = await createStore(JSON.parse(await fs.readFile(path, 'utf8')));
  const results: Result[] = [];
  const watcher = reloadOnFileChange(store, path, {
    debounceMs: 20,
    maxWaitMs: 200,
    pollMs: 0,
    retries: 1,
    onOutcome: (result) => void results.push(result),
    ...options,
  });
  watchers.push(watcher as ConfigWatcher<unknown>);
  await watcher.ready;
  return { store, watcher, results };
}

describe('reloadOnFileChange: a broken file is a rejected reload (defect 10)', () => {
  it('records broken JSON seen only by the watcher as a rejected reload: ERR_LOAD caused by ERR_PARSE, the live config kept', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const { store, results } = await start();
    const live = store.load();
    expect(store.status().lastReloadSuccessful).toBe(true);

    await fs.writeFile(path, '{"v": 2,');
    await eventually(() => results.length === 1, 'the result of the broken file');

    expect(results[0]).toMatchObject({ status: 'rejected', error: { code: 'ERR_LOAD' } });
    const status = store.status();
    expect(status.lastReloadSuccessful).toBe(false);
    expect(status.lastError).toMatchObject({ code: 'ERR_LOAD', causeCode: 'ERR_PARSE' });
    expect(status.counters.rejected).toBe(1);
    expect(store.load()).toBe(live);
    expect(store.load().config).toBe(live.config);
  });
});

describe('reloadOnFileChange: what it reloads', () => {
  it('reloads new content and reports it applied with the path', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const paths: string[] = [];
    const { store, results } = await start({
      onOutcome: (result, from) => {
        results.push(result);
        paths.push(from);
      },
    });
    await fs.writeFile(path, json({ v: 2 }));
    await eventually(() => results.length === 1, 'the applied result');
    expect(results[0]).toMatchObject({ status: 'applied' });
    expect(paths).toEqual([path]);
    expect(store.load().config).toEqual({ v: 2 });
    expect(store.status()).toMatchObject({ generation: 2, lastReloadSuccessful: true });
  });

  it('records a deleted file as rejected (ERR_FILE_NOT_FOUND), and a file back with the same content as healthy again', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const { store, results } = await start();
    const live = store.load();
    await fs.rm(path);
    await eventually(() => results.length === 1, 'the result of the missing file');
    expect(store.status().lastError).toMatchObject({ code: 'ERR_LOAD', causeCode: 'ERR_FILE_NOT_FOUND' });

    // The very bytes that are live: nothing to apply, but the failure is over.
    await fs.writeFile(path, json({ v: 1 }));
    await eventually(() => results.length === 2, 'the result of the restored file');
    expect(results[1]).toMatchObject({ status: 'unchanged' });
    expect(store.status().lastReloadSuccessful).toBe(true);
    expect(store.load()).toBe(live);
  });

  it('records a file missing at start as a rejected reload', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const store = await createStore({ v: 1 });
    await fs.rm(path);
    const results: Result[] = [];
    const watcher = reloadOnFileChange(store, path, { debounceMs: 10, pollMs: 0, retries: 0, onOutcome: (result) => void results.push(result) });
    watchers.push(watcher as ConfigWatcher<unknown>);
    await eventually(() => results.length === 1, 'the result of the missing file');
    expect(results[0]).toMatchObject({ status: 'rejected', error: { code: 'ERR_LOAD' } });
    expect(store.status().lastReloadSuccessful).toBe(false);
  });

  it('records a config the schema refuses as a rejected reload (ERR_VALIDATION)', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const store = await ConfigStore.create({
      schema: { type: 'object', properties: { v: { type: 'integer' } }, additionalProperties: false },
      initial: { v: 1 },
    });
    const results: Result[] = [];
    const watcher = reloadOnFileChange(store, path, { debounceMs: 10, pollMs: 0, onOutcome: (result) => void results.push(result) });
    watchers.push(watcher as ConfigWatcher<unknown>);
    await watcher.ready;
    await fs.writeFile(path, json({ v: 'one' }));
    await eventually(() => results.length === 1, 'the rejected result');
    expect(results[0]).toMatchObject({ status: 'rejected', error: { code: 'ERR_VALIDATION' } });
    expect(store.load().config).toEqual({ v: 1 });
  });

  it("still calls the watcher's onError with every failure", async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const failures: { error: unknown; phase: string }[] = [];
    const { results } = await start({ onError: (error, { phase }) => void failures.push({ error, phase }) });
    await fs.writeFile(path, '[]');
    await eventually(() => results.length === 1 && failures.length === 1, 'the failure, both ways');
    expect(failures[0]).toMatchObject({ phase: 'read', error: { code: 'ERR_PARSE' } });
  });
});

describe('reloadOnFileChange: callbacks that fail', () => {
  it('logs an onOutcome that returns a rejected promise or throws, and keeps reloading', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    using unhandled = unhandledRejections();
    using captured = captureLog(log.sources);
    let calls = 0;
    const { store } = await start({
      onOutcome: () => {
        calls++;
        if (calls === 1) return Promise.reject(new Error('async onOutcome bug'));
        throw new Error('sync onOutcome bug');
      },
    });
    await fs.writeFile(path, json({ v: 2 }));
    await eventually(() => calls === 1, 'the first result');
    await fs.writeFile(path, json({ v: 3 }));
    await eventually(() => calls === 2, 'the second result');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store.load().config).toEqual({ v: 3 });
    expect(unhandled.reasons).toEqual([]);
    expect(captured.lines.filter((line) => line.includes('onOutcome failed'))).toHaveLength(2);
  });
});

describe('reloadOnFileChange: lifecycle', () => {
  it('closes the watcher when the store closes', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const { store, watcher, results } = await start();
    await store.close();
    expect(watcher.closed).toBe(true);
    await fs.writeFile(path, json({ v: 2 }));
    // A second watcher on the same file proves the write raised events by now.
    const witness = await createStore({});
    const seen: Result[] = [];
    const other = reloadOnFileChange(witness, path, { debounceMs: 10, pollMs: 0, emitInitial: true, onOutcome: (result) => void seen.push(result) });
    watchers.push(other as ConfigWatcher<unknown>);
    await eventually(() => seen.length === 1, 'the witness to read the file');
    expect(results).toEqual([]);
  });

  it('unregisters from the store when the watcher is closed by hand', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const hooks = new Set<() => void | Promise<void>>();
    const store: ReloadRequester = {
      requestReload: () => Promise.reject(new Error('no reload expected')),
      onClose(hook) {
        hooks.add(hook);
        return () => hooks.delete(hook);
      },
    };
    const watcher = reloadOnFileChange(store, path, { pollMs: 0 });
    expect(hooks.size).toBe(1);
    await watcher.close();
    expect(hooks.size).toBe(0);
  });

  it('closes the watcher again when the store refuses the hook', () => {
    const refusal = new Error('closed for business');
    let created: ConfigWatcher | undefined;
    const store: ReloadRequester = {
      requestReload: () => Promise.reject(new Error('no reload expected')),
      onClose() {
        throw refusal;
      },
    };
    expect(() => (created = reloadOnFileChange(store, path, { pollMs: 0 }))).toThrow(refusal);
    expect(created).toBeUndefined();
  });

  it.each<[string, () => unknown]>([
    ['store', () => reloadOnFileChange(undefined as unknown as ReloadRequester, path)],
    ['store.requestReload', () => reloadOnFileChange({ requestReload: 'no' } as unknown as ReloadRequester, path)],
    ['path', () => reloadOnFileChange({ requestReload: () => Promise.reject(new Error('unused')) }, '')],
    ['onOutcome', () => reloadOnFileChange({ requestReload: () => Promise.reject(new Error('unused')) }, path, { onOutcome: 1 as unknown as () => void })],
    ['debounceMs', () => reloadOnFileChange({ requestReload: () => Promise.reject(new Error('unused')) }, path, { debounceMs: -5 })],
  ])('refuses a bad %s with ERR_ARGUMENT', (argument, call) => {
    expect(call).toThrow(expect.objectContaining({ name: 'ArgumentError', code: 'ERR_ARGUMENT', argument }));
  });
});

