import { describe, expect, it } from 'vitest';
import { ParseError, UnsafeKeyError } from '../../src/errors.js';
import { TWO_TURN_TEXT, parseJsonObject, parseJsonObjectInTurns } from '../../src/sources/parse-json-object.js';
import { rejection, thrownBy } from '../helpers/rejection.js';

const options = { source: 'test.json', maxDepth: 256 };

function parse(text: string, maxDepth = 256): Record<string, unknown> {
  return parseJsonObject(text, { ...options, maxDepth });
}

function parseError(text: string, maxDepth = 256): ParseError {
  try {
    parse(text, maxDepth);
  } catch (error) {
    expect(error).toBeInstanceOf(ParseError);
    expect((error as ParseError).code).toBe('ERR_PARSE');
    expect((error as ParseError).path).toBe('test.json');
    return error as ParseError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

describe('parseJsonObject: accepts what RFC 8259 accepts, like JSON.parse', () => {
  it.each([
    '{}',
    ' \t\r\n{ } \n',
    '{"a":1,"b":[1,2,[3,{}]],"c":{"d":null,"e":true,"f":false}}',
    '{"n":[0,-0,1,-1,0.5,-0.5,1e3,1E3,1e+3,1e-3,1.25e-7,123456789012345678901234567890,5e-324,1.7976931348623157e308]}',
    String.raw`{"s":"\" \\ \/ \b \f \n \r \t \u0041 \u00e9 \ud83d\ude00 \ud800 😀 \u2028"}`,
    '{"":"empty key","a b":"space","ünï":"code"}',
    '{"deep":[[[[[[[[[[{"x":[]}]]]]]]]]]]}',
  ])('parses %s', (text) => {
    expect(parse(text)).toEqual(JSON.parse(text));
  });

  it('keeps -0 as -0 and large integers as the nearest double', () => {
    const config = parse('{"z":-0,"big":12345678901234567890}');
    expect(Object.is(config.z, -0)).toBe(true);
    expect(config.big).toBe(Number('12345678901234567890'));
  });
});

describe('parseJsonObject: refuses what RFC 8259 refuses, with the position', () => {
  it.each([
    ['trailing comma in an object', '{"a":1,}', 1, 8],
    ['trailing comma in an array', '{"a":[1,]}', 1, 9],
    ['single quotes', "{'a':1}", 1, 2],
    ['an unquoted key', '{a:1}', 1, 2],
    ['a line comment', '{"a":1 // no\n}', 1, 8],
    ['a block comment', '{/* no */"a":1}', 1, 2],
    ['a leading zero', '{"a":01}', 1, 7],
    ['a leading plus', '{"a":+1}', 1, 6],
    ['a leading dot', '{"a":.5}', 1, 6],
    ['a trailing dot', '{"a":1.}', 1, 8],
    ['an empty exponent', '{"a":1e}', 1, 8],
    ['a lone minus', '{"a":-}', 1, 7],
    ['NaN', '{"a":NaN}', 1, 6],
    ['Infinity', '{"a":Infinity}', 1, 6],
    ['a hexadecimal number', '{"a":0x10}', 1, 7],
    ['a raw tab in a string', '{"a":"x\ty"}', 1, 8],
    ['a raw newline in a string', '{"a":"x\ny"}', 1, 8],
    ['an invalid escape', String.raw`{"a":"\x41"}`, 1, 7],
    ['a short unicode escape', String.raw`{"a":"\u41"}`, 1, 7],
    ['an unterminated string', '{"a":"abc', 1, 10],
    ['an unterminated object', '{"a":1', 1, 7],
    ['an unterminated array', '{"a":[1', 1, 8],
    ['a missing colon', '{"a" 1}', 1, 6],
    ['a missing comma', '{"a":1 "b":2}', 1, 8],
    ['a mismatched bracket', '{"a":[1}', 1, 8],
    ['data after the root', '{"a":1} {}', 1, 9],
    ['a misspelled literal', '{"a":ture}', 1, 6],
    ['a truncated literal', '{"a":tru', 1, 6],
    ['uppercase literals', '{"a":True}', 1, 6],
    ['a NUL between tokens', '{"a":1\0}', 1, 7],
    ['a non-breaking space between tokens', '{"a":\u00a01}', 1, 6],
    ['a duplicate key', '{"a":1,"a":2}', 1, 8],
    ['a duplicate nested key', '{"x":{"k":1,\n "k":2}}', 2, 2],
    ['a number that overflows to Infinity', '{"a":1e400}', 1, 6],
    ['a negative overflow', '{"a":-1e400}', 1, 6],
  ])('refuses %s', (_name, text, line, column) => {
    const error = parseError(text);
    expect([error.line, error.column]).toEqual([line, column]);
  });

  it.each([
    ['an array', '[1,2]'],
    ['a string', '"config"'],
    ['a number', '42'],
    ['null', 'null'],
    ['true', 'true'],
  ])('refuses %s at the root', (_name, text) => {
    const error = parseError(`\n  ${text}`);
    expect([error.line, error.column]).toEqual([2, 3]);
  });

  it('counts LF, CRLF and lone CR as one line end each', () => {
    expect(parseError('{\n"a":1,\r\n"b":2,\r"c":x}').line).toBe(4);
    expect(parseError('{\r\n\r\n  x').line).toBe(3);
  });

  it('counts columns in characters, so an emoji before the error is one column', () => {
    const error = parseError('{"😀😀":1,}');
    expect([error.line, error.column]).toEqual([1, 9]);
  });
});

describe('parseJsonObject: nesting limit', () => {
  it('refuses 100000 nested arrays with ERR_PARSE, not a RangeError', () => {
    const error = parseError('{"a":' + '['.repeat(100_000));
    expect([error.line, error.column]).toEqual([1, 6 + 255]);
  });

  it('refuses 100000 nested objects with ERR_PARSE', () => {
    parseError('{"a":'.repeat(100_000));
  });

  it('accepts exactly maxDepth levels and refuses one more', () => {
    const nest = (depth: number): string => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);
    expect(() => parse(nest(5), 5)).not.toThrow();
    parseError(nest(6), 5);
    expect(() => parse(nest(256))).not.toThrow();
    parseError(nest(257));
  });

  it('handles a deep document within the limit without recursion', () => {
    const depth = 50_000;
    const text = '{"a":' + '['.repeat(depth) + ']'.repeat(depth) + '}';
    let node: unknown = parse(text, depth + 1).a;
    let levels = 0;
    while (Array.isArray(node)) {
      levels++;
      node = node[0];
    }
    expect(levels).toBe(depth);
  });
});

describe('parseJsonObject: unsafe keys', () => {
  it.each(['__proto__', 'constructor', 'prototype'])('refuses %s at any depth, reporting where', (key) => {
    for (const [text, pointer, column] of [
      [`{"${key}":1}`, '', 2],
      [`{"a":{"${key}":1}}`, '/a', 7],
      [`{"a":[0,{"${key}":1}]}`, '/a/1', 10],
    ] as const) {
      try {
        parse(text);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(UnsafeKeyError);
        expect(error).toMatchObject({ code: 'ERR_UNSAFE_KEY', key, pointer, line: 1, column, path: 'test.json' });
      }
    }
  });

  it('accepts the unsafe words as values and as parts of longer keys', () => {
    expect(parse('{"a":"__proto__","__proto__x":1,"my constructor":["prototype"]}')).toEqual({
      a: '__proto__',
      __proto__x: 1,
      'my constructor': ['prototype'],
    });
  });
});

describe('parseJsonObjectInTurns (long texts: JSON.parse and the checks in two turns)', () => {
  const long = (extra: string): string => {
    const members: string[] = [];
    for (let index = 0, length = 0; length <= TWO_TURN_TEXT; index++) length += members[members.push(`"key${index}":{"value":"${'x'.repeat(40)}","n":${index}}`) - 1]!.length + 1;
    return `{${members.join(',')}${extra}}`;
  };
  const options = { source: 'big.json', maxDepth: 256 };

  it('gives the value parseJsonObject gives, after a turn of the event loop', async () => {
    const text = long('');
    expect(text.length).toBeGreaterThan(TWO_TURN_TEXT);
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    const value = await parseJsonObjectInTurns(text, options);
    expect(turned).toBe(true);
    expect(value).toEqual(parseJsonObject(text, options));
  });

  it('gives the errors of parseJsonObject, with their positions', async () => {
    for (const extra of [',"key0":1', ',"__proto__":{}', ',"deep":1e999', ',"broken":']) {
      const text = long(extra);
      const error = await rejection(parseJsonObjectInTurns(text, options));
      const expected = thrownBy(() => parseJsonObject(text, options));
      expect(error).toBeInstanceOf((expected as Error).constructor);
      expect(error).toMatchObject({ code: (expected as ParseError).code, line: (expected as ParseError).line, column: (expected as ParseError).column });
    }
  });

  it('parses a short text in the same turn', async () => {
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    expect(await parseJsonObjectInTurns('{"a":1}', options)).toEqual({ a: 1 });
    expect(turned).toBe(false);
  });
});
