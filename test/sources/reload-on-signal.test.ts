import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { log } from '../../src/internal/debug.js';
import { reloadOnSignal } from '../../src/sources/reload-on-signal.js';
import type { ReloadRequester } from '../../src/sources/reload-requester.js';
import { ReloadError } from '../../src/errors.js';
import type { ReloadResult as AnyReloadResult } from '../../src/transaction/reload-result.js';
import { captureLog } from '../helpers/capture-log.js';
import { eventually } from '../helpers/watch-recorder.js';
import { unhandledRejections } from '../helpers/unhandled-rejections.js';

const script = fileURLToPath(new URL('../helpers/reload-on-signal.js', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'txconfig-signals-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

interface ChildEvent {
  readonly event: string;
  readonly [key: string]: unknown;
}

/** The child daemon of test/helpers/reload-on-signal.js, with its stdout as events. */
class ChildDaemon {
  readonly events: ChildEvent[] = [];
  readonly #child: ChildProcessWithoutNullStreams;
  #stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(configPath: string, mode: 'real' | 'minimal', env: NodeJS.ProcessEnv = {}) {
    this.#child = spawn(process.execPath, [script, configPath, mode], { env: { ...process.env, ...env } });
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      this.events.push(JSON.parse(line) as ChildEvent);
    });
    this.#child.stderr.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
    this.exited = new Promise((resolve) => {
      this.#child.on('exit', (code, signal) => {
        resolve({ code, signal });
      });
    });
  }

  get stderr(): string {
    return this.#stderr;
  }

  of(event: string): ChildEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  last(event: string): ChildEvent | undefined {
    return this.of(event).at(-1);
  }

  async waitFor(event: string, count: number): Promise<ChildEvent> {
    await eventually(() => this.of(event).length >= count || this.#child.exitCode !== null, `${count} '${event}' event(s)`);
    const found = this.of(event)[count - 1];
    if (found === undefined) throw new Error(`child exited; stderr: ${this.#stderr}`);
    return found;
  }

  /** Sends a command on stdin and waits until the child has handled it. */
  async command(line: string): Promise<void> {
    const acks = this.of('ack').length;
    this.#child.stdin.write(line + '\n');
    await this.waitFor('ack', acks + 1);
  }

  /** A real signal, through the kernel. */
  signal(name: NodeJS.Signals = 'SIGHUP'): void {
    this.#child.kill(name);
  }

  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
  }
}

const children: ChildDaemon[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});

describe.each(['minimal', 'real'] as const)('reloadOnSignal in a child process (%s store)', (mode) => {
  it('reloads on a real SIGHUP, keeps the config on a bad file, coalesces a burst, and can be removed', async () => {
    const path = join(dir, `${mode}.json`);
    await fs.writeFile(path, JSON.stringify({ v: 1 }));
    const child = new ChildDaemon(path, mode);
    children.push(child);
    expect((await child.waitFor('ready', 1)).config).toEqual({ v: 1 });

    // A change on disk, then SIGHUP: applied.
    await fs.writeFile(path, JSON.stringify({ v: 2 }));
    child.signal();
    expect(await child.waitFor('outcome', 1)).toMatchObject({ status: 'applied', config: { v: 2 } });

    // A broken file: rejected, the live config stays.
    await fs.writeFile(path, '{"v": 3,');
    child.signal();
    const rejected = await child.waitFor('outcome', 2);
    expect(rejected).toMatchObject({ status: 'rejected', config: { v: 2 } });
    expect(rejected.error).toEqual(mode === 'real' ? { code: 'ERR_LOAD', cause: 'ERR_PARSE' } : { code: 'ERR_PARSE', cause: null });

    // A burst while a reload runs: at most one more reload, which sees the latest file.
    await fs.writeFile(path, JSON.stringify({ v: 4 }));
    await child.command('gate');
    const loadsBefore = (await child.waitFor('outcome', 2)).loads as number;
    child.signal();
    await child.waitFor('load', loadsBefore + 1);
    const signalsBefore = child.of('signal').length;
    // One at a time, each seen before the next is sent: the kernel would merge a
    // volley of pending SIGHUPs into one, and this must be five separate requests.
    for (let i = 1; i <= 5; i++) {
      child.signal();
      await child.waitFor('signal', signalsBefore + i);
    }
    await fs.writeFile(path, JSON.stringify({ v: 5 }));
    await child.command('release');
    // Every signal handled gets an outcome; wait for all of them, then count loads.
    await eventually(() => {
      const last = child.last('outcome');
      return last !== undefined && last.outcomes === child.of('signal').length;
    }, 'an outcome for every signal');
    const final = child.last('outcome')!;
    expect(final.config).toEqual({ v: 5 });
    // Six requests (the gated one and five during it), two loads.
    expect(child.of('signal').length - signalsBefore).toBe(5);
    expect((final.loads as number) - loadsBefore).toBe(2);

    // Removed: SIGHUP has its default action again and ends the process.
    await child.command('stop');
    expect(child.last('stopped')).toMatchObject({ listeners: 0 });
    child.signal();
    expect(await child.exited).toEqual({ code: null, signal: 'SIGHUP' });
    expect(child.stderr).toBe('');
  });

  it('keeps the daemon alive when onOutcome returns a rejected promise, and logs it to txconfig:sources', async () => {
    const path = join(dir, `${mode}-rejecting-outcome.json`);
    await fs.writeFile(path, JSON.stringify({ v: 1 }));
    const child = new ChildDaemon(path, mode, { DEBUG: 'txconfig:sources' });
    children.push(child);
    await child.waitFor('ready', 1);
    await child.command('reject-outcomes');

    await fs.writeFile(path, JSON.stringify({ v: 2 }));
    child.signal();
    expect(await child.waitFor('outcome', 1)).toMatchObject({ status: 'applied', config: { v: 2 } });
    await eventually(() => child.stderr.includes('onOutcome failed on purpose (1)'), 'the failure in the log');

    // Alive, and still reloading: Node's default for an unhandled rejection is to exit.
    await fs.writeFile(path, JSON.stringify({ v: 3 }));
    child.signal();
    expect(await child.waitFor('outcome', 2)).toMatchObject({ status: 'applied', config: { v: 3 } });
    await eventually(() => child.stderr.includes('onOutcome failed on purpose (2)'), 'the second failure in the log');
    await child.command('stop');
    expect(child.stderr).not.toMatch(/Unhandled|triggerUncaughtException/);
  });
});

describe('reloadOnSignal with a ConfigStore in a child process', () => {
  it('stops reloading on the signal when the store closes', async () => {
    const path = join(dir, 'closing.json');
    await fs.writeFile(path, JSON.stringify({ v: 1 }));
    const child = new ChildDaemon(path, 'real');
    children.push(child);
    await child.waitFor('ready', 1);
    await child.command('close');
    expect(child.last('stopped')).toMatchObject({ listeners: 0 });
    child.signal();
    expect(await child.exited).toEqual({ code: null, signal: 'SIGHUP' });
    expect(child.of('outcome')).toEqual([]);
    expect(child.stderr).toBe('');
  });
});

describe('reloadOnSignal in this process', () => {
  type ReloadResult = AnyReloadResult<unknown, unknown>;
  const snapshot = Object.freeze({ config: {}, derived: {}, generation: 1, digest: 'd', committedAt: 0, artifacts: [], redacted: () => ({}) });
  const unchanged: ReloadResult = { status: 'unchanged', snapshot, previous: snapshot, patches: [], commitFailures: [] };

  /** A requester that records calls and answers with `answer`; with `onClose` when `closable`. */
  function requester(
    answer: () => Promise<ReloadResult> = () => Promise.resolve(unchanged),
  ): ReloadRequester & { readonly calls: (() => unknown)[]; readonly hooks: Set<() => void | Promise<void>> } {
    const calls: (() => unknown)[] = [];
    const hooks = new Set<() => void | Promise<void>>();
    return {
      calls,
      hooks,
      requestReload(load) {
        calls.push(load);
        return answer();
      },
      onClose(hook) {
        hooks.add(hook);
        return () => hooks.delete(hook);
      },
    };
  }


  // Triggers a test leaves installed; removed after it, whatever it did.
  const installed: (() => void)[] = [];
  afterEach(() => {
    for (const stop of installed.splice(0)) stop();
  });
  function track<S extends () => void>(stop: S): S {
    installed.push(stop);
    return stop;
  }

  /** Two turns of the event loop: enough for Node to report an unhandled rejection. */
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

  it('passes load to requestReload on each signal and reports each result with the signal name', async () => {
    const store = requester();
    const outcomes: [ReloadResult, string][] = [];
    const load = (): unknown => ({ v: 1 });
    track(reloadOnSignal(store, load, { signal: 'SIGUSR2', onOutcome: (result, signal) => void outcomes.push([result, signal]) }));
    process.emit('SIGUSR2', 'SIGUSR2');
    process.emit('SIGUSR2', 'SIGUSR2');
    await eventually(() => outcomes.length === 2, 'two outcomes');
    expect(store.calls).toEqual([load, load]);
    expect(outcomes).toEqual([
      [unchanged, 'SIGUSR2'],
      [unchanged, 'SIGUSR2'],
    ]);
  });

  it('reloads on SIGHUP when no signal is given', () => {
    const before = process.listenerCount('SIGHUP');
    const stop = reloadOnSignal(requester(), () => undefined);
    expect(process.listenerCount('SIGHUP')).toBe(before + 1);
    stop();
    expect(process.listenerCount('SIGHUP')).toBe(before);
  });

  it('catches an onOutcome that returns a rejected promise or throws, logs it, and keeps reloading', async () => {
    using unhandled = unhandledRejections();
    using captured = captureLog(log.sources);
    const store = requester();
    let calls = 0;
    track(reloadOnSignal(store, () => ({}), {
      signal: 'SIGUSR2',
      onOutcome: () => {
        calls++;
        if (calls === 1) return Promise.reject(new Error('async onOutcome bug'));
        throw new Error('sync onOutcome bug');
      },
    }));
    process.emit('SIGUSR2', 'SIGUSR2');
    await eventually(() => calls === 1, 'the first outcome');
    await settle();
    process.emit('SIGUSR2', 'SIGUSR2');
    await eventually(() => calls === 2, 'the second outcome');
    await settle();
    expect(unhandled.reasons).toEqual([]);
    expect(store.calls).toHaveLength(2);
    const failures = captured.lines.filter((line) => line.includes('onOutcome failed'));
    expect(failures).toHaveLength(2);
    expect(failures[0]).toContain('async onOutcome bug');
    expect(failures[1]).toContain('sync onOutcome bug');
  });

  it('logs, and calls no onOutcome, when the requester breaks its contract by rejecting or throwing', async () => {
    using unhandled = unhandledRejections();
    using captured = captureLog(log.sources);
    const outcomes: ReloadResult[] = [];
    const onOutcome = (result: ReloadResult): void => void outcomes.push(result);
    const rejecting = reloadOnSignal(requester(() => Promise.reject(new Error('store broke its contract (reject)'))), () => undefined, {
      signal: 'SIGUSR2',
      onOutcome,
    });
    process.emit('SIGUSR2', 'SIGUSR2');
    await eventually(() => captured.lines.some((line) => line.includes('(reject)')), 'the rejection in the log');
    rejecting();
    const throwing: ReloadRequester = {
      requestReload() {
        throw new Error('store broke its contract (throw)');
      },
    };
    track(reloadOnSignal(throwing, () => undefined, { signal: 'SIGUSR2', onOutcome }));
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(captured.lines.some((line) => line.includes('(throw)'))).toBe(true);
    await settle();
    expect(outcomes).toEqual([]);
    expect(unhandled.reasons).toEqual([]);
  });

  it.each<[string, ReloadResult, string]>([
    ['unchanged', unchanged, 'reload on SIGUSR2: unchanged'],
    ['rejected', { status: 'rejected', snapshot, error: new ReloadError('ERR_LOAD', [{ participant: null, phase: 'load', error: new Error('bad file') }]) }, 'bad file'],
    ['aborted', { status: 'aborted', snapshot, error: new ReloadError('ERR_CLOSED', [], 'store closed') }, 'store closed'],
    [
      'applied-with-failed-hooks',
      {
        status: 'applied',
        snapshot,
        previous: snapshot,
        patches: [],
        commitFailures: [{ participant: 'p', phase: 'commit', error: new Error('hook broke') }],
        error: new ReloadError('ERR_COMMIT', [{ participant: 'p', phase: 'commit', error: new Error('hook broke') }]),
      },
      'hook broke',
    ],
  ])('logs a %s result to txconfig:sources without an onOutcome', async (status, result, expected) => {
    using captured = captureLog(log.sources);
    const store = requester(() => Promise.resolve(result));
    track(reloadOnSignal(store, () => ({}), { signal: 'SIGUSR2' }));
    process.emit('SIGUSR2', 'SIGUSR2');
    await eventually(() => captured.lines.some((line) => line.includes(expected)), `the ${status} result in the log`);
    expect(store.calls).toHaveLength(1);
  });

  it('removes exactly its own listener, once, also as a Disposable', () => {
    const before = process.listenerCount('SIGUSR2');
    const other = (): void => undefined;
    process.on('SIGUSR2', other);
    const stop = reloadOnSignal(requester(), () => undefined, { signal: 'SIGUSR2' });
    expect(process.listenerCount('SIGUSR2')).toBe(before + 2);
    {
      using disposable = reloadOnSignal(requester(), () => undefined, { signal: 'SIGUSR2' });
      expect(typeof disposable).toBe('function');
      expect(process.listenerCount('SIGUSR2')).toBe(before + 3);
    }
    expect(process.listenerCount('SIGUSR2')).toBe(before + 2);
    stop();
    stop();
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
    expect(process.listeners('SIGUSR2')).toContain(other);
    process.off('SIGUSR2', other);
  });

  it('registers its stop with store.onClose, and unregisters it when stopped by hand', async () => {
    const before = process.listenerCount('SIGUSR2');
    const closing = requester();
    reloadOnSignal(closing, () => undefined, { signal: 'SIGUSR2' });
    expect(closing.hooks.size).toBe(1);
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
    // What store.close() does: run every hook.
    for (const hook of closing.hooks) await hook();
    expect(process.listenerCount('SIGUSR2')).toBe(before);

    const byHand = requester();
    const stop = reloadOnSignal(byHand, () => undefined, { signal: 'SIGUSR2' });
    stop();
    expect(byHand.hooks.size).toBe(0);
    expect(process.listenerCount('SIGUSR2')).toBe(before);
  });

  it('works with a store that has no onClose', () => {
    const before = process.listenerCount('SIGUSR2');
    const stop = reloadOnSignal({ requestReload: () => Promise.resolve(unchanged) }, () => undefined, { signal: 'SIGUSR2' });
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
    stop();
    expect(process.listenerCount('SIGUSR2')).toBe(before);
  });

  it.each<[string, () => unknown]>([
    ['store', () => reloadOnSignal(null as unknown as ReloadRequester, () => undefined)],
    ['store.requestReload', () => reloadOnSignal({} as ReloadRequester, () => undefined)],
    ['store.onClose', () => reloadOnSignal({ requestReload: () => Promise.resolve(unchanged), onClose: 1 } as unknown as ReloadRequester, () => undefined)],
    ['load', () => reloadOnSignal(requester(), 'SIGHUP' as unknown as () => unknown)],
    ['onOutcome', () => reloadOnSignal(requester(), () => undefined, { onOutcome: 'log' as unknown as () => void })],
    ['signal', () => reloadOnSignal(requester(), () => undefined, { signal: 'SIGFOO' as NodeJS.Signals })],
    ['signal', () => reloadOnSignal(requester(), () => undefined, { signal: new AbortController().signal as unknown as NodeJS.Signals })],
    ['signal', () => reloadOnSignal(requester(), () => undefined, { signal: 'SIGKILL' })],
    ['signal', () => reloadOnSignal(requester(), () => undefined, { signal: 'SIGSTOP' })],
  ])('refuses a bad %s with ERR_ARGUMENT and installs nothing', (argument, call) => {
    const before = ['SIGHUP', 'SIGKILL', 'SIGSTOP'].map((signal) => process.listenerCount(signal));
    expect(call).toThrow(expect.objectContaining({ name: 'ArgumentError', code: 'ERR_ARGUMENT', argument }));
    expect(['SIGHUP', 'SIGKILL', 'SIGSTOP'].map((signal) => process.listenerCount(signal))).toEqual(before);
  });
});
