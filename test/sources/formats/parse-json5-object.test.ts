// Our JSON5 parser: the grammar of spec.json5.org 1.0.0, with the rules of every config
// format (unique keys, no prototype keys, finite numbers, bounded nesting, positions),
// and the lookup of a value's position for explain().
import { describe, expect, it } from 'vitest';
import { ParseError, UnsafeKeyError } from '../../../src/errors.js';
import { locateInJson5, parseJson5Object } from '../../../src/sources/formats/parse-json5-object.js';
import { thrownBy } from '../../helpers/rejection.js';

const parse = (text: string, maxDepth = 256): Record<string, unknown> => parseJson5Object(text, { source: 'config.json5', maxDepth });

function refusal(text: string, maxDepth = 256): ParseError | UnsafeKeyError {
  const error = thrownBy(() => parse(text, maxDepth));
  expect(error, text).toBeInstanceOf(Error);
  expect((error as { path?: string }).path).toBe('config.json5');
  return error as ParseError | UnsafeKeyError;
}

describe('parseJson5Object: reads JSON5', () => {
  it.each([
    ['unquoted and single-quoted keys', `{a: 1, $b_2: 2, 'c d': 3, ünï: 4}`, { a: 1, $b_2: 2, 'c d': 3, ünï: 4 }],
    ['comments and trailing commas', `// head\n{/* x */ a: [1, 2,], // tail\n b: {c: 1,},}\n/* end */`, { a: [1, 2], b: { c: 1 } }],
    ['every number form', `{a: 0x1F, b: -0XfF, c: .5, d: 5., e: +1, f: -.5e-3, g: 1E3, h: 0, i: -0}`, { a: 31, b: -255, c: 0.5, d: 5, e: 1, f: -0.0005, g: 1000, h: 0, i: -0 }],
    ['single-quoted strings with escapes', String.raw`{s: 'it\'s "q" \x41\u0042\0 \v\/\a'}`, { s: `it's "q" AB\0 \v/a` }],
    ['a line continuation (LF, CRLF, U+2028)', `{s: 'a\\\nb\\\r\nc\\\u2028d'}`, { s: 'abcd' }],
    ['escapes in an unquoted key', String.raw`{\u0061b: 1, c\u0064: 2}`, { ab: 1, cd: 2 }],
    ['literals', `{a: null, b: true, c: false}`, { a: null, b: true, c: false }],
    ['Unicode white space and a BOM', `\u00a0{\u2028a\u3000:\ufeff1\u2029}\u202f`, { a: 1 }],
    ['JSON itself', `{"a": [1, {"b": "c"}], "d": "\\u00e9"}`, { a: [1, { b: 'c' }], d: 'é' }],
    ['keys that are names of Object.prototype, as plain data', `{toString: 1, hasOwnProperty: 2, __defineGetter__: 3}`, { toString: 1, hasOwnProperty: 2, __defineGetter__: 3 }],
  ])('%s', (_, text, expected) => {
    const value = parse(text);
    expect(value).toStrictEqual(expected);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it('nests to exactly maxDepth containers, the root counted', () => {
    expect(parse('{a: [[{}]]}', 4)).toStrictEqual({ a: [[{}]] });
    expect(refusal('{a: [[{b: 1}]]}', 3)).toMatchObject({ code: 'ERR_PARSE', line: 1, column: 7 });
  });

  it('refuses a million nested arrays as ERR_PARSE, without recursion', () => {
    expect(refusal(`{a: ${'['.repeat(1_000_000)}`)).toMatchObject({ code: 'ERR_PARSE', line: 1, column: 260 });
  });
});

describe('parseJson5Object: refuses, with the position', () => {
  it.each([
    ['an empty text', '', 1, 1],
    ['a root array', '[1]', 1, 1],
    ['a root string', `'x'`, 1, 1],
    ['data after the root', '{a: 1} x', 1, 8],
    ['a duplicate key', '{a: 1,\n "a": 2}', 2, 2],
    ['a duplicate key spelled with an escape', String.raw`{ab: 1, \u0061b: 2}`, 1, 9],
    ['Infinity', '{a: Infinity}', 1, 5],
    ['-Infinity', '{a: -Infinity}', 1, 5],
    ['NaN', '{a: [NaN]}', 1, 6],
    ['a number out of range', '{a: 1e400}', 1, 5],
    ['a leading zero', '{a: 01}', 1, 6],
    ['a lone dot', '{a: .}', 1, 6],
    ['a hexadecimal prefix without digits', '{a: 0x}', 1, 7],
    ['an octal escape', String.raw`{a: '\1'}`, 1, 6],
    ['\\0 before a digit', String.raw`{a: '\01'}`, 1, 6],
    ['a bad \\x escape', String.raw`{a: '\x4'}`, 1, 6],
    ['a bad \\u escape', String.raw`{a: "\u12"}`, 1, 6],
    ['an unescaped line break in a string', `{a: 'x\ny'}`, 1, 7],
    ['an unterminated string', `{a: 'x`, 1, 7],
    ['a backslash at the very end', `{a: 'x\\`, 1, 8],
    ['an unterminated block comment', '{a: 1 /* no end', 1, 7],
    ['an escape in a key that no identifier holds', String.raw`{\u0031a: 1}`, 1, 2],
    ['a key that is no identifier', '{1a: 1}', 1, 2],
    ['an empty array slot', '{a: [,]}', 1, 6],
    ['two commas', '{a: 1,,}', 1, 7],
    ['a missing colon', '{a 1}', 1, 4],
    ['a missing comma', '{a: 1 b: 2}', 1, 7],
    ['an unknown word', '{a: yes}', 1, 5],
    ['the end of the text inside an object', '{a: 1,', 1, 7],
    ['the end of the text where a value goes', '{a:', 1, 4],
  ])('%s', (_, text, line, column) => {
    expect(refusal(text)).toMatchObject({ code: 'ERR_PARSE', line, column });
  });

  it.each([
    ['an unquoted __proto__', '{__proto__: {polluted: 1}}', '__proto__', '', 1, 2],
    ['a single-quoted __proto__ in an array', `{a: [{'__proto__': 1}]}`, '__proto__', '/a/0', 1, 7],
    ['an escaped __proto__ key', String.raw`{b: {\u005f_proto__: 1}}`, '__proto__', '/b', 1, 6],
    ['constructor.prototype', '{constructor: {prototype: {polluted: 1}}}', 'constructor', '', 1, 2],
    ['a prototype key', '{a: {b: {prototype: 1}}}', 'prototype', '/a/b', 1, 10],
  ])('refuses %s with ERR_UNSAFE_KEY, and Object.prototype stays clean', (_, text, key, pointer, line, column) => {
    expect(refusal(text)).toMatchObject({ code: 'ERR_UNSAFE_KEY', key, pointer, line, column });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('locateInJson5: where a value is written', () => {
  const text = `// a config\n{\n  server: {port: 8080, hosts: ['a', {name: "b"}]},\n  'two words': true,\n  list: [\n    1,\n    [2, 3],\n  ],\n}\n`;

  it.each([
    [[], 2],
    [['server'], 3, 11],
    [['server', 'port'], 3, 18],
    [['server', 'hosts'], 3, 31],
    [['server', 'hosts', '0'], 3, 32],
    [['server', 'hosts', '1', 'name'], 3, 44],
    [['two words'], 4, 16],
    [['list', '1'], 7, 5],
    [['list', '1', '1'], 7, 9],
  ])('finds %j', (keys, line, column = 1) => {
    const offset = locateInJson5(text, keys);
    expect(offset).toBeDefined();
    const before = text.slice(0, offset);
    expect({ line: before.split('\n').length, column: before.length - before.lastIndexOf('\n') }).toEqual({ line, column });
  });

  it('answers undefined for a path the text does not hold, and for a text that does not parse', () => {
    expect(locateInJson5(text, ['nope'])).toBeUndefined();
    expect(locateInJson5(text, ['list', '2'])).toBeUndefined();
    expect(locateInJson5(text, ['server', 'port', 'deeper'])).toBeUndefined();
    expect(locateInJson5('{a: ', ['a'])).toBe(4);
    expect(locateInJson5('{a: 1, a: 2}', ['b'])).toBeUndefined();
    expect(locateInJson5('not json5', ['a'])).toBeUndefined();
  });

  it('reads JSON as well, JSON being JSON5', () => {
    expect(locateInJson5('{"a": {"b": [10, 20]}}', ['a', 'b', '1'])).toBe(17);
  });
});
