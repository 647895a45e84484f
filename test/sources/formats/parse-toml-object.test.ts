// TOML config files: smol-toml's result copied into plain JSON data, with the rules of
// every format; smol-toml's own refusals (duplicates, integers past 2^53) at its position.
import { beforeAll, describe, expect, it } from 'vitest';
import { ParseError, UnsafeKeyError } from '../../../src/errors.js';
import { SMOL_TOML, tomlToJson, tomlValueOf, type TomlParser } from '../../../src/sources/formats/parse-toml-object.js';
import { parserLoader } from '../../../src/sources/formats/parser-loader.js';
import { thrownBy } from '../../helpers/rejection.js';

let toml: TomlParser;
beforeAll(async () => {
  toml = await parserLoader.load(SMOL_TOML);
});

function parse(text: string, maxDepth = 256): Record<string, unknown> {
  const options = { source: 'config.toml', maxDepth };
  return tomlToJson(tomlValueOf(toml, text, options), options);
}

function refusal(text: string, maxDepth = 256): ParseError | UnsafeKeyError {
  const error = thrownBy(() => parse(text, maxDepth));
  expect(error, text).toBeInstanceOf(Error);
  expect((error as { path?: string }).path).toBe('config.toml');
  return error as ParseError | UnsafeKeyError;
}

/** Every object in `value` is a plain one (smol-toml's have no prototype). */
function everyObjectPlain(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(everyObjectPlain);
  if (typeof value !== 'object' || value === null) return true;
  return Object.getPrototypeOf(value) === Object.prototype && Object.values(value).every(everyObjectPlain);
}

describe('parseTomlObject: reads TOML 1.0 into plain JSON data', () => {
  it('reads tables, arrays of tables, inline tables, dotted keys and every scalar', () => {
    const config = parse(
      [
        'title = "x"',
        "literal = 'C:\\path'",
        'hex = 0xDEAD_BEEF',
        'float = 6.626e-34',
        'negative_zero = -0.0',
        'on = true',
        'a.b.c = 1',
        '[server]',
        'port = 8080',
        'hosts = ["a", "b"]',
        'tls = { cert = "/etc/a.pem", enabled = false }',
        '[[service]]',
        'name = "a"',
        '[[service]]',
        'name = "b"',
      ].join('\n'),
    );
    expect(config).toStrictEqual({
      title: 'x',
      literal: 'C:\\path',
      hex: 0xdeadbeef,
      float: 6.626e-34,
      negative_zero: -0,
      on: true,
      a: { b: { c: 1 } },
      server: { port: 8080, hosts: ['a', 'b'], tls: { cert: '/etc/a.pem', enabled: false } },
      service: [{ name: 'a' }, { name: 'b' }],
    });
    expect(everyObjectPlain(config)).toBe(true);
  });

  it('gives dates and times as the ISO 8601 text of the form written, to the millisecond', () => {
    expect(parse('a = 1979-05-27T07:32:00Z\nb = 1979-05-27T00:32:00.999999-07:00\nc = 1979-05-27T07:32:00\nd = 1979-05-27\ne = 07:32:00.5\n')).toStrictEqual({
      a: '1979-05-27T07:32:00.000Z',
      b: '1979-05-27T00:32:00.999-07:00',
      c: '1979-05-27T07:32:00.000',
      d: '1979-05-27',
      e: '07:32:00.500',
    });
  });

  it('reads an empty text as an empty table', () => {
    expect(parse('')).toStrictEqual({});
  });

  it('nests to exactly maxDepth containers, the root counted, dotted keys and tables included', () => {
    expect(parse('a = [[{}]]\n', 4)).toStrictEqual({ a: [[{}]] });
    expect(parse('a.b.c.d = 1\n', 4)).toStrictEqual({ a: { b: { c: { d: 1 } } } });
    expect(refusal('a.b.c.d.e = 1\n', 4)).toMatchObject({ code: 'ERR_PARSE', line: 1, column: 1 });
    expect(refusal('[a.b.c]\nd = [1]\n', 4)).toMatchObject({ code: 'ERR_PARSE' });
    expect(refusal(`a = ${'['.repeat(300)}${']'.repeat(300)}\n`)).toMatchObject({ code: 'ERR_PARSE' });
    expect(refusal(`a${'.b'.repeat(5000)} = 1\n`).message).toMatch(/nesting deeper than 256 levels at \/a\/b\/b.*…/);
  });
});

describe('parseTomlObject: refuses', () => {
  it.each([
    ['a duplicate key', 'a = 1\na = 2\n', 2, 1],
    ['a table defined twice', '[a]\nx = 1\n[a]\ny = 2\n', 3, 2],
    ['a key that redefines a table', '[a.b]\nx = 1\n[a]\nb = 2\n', 4, 1],
    ['an integer past 2^53 - 1', 'a = 9223372036854775807\n', 1, 5],
    ['not TOML', 'a = \n', 1, 5],
    ['a bare word', 'a = yes\n', 1, 5],
  ])('%s, at its position, with smol-toml\'s error as cause', (_, text, line, column) => {
    const error = refusal(text);
    expect(error).toMatchObject({ code: 'ERR_PARSE', line, column });
    // The parser's error, named, without the lines of the file it quotes.
    expect((error.cause as Error).name).toBe('TomlError');
    expect((error.cause as Error).message).not.toContain('\n');
  });

  it.each([
    ['inf', 'a = inf\n', '/a'],
    ['-inf in a table', '[t]\nb = -inf\n', '/t/b'],
    ['nan in an array', 'a = [1.0, nan]\n', '/a/1'],
  ])('%s, which JSON cannot hold, naming its pointer', (_, text, pointer) => {
    const error = refusal(text);
    expect(error).toMatchObject({ code: 'ERR_PARSE', line: 1, column: 1 });
    expect(error.message).toContain(pointer);
  });

  it.each([
    ['a [__proto__] table', '[__proto__]\npolluted = 1\n', '__proto__', ''],
    ['a dotted __proto__', 'a.__proto__.polluted = 1\n', '__proto__', '/a'],
    ['a quoted __proto__ in an inline table', 'a = { "__proto__" = { polluted = 1 } }\n', '__proto__', '/a'],
    ['an array of __proto__ tables', '[[__proto__]]\npolluted = 1\n', '__proto__', ''],
    ['constructor.prototype', 'constructor.prototype.polluted = 1\n', 'constructor', ''],
    ['a prototype key in an array of tables', '[[a]]\n[a.prototype]\npolluted = 1\n', 'prototype', '/a/0'],
  ])('%s with ERR_UNSAFE_KEY (no position: smol-toml keeps none), and Object.prototype stays clean', (_, text, key, pointer) => {
    const error = refusal(text);
    expect(error).toBeInstanceOf(UnsafeKeyError);
    expect(error).toMatchObject({ code: 'ERR_UNSAFE_KEY', key, pointer, line: undefined });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses what a parser other than smol-toml might return: no table, a value JSON has no place for', () => {
    const options = { source: 'config.toml', maxDepth: 8 };
    expect(thrownBy(() => tomlToJson([], options))).toMatchObject({ code: 'ERR_PARSE' });
    expect(thrownBy(() => tomlToJson({ a: 1n }, options))).toMatchObject({ code: 'ERR_PARSE' });
    expect(thrownBy(() => tomlToJson({ a: new Map() }, options))).toMatchObject({ code: 'ERR_PARSE' });
  });

  it('refuses a parser failure without a position at line 1, column 1, with the failure as cause', () => {
    const cause = new Error('boom');
    const failing: TomlParser = {
      parse: () => {
        throw cause;
      },
    };
    expect(thrownBy(() => tomlValueOf(failing, 'a = 1', { source: 'config.toml', maxDepth: 8 }))).toMatchObject({ code: 'ERR_PARSE', line: 1, column: 1, cause });
  });
});
