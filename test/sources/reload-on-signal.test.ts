import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { ConfigStore } from '../../src/index.js';
import { reloadOnSignal, type ReloadRequester, type ReloadRequestOutcome } from '../../src/sources/reload-on-signal.js';
import { eventually } from '../helpers/watch-recorder.js';

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

  constructor(configPath: string, mode: 'real' | 'minimal') {
    this.#child = spawn(process.execPath, [script, configPath, mode]);
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
});

describe('reloadOnSignal in this process', () => {
  /** A requester that records calls and answers with `answer`. */
  function requester(answer: () => Promise<ReloadRequestOutcome>): ReloadRequester & { calls: (() => unknown)[] } {
    const calls: (() => unknown)[] = [];
    return {
      calls,
      requestReload(loadFn) {
        calls.push(loadFn);
        return answer();
      },
    };
  }

  it('passes loadFn to requestReload on each signal and reports each outcome', async () => {
    const store = requester(() => Promise.resolve({ status: 'applied' }));
    const outcomes: [ReloadRequestOutcome, string][] = [];
    const loadFn = (): unknown => ({ v: 1 });
    const stop = reloadOnSignal(store, 'SIGUSR2', loadFn, { onOutcome: (o, s) => outcomes.push([o, s]) });
    try {
      process.emit('SIGUSR2', 'SIGUSR2');
      process.emit('SIGUSR2', 'SIGUSR2');
      await eventually(() => outcomes.length === 2, 'two outcomes');
      expect(store.calls).toEqual([loadFn, loadFn]);
      expect(outcomes).toEqual([
        [{ status: 'applied' }, 'SIGUSR2'],
        [{ status: 'applied' }, 'SIGUSR2'],
      ]);
    } finally {
      stop();
    }
  });

  it('turns a requestReload that rejects or throws into a rejected outcome', async () => {
    const failure = new Error('store broke its contract');
    const outcomes: ReloadRequestOutcome[] = [];
    const rejecting = reloadOnSignal(requester(() => Promise.reject(failure)), 'SIGUSR2', () => undefined, {
      onOutcome: (o) => outcomes.push(o),
    });
    process.emit('SIGUSR2', 'SIGUSR2');
    await eventually(() => outcomes.length === 1, 'the rejected outcome');
    rejecting();
    const throwing = reloadOnSignal(
      {
        requestReload() {
          throw failure;
        },
      },
      'SIGUSR2',
      () => undefined,
      { onOutcome: (o) => outcomes.push(o) },
    );
    process.emit('SIGUSR2', 'SIGUSR2');
    throwing();
    expect(outcomes).toEqual([
      { status: 'rejected', error: failure },
      { status: 'rejected', error: failure },
    ]);
  });

  it('survives an onOutcome that throws, and logs by default', async () => {
    const store = requester(() => Promise.resolve({ status: 'unchanged' }));
    const stop = reloadOnSignal(store, 'SIGUSR2', () => undefined, {
      onOutcome: () => {
        throw new Error('listener bug');
      },
    });
    const silent = reloadOnSignal(store, 'SIGUSR2', () => undefined);
    try {
      process.emit('SIGUSR2', 'SIGUSR2');
      await eventually(() => store.calls.length === 2, 'both handlers');
      // Let the outcomes settle: an unhandled rejection would fail the run.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      stop();
      silent();
    }
  });

  it('removes exactly its own listener, once, also as a Disposable', () => {
    const before = process.listenerCount('SIGUSR2');
    const other = (): void => undefined;
    process.on('SIGUSR2', other);
    const stop = reloadOnSignal(requester(() => Promise.resolve({ status: 'unchanged' })), 'SIGUSR2', () => undefined);
    expect(process.listenerCount('SIGUSR2')).toBe(before + 2);
    {
      using disposable = reloadOnSignal(requester(() => Promise.resolve({ status: 'unchanged' })), 'SIGUSR2', () => undefined);
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

  it('takes a ConfigStore as its store (types)', () => {
    expectTypeOf<ConfigStore<{ v: number }>>().toExtend<ReloadRequester>();
  });

  it('defaults to SIGHUP', () => {
    const before = process.listenerCount('SIGHUP');
    const stop = reloadOnSignal(requester(() => Promise.resolve({ status: 'unchanged' })), undefined, () => undefined);
    expect(process.listenerCount('SIGHUP')).toBe(before + 1);
    stop();
    expect(process.listenerCount('SIGHUP')).toBe(before);
  });
});
