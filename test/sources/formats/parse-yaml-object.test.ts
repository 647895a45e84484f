// YAML config files: js-yaml's events built into plain JSON data by our rules — the YAML
// 1.2 core schema, unique keys, no prototype keys, no tags beyond the core ones, numbers
// JSON holds, bounded nesting and aliases, merge keys — every refusal with its position.
import { beforeAll, describe, expect, it } from 'vitest';
import { ParseError, UnsafeKeyError } from '../../../src/errors.js';
import { ALIAS_VALUE_FLOOR, JS_YAML, parseYamlObject, yamlEventsOf } from '../../../src/sources/formats/parse-yaml-object.js';
import { parserLoader } from '../../../src/sources/formats/parser-loader.js';
import type { YamlEvents } from '../../../src/sources/formats/yaml-events.js';
import { thrownBy } from '../../helpers/rejection.js';

let yaml: YamlEvents;
beforeAll(async () => {
  yaml = await parserLoader.load(JS_YAML);
});

function parse(text: string, maxDepth = 256): Record<string, unknown> {
  const options = { source: 'config.yaml', maxDepth };
  return parseYamlObject(yaml, text, yamlEventsOf(yaml, text, options), options);
}

function refusal(text: string, maxDepth = 256): ParseError | UnsafeKeyError {
  const error = thrownBy(() => parse(text, maxDepth));
  expect(error, text).toBeInstanceOf(Error);
  expect((error as { path?: string }).path).toBe('config.yaml');
  return error as ParseError | UnsafeKeyError;
}

describe('parseYamlObject: reads YAML 1.2 by the core schema', () => {
  it('reads block and flow collections, every scalar style, and plain scalars by their core type', () => {
    const text = [
      'server:',
      '  port: 8080',
      '  host: "::1"',
      "  name: 'web'",
      '  tls: {cert: /etc/a.pem, enabled: true}',
      'numbers: [0, -12, +7, 0o17, 0x1F, 1.5, .5, 1e3, -0.25e-2]',
      'nulls: [~, null, Null, NULL, ]',
      'booleans: [true, True, FALSE]',
      'text: [yes, no, on, off, 2001-12-14, 1_000, 0b11, .inf1, 12:30]',
      'literal: |',
      '  line one',
      '  line two',
      'folded: >-',
      '  one',
      '  two',
      'empty:',
    ].join('\n');
    expect(parse(text)).toStrictEqual({
      server: { port: 8080, host: '::1', name: 'web', tls: { cert: '/etc/a.pem', enabled: true } },
      numbers: [0, -12, 7, 15, 31, 1.5, 0.5, 1000, -0.0025],
      nulls: [null, null, null, null],
      booleans: [true, true, false],
      text: ['yes', 'no', 'on', 'off', '2001-12-14', '1_000', '0b11', '.inf1', '12:30'],
      literal: 'line one\nline two\n',
      folded: 'one two',
      empty: null,
    });
  });

  it('takes a key as the text it is written as: 404 and true are the keys "404" and "true"', () => {
    expect(parse('404: not found\ntrue: yes\n1.0: one\n~: tilde\n')).toStrictEqual({ '404': 'not found', true: 'yes', '1.0': 'one', '~': 'tilde' });
  });

  it('reads the core tags, and ! as text', () => {
    expect(parse('a: !!int "12"\nb: !!str 12\nc: ! 12\nd: !!float 3\ne: !!bool "false"\nf: !!null ""\ng: !!map {x: 1}\nh: !!seq [1]\ni: !<tag:yaml.org,2002:int> "5"\n')).toStrictEqual({
      a: 12,
      b: '12',
      c: '12',
      d: 3,
      e: false,
      f: null,
      g: { x: 1 },
      h: [1],
      i: 5,
    });
    expect(parse('%TAG !c! tag:yaml.org,2002:\n---\na: !c!int "7"\n')).toStrictEqual({ a: 7 });
  });

  it('copies an alias, so that the result is a tree that shares no node', () => {
    const config = parse('base: &b {x: [1, 2]}\nuse: *b\nname: &n web\nalso: *n\n') as { base: { x: number[] }; use: { x: number[] }; also: string };
    expect(config.use).toStrictEqual({ x: [1, 2] });
    expect(config.use).not.toBe(config.base);
    expect(config.use.x).not.toBe(config.base.x);
    expect(config.also).toBe('web');
  });

  it('merges << keys: its own keys win, then the merged mappings in order', () => {
    const text = 'defaults: &d {a: 1, b: 2}\nmore: &m {b: 3, c: 4}\nsvc:\n  <<: [*d, *m]\n  a: 0\ninline:\n  b: 9\n  <<: {b: 8, e: 5}\n';
    const config = parse(text);
    expect(config.svc).toStrictEqual({ a: 0, b: 2, c: 4 });
    expect(config.inline).toStrictEqual({ b: 9, e: 5 });
    expect(Object.keys(config.svc as object)).toEqual(['a', 'b', 'c']);
  });

  it('reads a quoted "<<" and a tagged one as an ordinary key', () => {
    expect(parse('"<<": 1\n')).toStrictEqual({ '<<': 1 });
    expect(parse('!!str <<: 1\n')).toStrictEqual({ '<<': 1 });
  });

  it('takes keys named like members of Object.prototype as plain data', () => {
    const config = parse('toString: 1\nhasOwnProperty: 2\nvalueOf: {x: 1}\n');
    expect(Object.getOwnPropertyNames(config)).toEqual(['toString', 'hasOwnProperty', 'valueOf']);
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
  });

  it('nests to exactly maxDepth collections, the root counted, aliases included', () => {
    expect(parse('a: [[{}]]\n', 4)).toStrictEqual({ a: [[{}]] });
    expect(refusal('a: [[{b: 1}]]\n', 3)).toMatchObject({ code: 'ERR_PARSE', line: 1, column: 6 });
    expect(refusal('x: &x [[1]]\ny: [*x]\n', 3)).toMatchObject({ code: 'ERR_PARSE', line: 2, column: 5 });
    expect(refusal(`a: ${'['.repeat(300)}${']'.repeat(300)}\n`)).toMatchObject({ code: 'ERR_PARSE', message: expect.stringMatching(/nesting deeper than 256/) as unknown });
  });

  it('refuses nesting past the stack under a very high limit as ERR_PARSE, its RangeError as cause', () => {
    const error = refusal(`a: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`, 1e9);
    expect(error).toMatchObject({ code: 'ERR_PARSE', line: 1, column: 1 });
    expect(error.cause).toBeInstanceOf(RangeError);
  });
});

describe('parseYamlObject: refuses, with the position', () => {
  it.each([
    ['an empty text', '', 1, 1],
    ['a text of comments only', '# nothing\n', 1, 1],
    ['a root sequence', '- 1\n- 2\n', 1, 1],
    ['a root scalar', 'hello\n', 1, 1],
    ['two documents', 'a: 1\n---\nb: 2\n', 3, 1],
    ['a %YAML 1.1 document, whose yes and 010 mean something else', '%YAML 1.1\n---\na: yes\n', 1, 1],
    ['not YAML', 'a: [1, 2\nb: 3\n', 2, 1],
    ['a tab as indentation', 'a:\n\tb: 1\n', 2, 1],
    ['a duplicate key', 'a: 1\nb: 2\na: 3\n', 3, 1],
    ['keys 1 and "1", one key once read', '1: a\n"1": b\n', 2, 1],
    ['a duplicate key in a flow mapping', 'a: {x: 1, x: 2}\n', 1, 11],
    ['two merge keys', 'b: &b {x: 1}\na:\n  <<: *b\n  <<: *b\n', 4, 3],
    ['a merge of a scalar', 'a:\n  <<: 5\n', 2, 7],
    ['a merge of a sequence holding a scalar', 'b: &b {x: 1}\na:\n  <<: [*b, 2]\n', 3, 7],
    ['a mapping as a key', '? {a: 1}\n: 2\n', 1, 3],
    ['a sequence as a key', '? [a, b]\n: 2\n', 1, 3],
    ['an alias as a key', 'a: &k x\n*k : 1\n', 2, 1],
    ['an alias to no anchor', 'a: *nope\n', 1, 4],
    ['an alias to the node that holds it', 'a: &x [1, *x]\n', 1, 11],
    ['.inf', 'a: .inf\n', 1, 4],
    ['-.Inf', 'a: -.Inf\n', 1, 4],
    ['.nan', 'a: [1, .NaN]\n', 1, 8],
    ['a float out of range', 'a: 1e400\n', 1, 4],
    ['an integer past 2^53 - 1', 'a: 9007199254740993\n', 1, 4],
    ['a hexadecimal integer past 2^53 - 1', 'a: 0x20000000000001\n', 1, 4],
    ['!!int on text', 'a: !!int "x"\n', 1, 4],
    ['!!float on text', 'a: !!float x\n', 1, 4],
    ['!!bool on text', 'a: !!bool yes\n', 1, 4],
    ['!!null on text', 'a: !!null x\n', 1, 4],
    ['!!binary', 'a: !!binary aGk=\n', 1, 4],
    ['!!timestamp', 'a: !!timestamp 2001-12-14\n', 1, 4],
    ['!!set', 'a: !!set {x, y}\n', 1, 4],
    ['!!omap', 'a: !!omap [x: 1]\n', 1, 4],
    ['!!js/function', 'a: !!js/function "function () { return 1 }"\n', 1, 4],
    ['!!js/regexp', 'a: !!js/regexp /x/\n', 1, 4],
    ['!!python/object/apply', 'a: !!python/object/apply:os.system ["ls"]\n', 1, 4],
    ['a local tag', 'a: !custom x\n', 1, 4],
    ['!!seq on a mapping', 'a: !!seq {x: 1}\n', 1, 4],
    ['a tag on a key', '!!binary aGk=: 1\n', 1, 1],
  ])('%s', (_, text, line, column) => {
    expect(refusal(text)).toMatchObject({ code: 'ERR_PARSE', line, column });
  });

  it("gives js-yaml's error as the cause of a syntax error", () => {
    const error = refusal('a: "unterminated\n');
    expect(error.code).toBe('ERR_PARSE');
    expect((error.cause as Error).name).toBe('YAMLException');
  });

  it.each([
    ['__proto__ at the root', '__proto__: {polluted: 1}\n', '__proto__', '', 1, 1],
    ['a quoted __proto__ deeper', 'a:\n  b:\n    "__proto__": 1\n', '__proto__', '/a/b', 3, 5],
    ['__proto__ in a sequence item', 'a:\n  - x: 1\n  - __proto__: 1\n', '__proto__', '/a/1', 3, 5],
    ['__proto__ in a merged mapping (the shape of CVE-2025-64718)', 'a:\n  <<: {__proto__: {polluted: 1}}\n', '__proto__', '/a/<<', 2, 8],
    ['__proto__ in an anchored mapping', 'base: &b {__proto__: 1}\nuse: *b\n', '__proto__', '/base', 1, 11],
    ['constructor.prototype', 'constructor:\n  prototype:\n    polluted: 1\n', 'constructor', '', 1, 1],
    ['a prototype key', 'a: {prototype: 1}\n', 'prototype', '/a', 1, 5],
  ])('refuses %s with ERR_UNSAFE_KEY, and Object.prototype stays clean', (_, text, key, pointer, line, column) => {
    expect(refusal(text)).toMatchObject({ code: 'ERR_UNSAFE_KEY', key, pointer, line, column });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseYamlObject: aliases are bounded', () => {
  /** Levels of `width` aliases each to the level below: width^levels values once copied. */
  function laughs(levels: number, width: number): string {
    const lines = [`l0: &l0 [${Array.from({ length: width }, () => '"lol"').join(', ')}]`];
    for (let level = 1; level < levels; level++) lines.push(`l${level}: &l${level} [${Array.from({ length: width }, () => `*l${level - 1}`).join(', ')}]`);
    return `${lines.join('\n')}\n`;
  }

  it('refuses a billion laughs as ERR_PARSE at the alias that goes past the budget, quickly', () => {
    const error = refusal(laughs(9, 9));
    expect(error).toMatchObject({ code: 'ERR_PARSE' });
    expect(error.message).toMatch(/alias bomb/);
  });

  it('allows aliases to add as many values as the document writes, or the floor when that is more', () => {
    // Reuse of a small anchor well under the floor: allowed.
    expect(Object.keys(parse(laughs(4, 9))).length).toBe(4);
    // Just past the floor: 5 levels of 10 add 111,110 values (the first 10 are written out).
    expect(ALIAS_VALUE_FLOOR).toBe(100_000);
    expect(refusal(laughs(6, 10)).message).toMatch(/more than 100000 values/);
  });

  it('lets a long document alias as much as it writes out', () => {
    const items = Array.from({ length: 60_000 }, (_, i) => `  - ${i}`).join('\n');
    const text = `list: &l\n${items}\ncopy: *l\n`;
    const config = parse(text) as { list: number[]; copy: number[] };
    expect(config.copy).toHaveLength(60_000);
    expect(refusal(`${text}again: *l\n`).message).toMatch(/alias bomb/);
  });
});
