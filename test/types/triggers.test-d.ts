import { describe, expectTypeOf, it } from 'vitest';
import type { ConfigStore, ConfigWatcher, ReloadRequester, ReloadResult } from '../../src/index.js';
import { reloadOnFileChange, reloadOnSignal } from '../../src/index.js';

interface Cfg {
  readonly port: number;
}
type Derived = { readonly runtimes: { readonly names: readonly string[] } };
// Never created: type tests are checked, not run.
declare const store: ConfigStore<Cfg, Derived>;

describe('triggers and the stores they reload', () => {
  it('takes any ConfigStore as a ReloadRequester, with its onClose', () => {
    expectTypeOf<ConfigStore<Cfg>>().toExtend<ReloadRequester>();
    expectTypeOf<ConfigStore<Cfg, Derived>>().toExtend<ReloadRequester<ReloadResult<Cfg, Derived>>>();
    expectTypeOf<ReloadRequester['onClose']>().toEqualTypeOf<((hook: () => void | Promise<void>) => () => void) | undefined>();
  });

  it("gives onOutcome the store's own result type", () => {
    reloadOnSignal(store, () => ({ port: 1 }), {
      onOutcome: (result, signal) => {
        expectTypeOf(result).toEqualTypeOf<ReloadResult<Cfg, Derived>>();
        expectTypeOf(signal).toEqualTypeOf<NodeJS.Signals>();
        if (result.status !== 'rejected' && result.status !== 'aborted') expectTypeOf(result.snapshot.config.port).toEqualTypeOf<number>();
      },
    });
  });

  it('takes the POSIX signal as an option, never before the load function', () => {
    reloadOnSignal(store, () => ({}), { signal: 'SIGUSR2' });
    // @ts-expect-error the signal name is no longer a positional argument
    reloadOnSignal(store, 'SIGHUP', () => ({}));
    // @ts-expect-error an AbortSignal is not a POSIX signal
    reloadOnSignal(store, () => ({}), { signal: new AbortController().signal });
  });

  it('accepts an async onOutcome', () => {
    reloadOnSignal(store, () => ({}), {
      onOutcome: async (result) => {
        await Promise.resolve(result.status);
      },
    });
  });

  it("gives reloadOnFileChange's onOutcome the store's result, and returns the watcher of the parsed type", () => {
    const watcher = reloadOnFileChange(store, '/etc/app/config.json', {
      onOutcome: (result, path) => {
        expectTypeOf(result).toEqualTypeOf<ReloadResult<Cfg, Derived>>();
        expectTypeOf(path).toEqualTypeOf<string>();
      },
    });
    expectTypeOf(watcher).toEqualTypeOf<ConfigWatcher>();
    const numbers = reloadOnFileChange(store, '/etc/app/port', { parse: (bytes) => bytes.length });
    expectTypeOf(numbers).toEqualTypeOf<ConfigWatcher<number>>();
  });
});
