import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, ConfigFileError, ParseError, UnsafeKeyError } from '../../src/errors.js';
import type { FileStats, FileSystem } from '../../src/file-system.js';
import { parseConfigText, readConfigFile } from '../../src/sources/read-config-file.js';
import { countingFs, openFd } from '../helpers/counting-fs.js';
import { rejection } from '../helpers/rejection.js';
import { errnoError } from '../helpers/errno-error.js';

const hostileDir = fileURLToPath(new URL('../fixtures/hostile/', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'txconfig-read-config-file-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

let counter = 0;
async function writeTemp(content: string | Uint8Array): Promise<string> {
  const path = join(dir, `file-${++counter}.json`);
  await fs.writeFile(path, content);
  return path;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function expectFileError(error: unknown, code: string, path: string): void {
  expect(error).toBeInstanceOf(ConfigFileError);
  expect((error as ConfigFileError).code).toBe(code);
  expect((error as ConfigFileError).path).toBe(path);
}

type Kind = 'directory' | 'fifo' | 'socket' | 'character device' | 'block device' | 'unknown';

/** What fstat reports for a file of `kind`: anything but a regular file. */
function statsOf(kind: Kind): FileStats {
  return {
    size: 0,
    mode: 0,
    dev: 0,
    ino: 0,
    isFile: () => false,
    isDirectory: () => kind === 'directory',
    isSymbolicLink: () => false,
    isFIFO: () => kind === 'fifo',
    isSocket: () => kind === 'socket',
    isCharacterDevice: () => kind === 'character device',
    isBlockDevice: () => kind === 'block device',
  };
}

/** A seam whose file opens, is of an unknown type, and must never be read. */
function fakeFs(overrides: Partial<FileSystem>): Partial<FileSystem> {
  return {
    open: () => Promise.resolve(3),
    fstat: () => Promise.resolve(statsOf('unknown')),
    read: () => Promise.reject(new Error('must not read')),
    close: () => Promise.resolve(),
    ...overrides,
  };
}

function expectParseError(error: unknown, line?: number, column?: number): void {
  expect(error).toBeInstanceOf(ParseError);
  expect((error as ParseError).code).toBe('ERR_PARSE');
  if (line !== undefined) expect((error as ParseError).line).toBe(line);
  if (column !== undefined) expect((error as ParseError).column).toBe(column);
}

describe('readConfigFile: content', () => {
  it('reads a JSON object into plain objects and arrays equal to JSON.parse', async () => {
    const text = JSON.stringify({
      'default-runtime': 'runc',
      runtimes: { 'debug-runc': { path: '/usr/bin/runc', runtimeArgs: ['--debug', '--log', '/var/log/a b.log'] } },
      n: [0, -0, 1.5, -2e-3, 1e21, 2 ** 64, true, false, null],
      s: 'é \u2028 😀 "q" \\ / \n\t',
      empty: {},
      none: [],
    });
    const config = await readConfigFile(await writeTemp(text));
    expect(config).toEqual(JSON.parse(text));
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(config.runtimes)).toBe(Object.prototype);
    expect(Array.isArray(config.n)).toBe(true);
    // Members are ordinary: writable, enumerable, configurable.
    expect(Object.getOwnPropertyDescriptor(config, 'n')).toMatchObject({ writable: true, enumerable: true, configurable: true });
  });

  it('skips one UTF-8 BOM, and rejects a second one as a parse error', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(await readConfigFile(await writeTemp(Buffer.concat([bom, Buffer.from('{"a":1}')])))).toEqual({ a: 1 });
    const error = await rejection(readConfigFile(await writeTemp(Buffer.concat([bom, bom, Buffer.from('{"a":1}')]))));
    expectParseError(error, 1, 1);
  });

  it.each([
    ['a lone continuation byte', [0x7b, 0x80, 0x7d]],
    ['an invalid byte 0xff', [0x7b, 0x22, 0xff, 0x22, 0x7d]],
    ['an overlong encoding of "/"', [0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x7d]],
    ['an encoded UTF-16 surrogate', [0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]],
    ['a truncated multi-byte sequence', [0x7b, 0x22, 0xe2, 0x82]],
    ['Latin-1 text', [...Buffer.from('{"name":"caf'), 0xe9, ...Buffer.from('"}')]],
  ])('rejects %s as ERR_FILE_ENCODING', async (_name, bytes) => {
    const path = await writeTemp(Uint8Array.from(bytes));
    const error = await rejection(readConfigFile(path));
    expectFileError(error, 'ERR_FILE_ENCODING', path);
    expect((error as ConfigFileError).cause).toBeDefined();
  });

  it.each([
    ['empty', ''],
    ['whitespace only', ' \n\t\r\n '],
    ['a BOM only', '\ufeff'],
  ])('rejects an %s file as ERR_PARSE, never as an empty config', async (_name, text) => {
    const path = await writeTemp(text);
    const error = await rejection(readConfigFile(path));
    expectParseError(error);
    expect((error as ParseError).path).toBe(path);
  });

  it('reports line and column of a syntax error', async () => {
    const path = await writeTemp('{\n  "a": 1,\n  "b": [1, 2,],\n}');
    expectParseError(await rejection(readConfigFile(path)), 3, 14);
  });
});

describe('readConfigFile: what it refuses to read', () => {
  it('refuses a file over maxBytes from its size, without reading it', async () => {
    const path = join(dir, 'sparse.json');
    // A sparse 17 MiB file: over the default 16 MiB limit, costs no disk.
    await fs.writeFile(path, '');
    await fs.truncate(path, 17 * 1024 * 1024);
    const seam = countingFs();
    const error = await rejection(readConfigFile(path, { fs: seam }));
    expectFileError(error, 'ERR_FILE_TOO_LARGE', path);
    expect(seam.bytesRead).toBe(0);
    expect(seam.openFiles).toBe(0);
  });

  it('accepts a file of exactly maxBytes and refuses one byte more', async () => {
    const text = '{"a":"xyz"}';
    expect(await readConfigFile(await writeTemp(text), { maxBytes: text.length })).toEqual({ a: 'xyz' });
    const path = await writeTemp(text + ' ');
    expectFileError(await rejection(readConfigFile(path, { maxBytes: text.length })), 'ERR_FILE_TOO_LARGE', path);
  });

  it('stops at maxBytes + 1 when the file grows while it is read', async () => {
    const path = await writeTemp('{}');
    // fstat says 2 bytes; the "file" then yields data without end, like a growing log.
    const seam = countingFs({
      read: (_fd, buffer, offset, length) => {
        buffer.fill(0x20, offset, offset + length);
        return Promise.resolve({ bytesRead: length });
      },
    });
    const error = await rejection(readConfigFile(path, { maxBytes: 100_000, fs: seam }));
    expectFileError(error, 'ERR_FILE_TOO_LARGE', path);
    expect(seam.bytesRead).toBe(100_001);
    expect(seam.openFiles).toBe(0);
  });

  it('refuses a directory as ERR_FILE_TYPE', async () => {
    expectFileError(await rejection(readConfigFile(dir)), 'ERR_FILE_TYPE', dir);
  });

  it('refuses a FIFO as ERR_FILE_TYPE without waiting for a writer', async () => {
    const path = join(dir, 'fifo.json');
    execFileSync('mkfifo', [path]);
    const seam = countingFs();
    expectFileError(await rejection(readConfigFile(path, { fs: seam })), 'ERR_FILE_TYPE', path);
    expect(seam.bytesRead).toBe(0);
    expect(seam.openFiles).toBe(0);
  });

  it('refuses /dev/zero (a character device) as ERR_FILE_TYPE without reading', async () => {
    const seam = countingFs();
    expectFileError(await rejection(readConfigFile('/dev/zero', { fs: seam })), 'ERR_FILE_TYPE', '/dev/zero');
    expect(seam.bytesRead).toBe(0);
  });

  it('refuses a Unix socket as ERR_FILE_TYPE', async () => {
    const path = join(dir, 'socket.json');
    const server: Server = createServer();
    await new Promise<void>((res) => server.listen(path, res));
    try {
      expectFileError(await rejection(readConfigFile(path)), 'ERR_FILE_TYPE', path);
    } finally {
      await new Promise((res) => server.close(res));
    }
  });

  it.each<Kind>(['directory', 'fifo', 'socket', 'character device', 'block device', 'unknown'])(
    'refuses a %s that fstat reports as ERR_FILE_TYPE without reading',
    async (kind) => {
      const error = await rejection(readConfigFile('/config.json', { fs: fakeFs({ fstat: () => Promise.resolve(statsOf(kind)) }) }));
      expectFileError(error, 'ERR_FILE_TYPE', '/config.json');
    },
  );

  it('reports ENXIO from open (a socket or device) as ERR_FILE_TYPE with the cause', async () => {
    const cause = errnoError('ENXIO');
    const error = await rejection(readConfigFile('/config.json', { fs: fakeFs({ open: () => Promise.reject(cause) }) }));
    expectFileError(error, 'ERR_FILE_TYPE', '/config.json');
    expect((error as ConfigFileError).cause).toBe(cause);
  });

  it('reports an open failure without an errno code as ERR_FILE_ACCESS, keeping the cause', async () => {
    const cause = new Error('no code at all');
    const error = await rejection(readConfigFile('/config.json', { fs: fakeFs({ open: () => Promise.reject(cause) }) }));
    expectFileError(error, 'ERR_FILE_ACCESS', '/config.json');
    expect((error as ConfigFileError).cause).toBe(cause);
  });

  it('reports a missing file as ERR_FILE_NOT_FOUND with the cause', async () => {
    const path = join(dir, 'missing.json');
    const error = await rejection(readConfigFile(path));
    expectFileError(error, 'ERR_FILE_NOT_FOUND', path);
    expect(((error as ConfigFileError).cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('reports a path through a regular file (ENOTDIR) as ERR_FILE_NOT_FOUND', async () => {
    const path = join(await writeTemp('{}'), 'config.json');
    expectFileError(await rejection(readConfigFile(path)), 'ERR_FILE_NOT_FOUND', path);
  });

  it('reports a dangling symlink as ERR_FILE_NOT_FOUND and follows a good one', async () => {
    const dangling = join(dir, 'dangling.json');
    await fs.symlink(join(dir, 'nowhere.json'), dangling);
    expectFileError(await rejection(readConfigFile(dangling)), 'ERR_FILE_NOT_FOUND', dangling);
    const link = join(dir, 'link.json');
    await fs.symlink(await writeTemp('{"via":"link"}'), link);
    expect(await readConfigFile(link)).toEqual({ via: 'link' });
  });

  it('reports a symlink loop as ERR_FILE_TYPE with the ELOOP cause', async () => {
    const a = join(dir, 'loop-a.json');
    const b = join(dir, 'loop-b.json');
    await fs.symlink(b, a);
    await fs.symlink(a, b);
    const error = await rejection(readConfigFile(a));
    expectFileError(error, 'ERR_FILE_TYPE', a);
    expect(((error as ConfigFileError).cause as NodeJS.ErrnoException).code).toBe('ELOOP');
  });

  it.each(['EACCES', 'EPERM'])('reports %s from open as ERR_FILE_ACCESS with the cause', async (code) => {
    const path = await writeTemp('{}');
    const cause = errnoError(code);
    const error = await rejection(readConfigFile(path, { fs: countingFs({ open: () => Promise.reject(cause) }) }));
    expectFileError(error, 'ERR_FILE_ACCESS', path);
    expect((error as ConfigFileError).cause).toBe(cause);
  });

  it('reports an I/O error while reading as ERR_FILE_ACCESS and still closes the file', async () => {
    const path = await writeTemp('{}');
    const cause = errnoError('EIO');
    const seam = countingFs({ read: () => Promise.reject(cause) });
    const error = await rejection(readConfigFile(path, { fs: seam }));
    expectFileError(error, 'ERR_FILE_ACCESS', path);
    expect((error as ConfigFileError).cause).toBe(cause);
    expect(seam.openFiles).toBe(0);
  });

  it('reports a failing fstat as ERR_FILE_ACCESS and closes the file', async () => {
    const path = await writeTemp('{}');
    const seam = countingFs({ fstat: () => Promise.reject(errnoError('EIO')) });
    expectFileError(await rejection(readConfigFile(path, { fs: seam })), 'ERR_FILE_ACCESS', path);
    expect(seam.openFiles).toBe(0);
  });

  it('still returns the config when closing the file fails afterwards', async () => {
    const path = await writeTemp('{"a":1}');
    const seam = countingFs({ close: () => Promise.reject(errnoError('EIO')) });
    expect(await readConfigFile(path, { fs: seam })).toEqual({ a: 1 });
  });

  it('reads a chmod 000 file only with the privilege to (root), else ERR_FILE_ACCESS', async () => {
    const path = await writeTemp('{"secret":1}');
    await fs.chmod(path, 0o000);
    // Root bypasses permission bits; the seam tests above cover EACCES in every run.
    if (process.getuid?.() === 0) {
      expect(await readConfigFile(path)).toEqual({ secret: 1 });
    } else {
      expectFileError(await rejection(readConfigFile(path)), 'ERR_FILE_ACCESS', path);
    }
  });

  it('opens without blocking and without acquiring a terminal', async () => {
    const path = await writeTemp('{}');
    const flags: number[] = [];
    await readConfigFile(path, {
      fs: countingFs({
        open: (p, f) => {
          flags.push(f);
          return openFd(p, f);
        },
      }),
    });
    expect(flags).toHaveLength(1);
    expect((flags[0]! & constants.O_NONBLOCK) !== 0).toBe(true);
    expect((flags[0]! & constants.O_NOCTTY) !== 0).toBe(true);
    expect(flags[0]! & (constants.O_WRONLY | constants.O_RDWR)).toBe(0);
  });

  it('rejects with the abort reason and opens nothing when the signal is aborted', async () => {
    const path = await writeTemp('{}');
    const seam = countingFs();
    const reason = new Error('stop');
    expect(await rejection(readConfigFile(path, { fs: seam, signal: AbortSignal.abort(reason) }))).toBe(reason);
    expect(seam.bytesRead).toBe(0);
  });

  it.each([
    ['maxBytes', { maxBytes: -1 }],
    ['maxBytes', { maxBytes: 1.5 }],
    ['maxBytes', { maxBytes: Number.NaN }],
    ['maxDepth', { maxDepth: 0 }],
    ['maxDepth', { maxDepth: Number.POSITIVE_INFINITY }],
  ])('refuses a nonsensical %s (%o) with ERR_ARGUMENT naming it, opening nothing', async (argument, options) => {
    const path = await writeTemp('{}');
    const seam = countingFs();
    const error = await rejection(readConfigFile(path, { ...options, fs: seam }));
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error).toMatchObject({ code: 'ERR_ARGUMENT', argument });
    expect(seam.opens).toBe(0);
  });

  it('refuses a path that is not a non-empty string with ERR_ARGUMENT', async () => {
    for (const path of ['', 42 as unknown as string, undefined as unknown as string]) {
      expect(await rejection(readConfigFile(path))).toMatchObject({ code: 'ERR_ARGUMENT', argument: 'path' });
    }
  });
});

describe('readConfigFile: prototype-pollution payloads', () => {
  const snapshot = Object.getOwnPropertyNames(Object.prototype).sort();
  afterEach(() => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(snapshot);
  });

  it.each([
    ['proto-top-level.json', '__proto__', '', 3, 3],
    ['proto-nested.json', '__proto__', '/server/tls', 4, 7],
    ['constructor-prototype.json', 'constructor', '', 2, 3],
    ['constructor-prototype-nested.json', 'constructor', '/a/b', 3, 5],
    ['prototype-key.json', 'prototype', '/limits', 1, 15],
    ['proto-in-array.json', '__proto__', '/runtimes/1', 4, 7],
    ['constructor-in-nested-array.json', 'constructor', '/list/0/1', 1, 16],
    ['proto-escaped.json', '__proto__', '', 2, 3],
    ['proto-key-with-slash-pointer.json', '__proto__', '/a~1b/c~0d', 2, 21],
    ['proto-null-value.json', '__proto__', '', 1, 2],
  ])('refuses %s with ERR_UNSAFE_KEY, key, pointer and position', async (file, key, pointer, line, column) => {
    const path = join(hostileDir, file);
    const error = await rejection(readConfigFile(path));
    expect(error).toBeInstanceOf(UnsafeKeyError);
    expect(error).toBeInstanceOf(ConfigFileError);
    expect(error).toMatchObject({ code: 'ERR_UNSAFE_KEY', path, key, pointer, line, column });
  });

  it('never runs a setter that someone else put on Object.prototype', () => {
    let calls = 0;
    Object.defineProperty(Object.prototype, 'trap', {
      configurable: true,
      set() {
        calls++;
      },
    });
    try {
      const config = parseConfigText('{"trap": {"x": 1}}');
      expect(calls).toBe(0);
      expect(Object.getOwnPropertyDescriptor(config, 'trap')?.value).toEqual({ x: 1 });
    } finally {
      delete (Object.prototype as Record<string, unknown>).trap;
    }
  });
});

describe('parseConfigText', () => {
  it('applies the same checks and names the source in errors', () => {
    const error = thrown(() => parseConfigText('{"a": }', { source: 'MYDAEMON_CONFIG' }));
    expectParseError(error, 1, 7);
    expect((error as ParseError).path).toBe('MYDAEMON_CONFIG');
    expect((thrown(() => parseConfigText('[]')) as ParseError).path).toBe('<text>');
    expect(thrown(() => parseConfigText('{"x":{"prototype":1}}'))).toBeInstanceOf(UnsafeKeyError);
    expect(parseConfigText('\ufeff{"a":[]}')).toEqual({ a: [] });
  });

  it('refuses a maxDepth below 1, or text that is not a string, with ERR_ARGUMENT', () => {
    expect(thrown(() => parseConfigText('{}', { maxDepth: 0 }))).toMatchObject({ code: 'ERR_ARGUMENT', argument: 'maxDepth' });
    expect(thrown(() => parseConfigText(Buffer.from('{}') as unknown as string))).toMatchObject({ code: 'ERR_ARGUMENT', argument: 'text' });
  });
});
