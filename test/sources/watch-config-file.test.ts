import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArgumentError, ConfigFileError, ParseError, UnsafeKeyError } from '../../src/errors.js';
import { watchConfigFile, type ConfigWatcher, type WatchConfigFileOptions } from '../../src/sources/watch-config-file.js';
import { countingFs, readFd, type CountingFs } from '../helpers/counting-fs.js';
import { eventually, WatchRecorder } from '../helpers/watch-recorder.js';

let dir: string;
let path: string;
let watchers: ConfigWatcher<unknown>[];

beforeEach(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'txconfig-watch-'));
  path = join(dir, 'config.json');
  watchers = [];
});

afterEach(async () => {
  await Promise.all(watchers.map((w) => w.close()));
  await fs.rm(dir, { recursive: true, force: true });
});

/** Starts a watcher with fast timings and no poll (so events alone are tested), and waits for its baseline. */
async function start(
  file: string,
  options: WatchConfigFileOptions = {},
): Promise<{ watcher: ConfigWatcher; recorder: WatchRecorder; seam: CountingFs }> {
  const recorder = new WatchRecorder();
  const seam = countingFs();
  const watcher = watchConfigFile(file, recorder.onChange, {
    debounceMs: 25,
    maxWaitMs: 200,
    pollMs: 0,
    onError: recorder.onError,
    read: { fs: seam },
    ...options,
  });
  watchers.push(watcher as ConfigWatcher<unknown>);
  await watcher.ready;
  return { watcher, recorder, seam };
}

const json = (value: unknown): string => JSON.stringify(value);
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

async function atomicWrite(file: string, content: string): Promise<void> {
  const temp = `${file}.tmp-${Math.random().toString(36).slice(2)}`;
  await fs.writeFile(temp, content);
  await fs.rename(temp, file);
}

describe('watchConfigFile: what fires', () => {
  it('takes the content at start as baseline and fires on a write with the parsed config and its digest', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const { watcher, recorder } = await start(path);
    expect(watcher.digest).toBe(sha256(json({ v: 1 })));
    await fs.writeFile(path, json({ v: 2 }));
    await recorder.changeCount(1);
    expect(recorder.changes[0]).toEqual({ config: { v: 2 }, digest: sha256(json({ v: 2 })), path });
    expect(watcher.digest).toBe(sha256(json({ v: 2 })));
  });

  it('delivers the content at start too with emitInitial', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const { recorder } = await start(path, { emitInitial: true });
    expect(recorder.configs).toEqual([{ v: 1 }]);
  });

  it('keeps working across repeated editor saves (temp file + rename)', async () => {
    await fs.writeFile(path, json({ v: 0 }));
    const { recorder } = await start(path);
    for (let v = 1; v <= 3; v++) {
      await atomicWrite(path, json({ v }));
      await recorder.changeCount(v);
    }
    expect(recorder.configs).toEqual([{ v: 1 }, { v: 2 }, { v: 3 }]);
    expect(recorder.errors).toEqual([]);
  });

  it('survives delete and recreate, and never delivers the missing file', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const { recorder, seam } = await start(path, { retries: 1000 });
    await fs.rm(path);
    await eventually(() => seam.failedOpens.includes('ENOENT'), 'a read of the missing file');
    await fs.writeFile(path, json({ v: 2 }));
    await recorder.changeCount(1);
    expect(recorder.configs).toEqual([{ v: 2 }]);
    expect(recorder.errors).toEqual([]);
  });

  it('never delivers an empty file when an editor truncates and writes later', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const { recorder, seam } = await start(path, { retries: 1000 });
    await fs.truncate(path, 0);
    await eventually(() => seam.sizes.includes(0), 'a read of the empty file');
    await fs.writeFile(path, json({ v: 2 }));
    await recorder.changeCount(1);
    expect(recorder.configs).toEqual([{ v: 2 }]);
    expect(recorder.errors).toEqual([]);
  });

  it('does not fire when identical bytes are written again, in place or by rename', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const { recorder, seam } = await start(path);
    const opens = seam.opens;
    await fs.writeFile(path, json({ v: 1 }));
    await atomicWrite(path, json({ v: 1 }));
    await eventually(() => seam.opens > opens, 'a re-read after the identical writes');
    await fs.writeFile(path, json({ v: 2 }));
    await recorder.changeCount(1);
    expect(recorder.configs).toEqual([{ v: 2 }]);
  });

  it('follows a Kubernetes ConfigMap update (..data symlink swapped to a new directory)', async () => {
    // config.json -> ..data/config.json, ..data -> ..<timestamp>/, as the kubelet builds it.
    const publish = async (stamp: string, content: string): Promise<void> => {
      await fs.mkdir(join(dir, stamp));
      await fs.writeFile(join(dir, stamp, 'config.json'), content);
      await fs.symlink(stamp, join(dir, '..data_tmp'));
      await fs.rename(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    await publish('..2026_11_29_01_02_03.123', json({ v: 1 }));
    await fs.symlink('..data/config.json', path);
    const { recorder } = await start(path);

    await publish('..2026_11_29_01_05_00.456', json({ v: 2 }));
    await fs.rm(join(dir, '..2026_11_29_01_02_03.123'), { recursive: true });
    await recorder.changeCount(1);

    await publish('..2026_11_29_01_09_00.789', json({ v: 3 }));
    await fs.rm(join(dir, '..2026_11_29_01_05_00.456'), { recursive: true });
    await recorder.changeCount(2);
    expect(recorder.configs).toEqual([{ v: 2 }, { v: 3 }]);
    expect(recorder.errors).toEqual([]);
  });

  it('sees an in-place edit of a symlink target in another directory', async () => {
    const elsewhere = join(dir, 'elsewhere');
    await fs.mkdir(elsewhere);
    await fs.mkdir(join(dir, 'etc'));
    await fs.writeFile(join(elsewhere, 'real.json'), json({ v: 1 }));
    const link = join(dir, 'etc', 'config.json');
    await fs.symlink(join(elsewhere, 'real.json'), link);
    const { recorder } = await start(link);
    await fs.writeFile(join(elsewhere, 'real.json'), json({ v: 2 }));
    await recorder.changeCount(1);
    expect(recorder.configs).toEqual([{ v: 2 }]);
  });

  it('reloads within maxWait during a steady stream of writes', async () => {
    await fs.writeFile(path, json({ v: 0 }));
    // The quiet period never comes: only maxWaitMs can end the wait.
    const { recorder } = await start(path, { debounceMs: 1000, maxWaitMs: 150 });
    const stream = { v: 0, done: false };
    const writer = (async () => {
      while (!stream.done && stream.v < 2000) {
        await fs.writeFile(path, json({ v: ++stream.v }));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    try {
      await recorder.changeCount(1, 15_000);
      // The change came while writes were still arriving, not after the stream ended.
      expect(stream.v).toBeLessThan(2000);
    } finally {
      stream.done = true;
      await writer;
    }
  });

  it('falls back to the poll when the directory itself is replaced', async () => {
    const sub = join(dir, 'conf');
    await fs.mkdir(sub);
    const file = join(sub, 'config.json');
    await fs.writeFile(file, json({ v: 1 }));
    const { recorder } = await start(file, { pollMs: 50 });
    await fs.rename(sub, join(dir, 'conf.old'));
    await fs.mkdir(sub);
    await fs.writeFile(file, json({ v: 2 }));
    await recorder.changeCount(1);
    await fs.writeFile(file, json({ v: 3 }));
    await recorder.changeCount(2);
    expect(recorder.configs).toEqual([{ v: 2 }, { v: 3 }]);
  });

  it('never overlaps onChange calls, and delivers what changed while one ran', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const seen: unknown[] = [];
    let active = 0;
    let overlapped = false;
    let release: (() => void) | undefined;
    const watcher = watchConfigFile(
      path,
      async ({ config }) => {
        overlapped ||= active > 0;
        active++;
        seen.push(config);
        if (seen.length === 1) await new Promise<void>((resolve) => (release = resolve));
        active--;
      },
      { debounceMs: 10, pollMs: 0 },
    );
    watchers.push(watcher as ConfigWatcher<unknown>);
    await watcher.ready;
    await fs.writeFile(path, json({ v: 2 }));
    await eventually(() => release !== undefined, 'the first onChange to start');
    await fs.writeFile(path, json({ v: 3 }));
    // Give the second change's timer time to fire while the first onChange still runs
    // (the assertions hold either way; this only makes the pending path the likely one).
    await new Promise((resolve) => setTimeout(resolve, 100));
    release?.();
    await eventually(() => seen.length === 2, 'the second change');
    expect(seen).toEqual([{ v: 2 }, { v: 3 }]);
    expect(overlapped).toBe(false);
  });

  it('uses a custom parse function on the same bytes it hashes', async () => {
    await fs.writeFile(path, 'port=1');
    const recorder = new WatchRecorder<number>();
    const watcher = watchConfigFile(path, recorder.onChange, {
      debounceMs: 25,
      pollMs: 0,
      emitInitial: true,
      parse: (bytes) => Number(new TextDecoder().decode(bytes).split('=')[1]),
    });
    watchers.push(watcher as ConfigWatcher<unknown>);
    await recorder.changeCount(1);
    await fs.writeFile(path, 'port=2');
    await recorder.changeCount(2);
    expect(recorder.configs).toEqual([1, 2]);
    expect(recorder.changes[1]?.digest).toBe(sha256('port=2'));
  });
});

describe('watchConfigFile: failures', () => {
  it('reports a broken file once per content after retries, and recovers', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const { recorder, seam } = await start(path, { retries: 2 });
    await fs.writeFile(path, '{"v": 2,');
    await recorder.errorCount(1);
    expect(recorder.errors[0]?.error).toBeInstanceOf(ParseError);
    expect(recorder.errors[0]?.context).toEqual({ phase: 'read', path });

    // The same broken bytes again: read, but not reported again.
    const opens = seam.opens;
    await atomicWrite(path, '{"v": 2,');
    await eventually(() => seam.opens > opens, 'a re-read of the same broken bytes');
    await fs.writeFile(path, '{"__proto__": {"polluted": 1}}');
    await recorder.errorCount(2);
    expect(recorder.errors[1]?.error).toBeInstanceOf(UnsafeKeyError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    await fs.writeFile(path, json({ v: 3 }));
    await recorder.changeCount(1);
    expect(recorder.configs).toEqual([{ v: 3 }]);
    expect(recorder.errors).toHaveLength(2);
  });

  it('delivers the last good content again once a reported failure ends, so the consumer learns the file recovered', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const { recorder } = await start(path, { retries: 0 });
    await fs.writeFile(path, '{');
    await recorder.errorCount(1);
    await atomicWrite(path, json({ v: 1 }));
    await recorder.changeCount(1);
    expect(recorder.changes[0]).toEqual({ config: { v: 1 }, digest: sha256(json({ v: 1 })), path });
  });

  it('does not deliver the last good content again when a failure ended before it was reported', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const { recorder, seam } = await start(path, { retries: 1000 });
    await fs.truncate(path, 0);
    await eventually(() => seam.sizes.includes(0), 'a read of the empty file');
    const opens = seam.opens;
    await fs.writeFile(path, json({ v: 1 }));
    await eventually(() => seam.opens > opens, 'a read of the restored file');
    await fs.writeFile(path, json({ v: 2 }));
    await recorder.changeCount(1);
    expect(recorder.configs).toEqual([{ v: 2 }]);
    expect(recorder.errors).toEqual([]);
  });

  it('reports a file missing at start once, then fires when it appears', async () => {
    const { watcher, recorder } = await start(path, { retries: 1 });
    await recorder.errorCount(1);
    expect(recorder.errors[0]?.error).toBeInstanceOf(ConfigFileError);
    expect((recorder.errors[0]?.error as ConfigFileError).code).toBe('ERR_FILE_NOT_FOUND');
    expect(watcher.lastError).toBe(recorder.errors[0]?.error);
    await fs.writeFile(path, json({ v: 1 }));
    await recorder.changeCount(1);
    expect(recorder.configs).toEqual([{ v: 1 }]);
    expect(recorder.errors).toHaveLength(1);
  });

  it('routes a throwing onChange, sync or async, to onError', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const errors: { error: unknown; phase: string }[] = [];
    const syncFailure = new Error('sync');
    const asyncFailure = new Error('async');
    const failures = [syncFailure, asyncFailure];
    let calls = 0;
    const watcher = watchConfigFile(
      path,
      () => {
        if (++calls === 1) throw syncFailure;
        return Promise.reject(asyncFailure);
      },
      { debounceMs: 25, pollMs: 0, onError: (error, { phase }) => errors.push({ error, phase }) },
    );
    watchers.push(watcher as ConfigWatcher<unknown>);
    await watcher.ready;
    await fs.writeFile(path, json({ v: 2 }));
    await eventually(() => errors.length === 1, 'the sync failure');
    await fs.writeFile(path, json({ v: 3 }));
    await eventually(() => errors.length === 2, 'the async failure');
    expect(errors).toEqual([
      { error: failures[0], phase: 'change' },
      { error: failures[1], phase: 'change' },
    ]);
    expect(watcher.lastError).toBe(failures[1]);
  });

  it('keeps watching when onError itself throws', async () => {
    await fs.writeFile(path, '{');
    const recorder = new WatchRecorder();
    let thrown = 0;
    const watcher = watchConfigFile(path, recorder.onChange, {
      debounceMs: 10,
      retries: 0,
      pollMs: 0,
      onError: () => {
        thrown++;
        throw new Error('onError bug');
      },
    });
    watchers.push(watcher as ConfigWatcher<unknown>);
    await watcher.ready;
    await eventually(() => thrown === 1, 'onError to be called');
    await fs.writeFile(path, json({ v: 1 }));
    await recorder.changeCount(1);
    expect(recorder.configs).toEqual([{ v: 1 }]);
  });

  it('records failures in lastError without an onError', async () => {
    await fs.writeFile(path, '[]');
    const watcher = watchConfigFile(path, () => undefined, { debounceMs: 10, retries: 0, pollMs: 0 });
    watchers.push(watcher as ConfigWatcher<unknown>);
    await watcher.ready;
    await eventually(() => watcher.lastError !== undefined, 'the error to be recorded');
    expect(watcher.lastError).toBeInstanceOf(ParseError);
  });

  it('throws ERR_FILE_NOT_FOUND when the directory does not exist', () => {
    let error: unknown;
    try {
      watchConfigFile(join(dir, 'no-such-dir', 'config.json'), () => undefined);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigFileError);
    expect((error as ConfigFileError).code).toBe('ERR_FILE_NOT_FOUND');
  });

  it.each([
    ['debounceMs', { debounceMs: -1 }],
    ['maxWaitMs', { maxWaitMs: Number.NaN }],
    ['pollMs', { pollMs: Number.POSITIVE_INFINITY }],
    ['retries', { retries: -1 }],
    ['retries', { retries: 1.5 }],
    ['read.maxBytes', { read: { maxBytes: -1 } }],
    ['read.maxDepth', { read: { maxDepth: 0 } }],
  ])('refuses a bad %s (%o) with ERR_ARGUMENT naming it, watching nothing', (argument, options) => {
    let error: unknown;
    try {
      watchers.push(watchConfigFile<unknown>(path, () => undefined, options));
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error).toMatchObject({ code: 'ERR_ARGUMENT', argument });
  });

  it('refuses an onChange that is not a function, or an empty path, with ERR_ARGUMENT', () => {
    expect(() => watchConfigFile(path, undefined as unknown as () => void)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT', argument: 'onChange' }));
    expect(() => watchConfigFile('', () => undefined)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT', argument: 'path' }));
  });
});

describe('watchConfigFile: closing', () => {
  it('calls nothing after close(), and close() is idempotent', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const { watcher, recorder, seam } = await start(path);
    await watcher.close();
    await watcher.close();
    expect(watcher.closed).toBe(true);
    const opens = seam.opens;
    await fs.writeFile(path, json({ v: 2 }));
    // A second watcher on the same file proves the write raised events by now.
    const { recorder: other } = await start(path, { emitInitial: true });
    await fs.writeFile(path, json({ v: 3 }));
    await other.changeCount(2);
    expect(recorder.changes).toEqual([]);
    expect(seam.opens).toBe(opens);
  });

  it('closes with `using`', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    let closed: ConfigWatcher | undefined;
    {
      using watcher = watchConfigFile(path, () => undefined, { pollMs: 0 });
      closed = watcher;
    }
    expect(closed.closed).toBe(true);
    await closed.close();
  });

  it('closes with `await using`, after the read in flight has closed its file', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    let releaseRead: (() => void) | undefined;
    const seam = countingFs({
      read: async (fd, buffer, offset, length, position) => {
        // Hold the baseline read open until the test releases it.
        await new Promise<void>((resolve) => (releaseRead = resolve));
        return readFd(fd, buffer, offset, length, position);
      },
    });
    let closing: Promise<void> | undefined;
    {
      await using watcher = watchConfigFile(path, () => undefined, { pollMs: 0, read: { fs: seam } });
      await eventually(() => releaseRead !== undefined, 'the read to start');
      expect(seam.openFiles).toBe(1);
      // Leaving the block closes the watcher; release the read a moment later.
      closing = watcher.ready;
      setTimeout(() => releaseRead?.(), 20);
    }
    expect(seam.openFiles).toBe(0);
    await closing;
  });

  it('lets the process exit on its own once closed (built package, child process)', async () => {
    await fs.writeFile(path, json({ v: 1 }));
    const script = fileURLToPath(new URL('../helpers/watch-then-close.js', import.meta.url));
    const child = spawn(process.execPath, [script, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once('data', () => {
      // The child is watching: change the file, so a debounce timer and a read are in play.
      void fs.writeFile(path, json({ v: 2 }));
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`child did not exit on its own; stdout: ${stdout} stderr: ${stderr}`));
      }, 15_000);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.split('\n').filter(Boolean)).toEqual(['watching', 'changed {"v":2}', 'closed']);
  });
});
