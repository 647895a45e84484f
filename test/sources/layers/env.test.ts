import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArgumentError, ConfigFileError, ConflictError, UnsafeKeyError } from '../../../src/errors.js';
import { env, type EnvOptions } from '../../../src/sources/layers/env.js';
import type { ConfigSource, SourceReading } from '../../../src/store/config-source.js';
import { rejection, thrownBy } from '../../helpers/rejection.js';
import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.js';
import { eventually } from '../../helpers/watch-recorder.js';

const signal = new AbortController().signal;

function read(source: ConfigSource): Promise<SourceReading> {
  return source.read({ signal });
}

/** Reads an env layer over `environment` with the prefix `APP_`, unless `options` says otherwise. */
function readEnv(environment: Record<string, string | undefined>, options: Omit<EnvOptions, 'environment'> = { prefix: 'APP_' }): Promise<SourceReading> {
  return read(env({ ...options, environment }));
}

const prototypeKeys = (): string[] => Object.getOwnPropertyNames(Object.prototype).sort();
const cleanPrototype = prototypeKeys();

describe('env: names to paths', () => {
  it('takes APP_SERVER__PORT as the text at /server/port', async () => {
    const reading = await readEnv({ APP_SERVER__PORT: '9090', APP_DEBUG: 'true' }, { prefix: 'APP_', separator: '__' });
    expect(reading.value).toEqual({ server: { port: '9090' }, debug: 'true' });
  });

  it('splits at "__" by default, lowercases every segment and keeps single underscores', async () => {
    const reading = await readEnv({ APP_DB__MAX_CONN: '5', APP_Mixed__Case: 'x' });
    expect(reading.value).toEqual({ db: { max_conn: '5' }, mixed: { case: 'x' } });
  });

  it('splits at the separator given', async () => {
    const reading = await readEnv({ APP_SERVER_PORT: '1', 'APP_A.B': '2' }, { prefix: 'APP_', separator: '_' });
    expect(reading.value).toEqual({ server: { port: '1' }, 'a.b': '2' });
  });

  it('takes only names that start with the prefix, case-sensitively', async () => {
    const reading = await readEnv({ APP_X: '1', app_y: '2', OTHER: '3', APPX: '4', PATH: '/bin' });
    expect(reading.value).toEqual({ x: '1' });
  });

  it('keeps an empty value as the empty text and skips undefined ones', async () => {
    const reading = await readEnv({ APP_EMPTY: '', APP_UNSET: undefined });
    expect(reading.value).toEqual({ empty: '' });
  });

  it('maps names to JSON Pointers: camelCase keys, keys with dots or slashes, names without the prefix', async () => {
    const map = { APP_MAX_CONN: '/server/maxConnections', PORT: '/server/port', LOG_FILE: '/log/a.b~1c' };
    const reading = await readEnv({ APP_MAX_CONN: '10', PORT: '80', LOG_FILE: 'x', UNRELATED: 'y' }, { prefix: 'APP_', map });
    expect(reading.value).toEqual({ server: { maxConnections: '10', port: '80' }, log: { 'a.b/c': 'x' } });
  });

  it('without a prefix takes only the mapped names, never the whole environment', async () => {
    const reading = await readEnv({ PORT: '80', APP_X: '1', HOME: '/root' }, { map: { PORT: '/port' } });
    expect(reading.value).toEqual({ port: '80' });
  });

  it('builds the config in name order, whatever the order of the environment', async () => {
    const reading = await readEnv({ APP_B: '1', APP_A: '2', APP_C__X: '3' });
    expect(Object.keys(reading.value as object)).toEqual(['a', 'b', 'c']);
  });

  it('is named env, or env:PREFIX', () => {
    expect(env({ prefix: 'APP_' }).name).toBe('env:APP_');
    expect(env({ map: { PORT: '/port' } }).name).toBe('env');
  });

  it('reads the environment again on every read', async () => {
    const environment: Record<string, string | undefined> = { APP_PORT: '1' };
    const source = env({ prefix: 'APP_', environment });
    expect((await read(source)).value).toEqual({ port: '1' });
    environment.APP_PORT = '2';
    environment.APP_HOST = 'h';
    expect((await read(source)).value).toEqual({ port: '2', host: 'h' });
  });

  it('reads process.env by default', async () => {
    process.env.TXCONFIG_ENV_TEST_SERVER__PORT = '7';
    try {
      expect((await read(env({ prefix: 'TXCONFIG_ENV_TEST_' }))).value).toEqual({ server: { port: '7' } });
    } finally {
      delete process.env.TXCONFIG_ENV_TEST_SERVER__PORT;
    }
  });

  it('rejects with the reason of an aborted signal', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    controller.abort(reason);
    expect(await rejection(env({ prefix: 'APP_', environment: {} }).read({ signal: controller.signal }))).toBe(reason);
  });
});

describe('env: origins', () => {
  it('explains a variable as the env layer, the variable, nothing shadowed; and lists every text', async () => {
    const reading = await readEnv({ APP_SERVER__PORT: '9090', APP_SERVER__HOST: 'h', APP_DEBUG: 'true' });
    expect(reading.origins?.explain('/server/port')).toEqual({ layer: 'env', origin: { env: 'APP_SERVER__PORT' }, shadowed: [] });
    expect(reading.origins?.explain('/server')).toEqual({ layer: 'env', origin: {}, shadowed: [] });
    expect(reading.origins?.explain('/nope')).toBeUndefined();
    expect(reading.origins?.explain('server/port')).toBeUndefined();
    expect(reading.origins?.texts).toEqual(['/debug', '/server/host', '/server/port']);
  });

  it('explains a path below a variable (a JSON text the store turns into an object) by the variable', async () => {
    const reading = await readEnv({ APP_LIMITS: '{"a":1}' });
    expect(reading.origins?.explain('/limits/a')).toEqual({ layer: 'env', origin: { env: 'APP_LIMITS' }, shadowed: [] });
  });
});

describe('env: bad options', () => {
  const cases: [string, unknown, string][] = [
    ['options that are not an object', null, 'options'],
    ['a prefix that is empty', { prefix: '' }, 'prefix'],
    ['a prefix that is not a string', { prefix: 1 }, 'prefix'],
    ['an empty separator', { prefix: 'APP_', separator: '' }, 'separator'],
    ['an empty file name', { prefix: 'APP_', file: '' }, 'file'],
    ['optional that is not a boolean', { prefix: 'APP_', file: '.env', optional: 'yes' }, 'optional'],
    ['optional without a file', { prefix: 'APP_', optional: true }, 'optional'],
    ['an environment that is not an object', { prefix: 'APP_', environment: 'A=1' }, 'environment'],
    ['a map that is not an object', { map: [['PORT', '/port']] }, 'map'],
    ['a map value in dotted form', { map: { PORT: 'server.port' } }, 'map.PORT'],
    ['a map value that is the root', { map: { PORT: '' } }, 'map.PORT'],
    ['a map value with a bad escape', { map: { PORT: '/a~2' } }, 'map.PORT'],
    ['a map value that is not a string', { map: { PORT: 1 } }, 'map.PORT'],
    ['an empty name in the map', { map: { '': '/port' } }, 'map.'],
    ['neither a prefix nor a map', {}, 'prefix'],
    ['no prefix and an empty map', { map: {} }, 'prefix'],
  ];
  it.each(cases)('refuses %s with ArgumentError naming it', (_, options, argument) => {
    const error = thrownBy(() => env(options as EnvOptions));
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error).toMatchObject({ code: 'ERR_ARGUMENT', argument });
  });

  it('refuses a map pointer through an unsafe key with UnsafeKeyError', () => {
    for (const pointer of ['/__proto__/x', '/a/constructor', '/prototype']) {
      const error = thrownBy(() => env({ map: { X: pointer } }));
      expect(error).toBeInstanceOf(UnsafeKeyError);
      expect(error).toMatchObject({ code: 'ERR_UNSAFE_KEY', path: 'map.X' });
    }
    expect((thrownBy(() => env({ map: { X: '/a/constructor' } })) as UnsafeKeyError).pointer).toBe('/a');
  });

  it('refuses a value of the environment that is not a string, when read', async () => {
    const error = await rejection(read(env({ prefix: 'APP_', environment: { APP_X: 1 } as unknown as Record<string, string> })));
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error).toMatchObject({ code: 'ERR_ARGUMENT', argument: 'environment.APP_X' });
  });
});

describe('env: bad names, when read', () => {
  it.each([
    ['two separators in a row', 'APP_A____B'],
    ['a name that is only the prefix', 'APP_'],
    ['a separator right after the prefix', 'APP___X'],
    ['a separator at the end', 'APP_X__'],
  ])('refuses %s with ConfigFileError ERR_PARSE naming the variable', async (_, name) => {
    const error = await rejection(readEnv({ [name]: '1' }));
    expect(error).toBeInstanceOf(ConfigFileError);
    expect(error).toMatchObject({ code: 'ERR_PARSE', path: `env ${name}` });
  });

  it.each([
    ['APP_CONSTRUCTOR', '__', 'constructor', ''],
    ['APP_A__PROTOTYPE', '__', 'prototype', '/a'],
    ['APP___proto__', '.', '__proto__', ''],
    ['APP_X.__PROTO__.Y', '.', '__proto__', '/x'],
  ])('refuses %s (separator %s) with UnsafeKeyError, and Object.prototype stays clean', async (name, separator, key, pointer) => {
    const error = await rejection(readEnv({ [name]: '{"polluted":true}' }, { prefix: 'APP_', separator }));
    expect(error).toBeInstanceOf(UnsafeKeyError);
    expect(error).toMatchObject({ code: 'ERR_UNSAFE_KEY', path: `env ${name}`, key, pointer });
    expect(prototypeKeys()).toEqual(cleanPrototype);
  });

  it('refuses a variable and one below it with ConflictError naming both', async () => {
    const error = await rejection(readEnv({ APP_SERVER: 'x', APP_SERVER__PORT: '1' }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'ERR_CONFLICT' });
    const origins = (error as ConflictError).sides.map((side) => side.origin.env).sort();
    expect(origins).toEqual(['APP_SERVER', 'APP_SERVER__PORT']);
  });

  it('refuses a mapped name and a prefixed one that set the same path', async () => {
    const error = await rejection(readEnv({ PORT: '1', APP_SERVER__PORT: '2' }, { prefix: 'APP_', map: { PORT: '/server/port' } }));
    expect(error).toMatchObject({ code: 'ERR_CONFLICT', pointer: '/server/port' });
  });

  it('takes a mapped name only through the map, even when it starts with the prefix', async () => {
    const reading = await readEnv({ APP_A____B: '1' }, { prefix: 'APP_', map: { APP_A____B: '/ab' } });
    expect(reading.value).toEqual({ ab: '1' });
  });
});

describe('env: the .env file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('txconfig-env-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  async function dotenv(content: string | Uint8Array, name = '.env'): Promise<string> {
    const path = join(dir, name);
    await fs.writeFile(path, content);
    return path;
  }

  it("takes the file's entries the prefix or map names, with the file and line in their origin", async () => {
    const file = await dotenv('# comment\nAPP_SERVER__PORT=9090\nexport APP_DEBUG=true\nOTHER_TOOL=x\nHOST="h"\n');
    const reading = await read(env({ prefix: 'APP_', map: { HOST: '/server/host' }, file, environment: {} }));
    expect(reading.value).toEqual({ server: { port: '9090', host: 'h' }, debug: 'true' });
    expect(reading.origins?.explain('/server/port')).toEqual({ layer: 'env', origin: { env: 'APP_SERVER__PORT', file, line: 2 }, shadowed: [] });
    expect(reading.origins?.explain('/debug')?.origin).toEqual({ env: 'APP_DEBUG', file, line: 3 });
    expect([...(reading.origins?.texts ?? [])].sort()).toEqual(['/debug', '/server/host', '/server/port']);
  });

  it('lets the real environment win over the file', async () => {
    const file = await dotenv('APP_PORT=1\nAPP_HOST=file-host\n');
    const reading = await read(env({ prefix: 'APP_', file, environment: { APP_PORT: '2' } }));
    expect(reading.value).toEqual({ port: '2', host: 'file-host' });
    expect(reading.origins?.explain('/port')?.origin).toEqual({ env: 'APP_PORT' });
  });

  it('takes the file entry when the environment has the name unset', async () => {
    const file = await dotenv('APP_PORT=1\n');
    expect((await read(env({ prefix: 'APP_', file, environment: { APP_PORT: undefined } }))).value).toEqual({ port: '1' });
  });

  it('gives no line for a name defined on two lines (the last one wins, as Node parses it)', async () => {
    const file = await dotenv('APP_PORT=1\nAPP_PORT=2\n');
    const reading = await read(env({ prefix: 'APP_', file, environment: {} }));
    expect(reading.value).toEqual({ port: '2' });
    expect(reading.origins?.explain('/port')?.origin).toEqual({ env: 'APP_PORT', file });
  });

  it('skips a byte order mark', async () => {
    const file = await dotenv('\ufeffAPP_PORT=1\n');
    expect((await read(env({ prefix: 'APP_', file, environment: {} }))).value).toEqual({ port: '1' });
  });

  it('reads the file again on every read', async () => {
    const file = await dotenv('APP_PORT=1\n');
    const source = env({ prefix: 'APP_', file, environment: {} });
    expect((await read(source)).value).toEqual({ port: '1' });
    await fs.writeFile(file, 'APP_PORT=2\n');
    expect((await read(source)).value).toEqual({ port: '2' });
  });

  it('refuses a collision between the environment and the file', async () => {
    const file = await dotenv('APP_SERVER__PORT=1\n');
    const error = await rejection(read(env({ prefix: 'APP_', file, environment: { APP_SERVER: 'x' } })));
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).sides.map((side) => side.origin.file)).toContain(file);
  });

  it('refuses an unsafe key and a bad name from the file too', async () => {
    const unsafe = await dotenv('APP_CONSTRUCTOR=x\n', 'unsafe.env');
    expect(await rejection(read(env({ prefix: 'APP_', file: unsafe, environment: {} })))).toMatchObject({ code: 'ERR_UNSAFE_KEY', key: 'constructor' });
    const bad = await dotenv('APP_A____B=x\n', 'bad.env');
    const error = await rejection(read(env({ prefix: 'APP_', file: bad, environment: {} })));
    expect(error).toBeInstanceOf(ConfigFileError);
    expect(error).toMatchObject({ code: 'ERR_PARSE' });
    expect(prototypeKeys()).toEqual(cleanPrototype);
  });

  it('fails on a missing file with ERR_FILE_NOT_FOUND, unless optional', async () => {
    const file = join(dir, 'missing.env');
    const error = await rejection(read(env({ prefix: 'APP_', file, environment: { APP_X: '1' } })));
    expect(error).toBeInstanceOf(ConfigFileError);
    expect(error).toMatchObject({ code: 'ERR_FILE_NOT_FOUND', path: file });
    const reading = await read(env({ prefix: 'APP_', file, optional: true, environment: { APP_X: '1' } }));
    expect(reading.value).toEqual({ x: '1' });
  });

  it('fails on a file that is not UTF-8 or not a regular file, optional or not', async () => {
    const latin1 = await dotenv(Uint8Array.from([0x41, 0x50, 0x50, 0x5f, 0x58, 0x3d, 0xe9, 0x0a]));
    expect(await rejection(read(env({ prefix: 'APP_', file: latin1, optional: true, environment: {} })))).toMatchObject({ code: 'ERR_FILE_ENCODING' });
    expect(await rejection(read(env({ prefix: 'APP_', file: dir, optional: true, environment: {} })))).toMatchObject({ code: 'ERR_FILE_TYPE' });
  });
});

describe('env: watching', () => {
  let dir: string;
  let stops: (() => void)[];
  beforeEach(async () => {
    dir = await makeTempDir('txconfig-env-watch-');
    stops = [];
  });
  afterEach(async () => {
    for (const stop of stops) stop();
    await removeTempDir(dir);
  });

  /** Starts watching `source`, counting the changes it reports. */
  function watch(source: ConfigSource): () => number {
    let changes = 0;
    const stop = source.watch?.(() => {
      changes++;
    });
    if (stop === undefined) throw new Error('the source cannot watch');
    stops.push(stop);
    return () => changes;
  }

  async function atomicWrite(path: string, content: string): Promise<void> {
    const temp = `${path}.tmp-${Math.random().toString(36).slice(2)}`;
    await fs.writeFile(temp, content);
    await fs.rename(temp, path);
  }

  const quiet = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  it('has no watch without a file: the environment of a process does not change', () => {
    expect('watch' in env({ prefix: 'APP_' })).toBe(false);
  });

  it('reports atomic renames and saves in place; not the content the last read already used', async () => {
    const file = join(dir, '.env');
    await fs.writeFile(file, 'APP_PORT=1\n');
    const source = env({ prefix: 'APP_', file, environment: {} });
    await read(source);
    const changes = watch(source);
    await quiet(300);
    expect(changes()).toBe(0);

    await atomicWrite(file, 'APP_PORT=2\n');
    await eventually(() => changes() >= 1, 'a change after an atomic rename');
    expect((await read(source)).value).toEqual({ port: '2' });

    const before = changes();
    await fs.writeFile(file, 'APP_PORT=3\n');
    await eventually(() => changes() > before, 'a change after a save in place');
    expect((await read(source)).value).toEqual({ port: '3' });
  });

  it('reports a file that is deleted, then the same file coming back', async () => {
    const file = join(dir, '.env');
    await fs.writeFile(file, 'APP_PORT=1\n');
    const source = env({ prefix: 'APP_', file, environment: {} });
    await read(source);
    const changes = watch(source);
    await fs.rm(file);
    await eventually(() => changes() >= 1, 'a change after the file went away');
    expect(await rejection(read(source))).toMatchObject({ code: 'ERR_FILE_NOT_FOUND' });
    const before = changes();
    await fs.writeFile(file, 'APP_PORT=1\n');
    await eventually(() => changes() > before, 'a change when the same file came back');
    expect((await read(source)).value).toEqual({ port: '1' });
  });

  it('reports an optional file that appears', async () => {
    const file = join(dir, '.env');
    const source = env({ prefix: 'APP_', file, optional: true, environment: {} });
    expect((await read(source)).value).toEqual({});
    const changes = watch(source);
    await quiet(100);
    const before = changes();
    await atomicWrite(file, 'APP_PORT=1\n');
    await eventually(() => changes() > before, 'a change when the file appeared');
    expect((await read(source)).value).toEqual({ port: '1' });
  });

  it('reports nothing after stop', async () => {
    const file = join(dir, '.env');
    await fs.writeFile(file, 'APP_PORT=1\n');
    const source = env({ prefix: 'APP_', file, environment: {} });
    await read(source);
    const changes = watch(source);
    stops.pop()?.();
    await atomicWrite(file, 'APP_PORT=2\n');
    await quiet(400);
    expect(changes()).toBe(0);
  });

  it('does not throw when the directory of the file cannot be watched', () => {
    const source = env({ prefix: 'APP_', file: join(dir, 'no-such-dir', '.env'), optional: true, environment: {} });
    const stop = source.watch?.(() => undefined);
    expect(typeof stop).toBe('function');
    stop?.();
  });
});

describe('env: property', () => {
  // Segments that round-trip through a name with the separator "__": no "__" inside,
  // none ending in "_" (which would merge with the separator), plus the unsafe ones.
  const segment = fc.oneof(
    fc.stringMatching(/^[A-Z0-9](?:_?[A-Z0-9])*$/),
    fc.constantFrom('CONSTRUCTOR', 'PROTOTYPE', 'PROTO', 'TO_STRING', 'VALUE_OF', 'HAS_OWN_PROPERTY'),
  );

  it('sends a name built from segments to the pointer of its lowercased segments, or refuses an unsafe key; Object.prototype is never touched', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 5 }), fc.string(), async (segments, text) => {
        const name = `APP_${segments.join('__')}`;
        const keys = segments.map((s) => s.toLowerCase());
        const unsafe = keys.some((key) => key === 'constructor' || key === 'prototype' || key === '__proto__');
        try {
          const reading = await readEnv({ [name]: text });
          expect(unsafe).toBe(false);
          let node: unknown = reading.value;
          for (const key of keys) {
            expect(Object.getPrototypeOf(node)).toBe(Object.prototype);
            expect(Object.hasOwn(node as object, key)).toBe(true);
            node = (node as Record<string, unknown>)[key];
          }
          expect(node).toBe(text);
          const pointer = `/${keys.join('/')}`;
          expect(reading.origins?.explain(pointer)).toEqual({ layer: 'env', origin: { env: name }, shadowed: [] });
          expect(reading.origins?.texts).toEqual([pointer]);
        } catch (error) {
          if (!unsafe) throw error;
          expect(error).toBeInstanceOf(UnsafeKeyError);
        }
        expect(prototypeKeys()).toEqual(cleanPrototype);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses every unsafe key spelled in any case with any separator, and never pollutes', async () => {
    const unsafeKey = fc.constantFrom('__proto__', '__PROTO__', 'Constructor', 'PROTOTYPE');
    const plain = fc.stringMatching(/^[a-zA-Z0-9]{1,6}$/);
    await fc.assert(
      fc.asyncProperty(fc.array(plain, { maxLength: 3 }), unsafeKey, fc.array(plain, { maxLength: 3 }), async (before, bad, after) => {
        const name = `APP_${[...before, bad, ...after].join('.')}`;
        const error = await rejection(readEnv({ [name]: '{"polluted":1}' }, { prefix: 'APP_', separator: '.' }));
        expect(error).toBeInstanceOf(UnsafeKeyError);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(prototypeKeys()).toEqual(cleanPrototype);
      }),
      { numRuns: 200 },
    );
  });
});
