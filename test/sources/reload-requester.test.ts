import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../src/errors.js';
import { checkRequester, requestAndReport, stopWithStore, type ReloadRequester } from '../../src/sources/reload-requester.js';
import type { ReloadResult } from '../../src/transaction/reload-result.js';

const snapshot = Object.freeze({ config: {}, derived: {}, generation: 1, digest: 'd', committedAt: 0, artifacts: [], redacted: () => ({}) });
const unchanged: ReloadResult<unknown, unknown> = { status: 'unchanged', snapshot, previous: snapshot, patches: [], commitFailures: [] };

describe('requestAndReport', () => {
  it('resolves once the reload ended, without waiting for the promise onOutcome returns', async () => {
    const store: ReloadRequester = { requestReload: () => Promise.resolve(unchanged) };
    let delivered: unknown;
    let finishOutcome: (() => void) | undefined;
    await requestAndReport(
      store,
      () => ({}),
      (result) => {
        delivered = result;
        return new Promise<void>((resolve) => (finishOutcome = resolve));
      },
      'SIGHUP',
      'test',
    );
    expect(delivered).toBe(unchanged);
    expect(finishOutcome).toBeDefined();
    finishOutcome?.();
  });

  it('passes the load function itself to requestReload', async () => {
    const loads: (() => unknown)[] = [];
    const load = (): unknown => ({ v: 1 });
    await requestAndReport(
      {
        requestReload: (given) => {
          loads.push(given);
          return Promise.resolve(unchanged);
        },
      },
      load,
      () => undefined,
      'x',
      'test',
    );
    expect(loads).toEqual([load]);
  });
});

describe('stopWithStore', () => {
  it('runs the stop when the store closes, and the returned function unregisters it once', async () => {
    const hooks = new Set<() => void | Promise<void>>();
    let unregistered = 0;
    const store = {
      onClose(hook: () => void | Promise<void>) {
        hooks.add(hook);
        return () => {
          unregistered++;
          hooks.delete(hook);
        };
      },
    };
    let stops = 0;
    stopWithStore(store, () => {
      stops++;
    });
    for (const hook of hooks) await hook();
    expect(stops).toBe(1);

    const forget = stopWithStore(store, () => {
      stops++;
    });
    forget();
    forget();
    expect(unregistered).toBe(1);
    expect(stops).toBe(1);
  });

  it('unregisters nothing after the store ran the hook', async () => {
    let hook: (() => void | Promise<void>) | undefined;
    let unregistered = 0;
    const forget = stopWithStore(
      {
        onClose(given: () => void | Promise<void>) {
          hook = given;
          return () => {
            unregistered++;
          };
        },
      },
      () => undefined,
    );
    await hook?.();
    forget();
    expect(unregistered).toBe(0);
  });

  it('does nothing with a store that has no onClose', () => {
    expect(() => {
      stopWithStore({}, () => undefined)();
    }).not.toThrow();
  });
});

describe('checkRequester', () => {
  it.each<[string, unknown]>([
    ['store', null],
    ['store', 'store'],
    ['store.requestReload', {}],
    ['store.onClose', { requestReload: () => undefined, onClose: true }],
  ])('refuses %s in %o with ERR_ARGUMENT', (argument, store) => {
    expect(() => {
      checkRequester(store);
    }).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT', argument }));
  });

  it('accepts any object with requestReload, with or without onClose', () => {
    expect(() => {
      checkRequester({ requestReload: () => undefined });
      checkRequester({ requestReload: () => undefined, onClose: () => undefined });
    }).not.toThrow(ArgumentError);
  });
});
