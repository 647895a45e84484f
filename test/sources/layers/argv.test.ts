import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError, ConfigFileError, ConflictError, UnsafeKeyError } from '../../../src/errors.js';
import { argv, type ArgvOptions } from '../../../src/sources/layers/argv.js';
import { toPointer } from '../../../src/json/json-pointer.js';
import type { SourceReading } from '../../../src/store/config-source.js';
import { rejection, thrownBy } from '../../helpers/rejection.js';

const signal = new AbortController().signal;

function read(args: readonly string[], options?: ArgvOptions): Promise<SourceReading> {
  return argv(args, options).read({ signal });
}

async function valueOf(args: readonly string[], options?: ArgvOptions): Promise<unknown> {
  return (await read(args, options)).value;
}

const prototypeKeys = (): string[] => Object.getOwnPropertyNames(Object.prototype).sort();
const cleanPrototype = prototypeKeys();

describe('argv: flags to paths', () => {
  it('takes --server.port=9090 and --server.port 9090 as the text at /server/port', async () => {
    expect(await valueOf(['--server.port=9090'])).toEqual({ server: { port: '9090' } });
    expect(await valueOf(['--server.port', '9090', '--server.host', 'h'])).toEqual({ server: { port: '9090', host: 'h' } });
  });

  it('gives a bare flag the text true and --no-NAME the text false', async () => {
    expect(await valueOf(['--debug', '--no-tls.enabled', '--verbose'])).toEqual({ debug: 'true', tls: { enabled: 'false' }, verbose: 'true' });
  });

  it('keeps keys as written, and an empty value as the empty text', async () => {
    expect(await valueOf(['--server.maxConnections=5', '--name='])).toEqual({ server: { maxConnections: '5' }, name: '' });
  });

  it('takes a value that starts with a dash only after =', async () => {
    expect(await valueOf(['--offset=-5', '--path', '-'])).toEqual({ offset: '-5', path: '-' });
  });

  it('leaves the arguments after -- to the daemon', async () => {
    expect(await valueOf(['--a=1', '--', '--b=2', 'file'])).toEqual({ a: '1' });
  });

  it('maps long and short flag names to JSON Pointers: keys with dots or slashes, short flags', async () => {
    const options: ArgvOptions = { map: { p: '/server/port', 'log.file': '/log/a.b~1c', debug: '/log/debug' } };
    expect(await valueOf(['-p', '80', '--log.file=x', '--no-debug'], options)).toEqual({ server: { port: '80' }, log: { 'a.b/c': 'x', debug: 'false' } });
    expect(await valueOf(['-p'], options)).toEqual({ server: { port: 'true' } });
    expect(await valueOf(['--p=81'], options)).toEqual({ server: { port: '81' } });
  });

  it("leaves out the daemon's own flags, with their values, however they are written", async () => {
    const own: ArgvOptions['own'] = { config: { type: 'string', short: 'c' }, verbose: { type: 'boolean', short: 'v', multiple: true } };
    const args = ['-c', '/etc/app.yaml', '--config', 'x', '--config=y', '-cz', '-vv', '--verbose', '--no-verbose', '--port', '1'];
    expect(await valueOf(args, { own })).toEqual({ port: '1' });
    // Not an own flag: --c is a config path, whatever the short letters are.
    expect(await valueOf(['--c=1'], { own })).toEqual({ c: '1' });
  });

  it('is named argv, has no watch, and gives the same config on every read, each time a fresh tree', async () => {
    const source = argv(['--a=1']);
    expect(source.name).toBe('argv');
    expect('watch' in source).toBe(false);
    const first = await source.read({ signal });
    const second = await source.read({ signal });
    expect(second.value).toEqual(first.value);
    expect(second.value).not.toBe(first.value);
  });

  it('rejects a read with the reason of an aborted signal', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    controller.abort(reason);
    expect(await rejection(argv([]).read({ signal: controller.signal }))).toBe(reason);
  });

  it('gives an empty config for no flags', async () => {
    expect(await valueOf([])).toEqual({});
  });
});

describe('argv: origins', () => {
  it('explains a flag as the argv layer and the flag as written; lists every text', async () => {
    const reading = await read(['--server.port=9090', '--no-debug', '-p', '1'], { map: { p: '/server/host' } });
    expect(reading.origins?.explain('/server/port')).toEqual({ layer: 'argv', origin: { flag: '--server.port' }, shadowed: [] });
    expect(reading.origins?.explain('/debug')?.origin).toEqual({ flag: '--no-debug' });
    expect(reading.origins?.explain('/server/host')?.origin).toEqual({ flag: '-p' });
    expect(reading.origins?.explain('/server')).toEqual({ layer: 'argv', origin: {}, shadowed: [] });
    expect(reading.origins?.explain('/other')).toBeUndefined();
    expect(reading.origins?.texts).toEqual(['/server/port', '/debug', '/server/host']);
  });
});

describe('argv: bad options', () => {
  const cases: [string, unknown, unknown, string][] = [
    ['args that are not an array', '--a=1', undefined, 'args'],
    ['args holding a non-string', ['--a', 1], undefined, 'args'],
    ['options that are not an object', [], 'x', 'options'],
    ['a map that is not an object', [], { map: 'p=/port' }, 'map'],
    ['a map name with dashes', [], { map: { '-p': '/port' } }, 'map.-p'],
    ['an empty map name', [], { map: { '': '/port' } }, 'map.'],
    ['a map value in dotted form', [], { map: { p: 'server.port' } }, 'map.p'],
    ['a map value that is the root', [], { map: { p: '' } }, 'map.p'],
    ['a map name that is an own flag', [], { map: { config: '/c' }, own: { config: { type: 'string' } } }, 'map.config'],
    ["a map name that is an own flag's short", [], { map: { c: '/c' }, own: { config: { type: 'string', short: 'c' } } }, 'map.c'],
    ['own that is not an object', [], { own: ['config'] }, 'own'],
    ['own with a bad type', [], { own: { config: { type: 'text' } } }, 'own'],
    ['own with a long short', [], { own: { config: { type: 'string', short: 'cf' } } }, 'own'],
  ];
  it.each(cases)('refuses %s with ArgumentError naming it', (_, args, options, argument) => {
    const error = thrownBy(() => argv(args as string[], options as ArgvOptions));
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error).toMatchObject({ code: 'ERR_ARGUMENT', argument });
  });

  it('refuses a map pointer through an unsafe key with UnsafeKeyError', () => {
    const error = thrownBy(() => argv([], { map: { p: '/a/__proto__' } }));
    expect(error).toBeInstanceOf(UnsafeKeyError);
    expect(error).toMatchObject({ code: 'ERR_UNSAFE_KEY', path: 'map.p', key: '__proto__', pointer: '/a' });
  });
});

describe('argv: bad flags, refused when the layer is made', () => {
  it.each([
    ['an unknown short flag', ['-x'], '-x'],
    ['a short flag that looks like a negative number', ['--offset', '-5'], '-5'],
    ['a mapped short flag in a group', ['-p9090'], 'argv[0]'],
    ['an unknown short flag in a group with an own one', ['--a', '-vx'], 'argv[1]'],
    ['a positional argument', ['--a=1', 'b', 'c'], 'argv[1]'],
    ['a positional after a negated flag', ['--no-debug', 'x'], 'argv[1]'],
    ['a value given to a negated flag', ['--no-debug=1'], '--no-debug'],
    ['two dots in a row', ['--server..port=1'], '--server..port'],
    ['a dot at the start', ['--.port=1'], '--.port'],
    ['a dot at the end', ['--server.=1'], '--server.'],
    ['a name with three dashes', ['---x'], '---x'],
    ['an empty name with a value', ['--=secret'], 'argv[0]'],
    ['--no- alone', ['--no-'], '--no-'],
  ])('refuses %s with ConfigFileError ERR_PARSE naming it', (_, args, path) => {
    const error = thrownBy(() => argv(args, { map: { p: '/port' }, own: { verbose: { type: 'boolean', short: 'v' } } }));
    expect(error).toBeInstanceOf(ConfigFileError);
    expect(error).toMatchObject({ code: 'ERR_PARSE', path });
  });

  it.each([
    ['--__proto__.polluted=1', '__proto__', ''],
    ['--constructor.prototype.polluted=1', 'constructor', ''],
    ['--a.prototype=1', 'prototype', '/a'],
    ['--no-__proto__', '__proto__', ''],
  ])('refuses %s with UnsafeKeyError, and Object.prototype stays clean', (flag, key, pointer) => {
    const error = thrownBy(() => argv([flag]));
    expect(error).toBeInstanceOf(UnsafeKeyError);
    expect(error).toMatchObject({ code: 'ERR_UNSAFE_KEY', key, pointer });
    expect(prototypeKeys()).toEqual(cleanPrototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['a flag given twice', ['--port', '1', '--port', '2']],
    ['a flag and its negation', ['--debug', '--no-debug']],
    ['a path and one below it', ['--server=x', '--server.port=1']],
    ['a mapped short flag and the long flag of its path', ['-p', '1', '--port=2']],
  ])('refuses %s with ConflictError naming both flags', (_, args) => {
    const error = thrownBy(() => argv(args, { map: { p: '/port' } }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'ERR_CONFLICT' });
    expect((error as ConflictError).sides.map((side) => side.origin.flag)).toHaveLength(2);
  });
});

describe('argv: property', () => {
  const segment = fc.oneof(
    fc.string({ minLength: 1, maxLength: 8 }).filter((key) => !key.includes('.') && !key.includes('=')),
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'),
  );

  it('sends --a.b.c=text to the pointer of its keys, or refuses an unsafe key; Object.prototype is never touched', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.string(), async (keys, text) => {
        fc.pre(!keys[0]!.startsWith('-'));
        const flag = `--${keys.join('.')}`;
        const unsafe = keys.some((key) => key === '__proto__' || key === 'constructor' || key === 'prototype');
        const error = thrownBy(() => argv([`${flag}=${text}`]));
        expect(prototypeKeys()).toEqual(cleanPrototype);
        if (unsafe) {
          expect(error).toBeInstanceOf(UnsafeKeyError);
          return;
        }
        expect(error).toBeUndefined();
        const reading = await read([`${flag}=${text}`]);
        let node: unknown = reading.value;
        for (const key of keys) {
          expect(Object.getPrototypeOf(node)).toBe(Object.prototype);
          expect(Object.hasOwn(node as object, key)).toBe(true);
          node = (node as Record<string, unknown>)[key];
        }
        expect(node).toBe(text);
        expect(reading.origins?.explain(toPointer(keys))).toEqual({ layer: 'argv', origin: { flag }, shadowed: [] });
        expect(reading.origins?.texts).toEqual([toPointer(keys)]);
      }),
      { numRuns: 300 },
    );
  });
});
