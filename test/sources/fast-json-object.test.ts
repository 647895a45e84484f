import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countKeys, fastJsonObject, keyBound } from '../../src/sources/fast-json-object.js';
import { parseWithPositions } from '../../src/sources/parse-json-object.js';

const options = { source: 'test.json', maxDepth: 8 };

/** What the full parser makes of `text`: its value, or the code it refuses it with. */
function full(text: string): { readonly value: unknown } | { readonly refused: string } {
  try {
    return { value: parseWithPositions(text, options) };
  } catch (error) {
    return { refused: (error as { code: string }).code };
  }
}

/** The same value with the same key order everywhere (toEqual ignores key order). */
function ordered(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'object' && item !== null && !Array.isArray(item) ? Object.entries(item) : item));
}

/** JSON object text whose members may repeat a key, may use unsafe keys, nest, and carry awkward strings. */
const hostileObjectText: fc.Arbitrary<string> = fc.letrec<{ value: string; object: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom('1', '-0', '1e400', '-1e-400', '123456789012345678901234567890', 'true', 'null', '"x"', '"a\\"b"', '"\\\\"', '"c:d"', '"\\ud800"', '[]', '{}'),
    fc.string().map((text) => JSON.stringify(text)),
    fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
    tie('object'),
  ),
  object: fc
    .array(fc.tuple(fc.oneof(fc.constantFrom('a', 'b', '__proto__', 'constructor', 'prototype', 'a\\"', '\\\\', '1', ' '), fc.string()), tie('value')), { maxLength: 4 })
    .chain((members) =>
      fc.constantFrom('', ' ', '\n').map((space) => `{${members.map(([key, value]) => `${space}${JSON.stringify(key)}${space}:${space}${value}`).join(',')}${space}}`),
    ),
})).object;

describe('fastJsonObject', () => {
  it('accepts only what the full parser accepts, and then yields the same value, key order included', () => {
    fc.assert(
      fc.property(fc.oneof(hostileObjectText, fc.json()), (text) => {
        const fast = fastJsonObject(text, options.maxDepth);
        const expected = full(text);
        if ('refused' in expected) expect(fast).toBeUndefined();
        else if (fast !== undefined) expect(ordered(fast)).toBe(ordered(expected.value));
      }),
      { numRuns: 3000 },
    );
  });

  it('vouches for every config of the usual kind: names for keys, plain values, no duplicates', () => {
    const name = fc.stringMatching(/^[A-Za-z_][\w-]{0,12}$/).filter((key) => key !== 'constructor' && key !== 'prototype');
    const plain = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.stringMatching(/^[\w .:/@=-]{0,24}$/));
    const section = fc.dictionary(name, fc.oneof(plain, fc.array(plain, { maxLength: 4 })), { maxKeys: 6 });
    fc.assert(
      fc.property(fc.dictionary(name, fc.oneof(plain, section), { maxKeys: 6 }), fc.constantFrom(undefined, 2), (config, indent) => {
        const text = JSON.stringify(config, null, indent);
        expect(fastJsonObject(text, 64)).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['a duplicate key', '{"a":1,"a":2}'],
    ['a duplicate key in a nested object', '{"o":{"k":1,"k":1}}'],
    ['an unsafe key', '{"__proto__":{"x":1}}'],
    ['a constructor key deep inside', '{"a":[{"constructor":{"prototype":1}}]}'],
    ['a number out of range', '{"a":1e400}'],
    ['nesting past maxDepth', `{"a":${'['.repeat(8)}${']'.repeat(8)}}`],
    ['an array at the root', '[1]'],
    ['a string at the root', '"x"'],
    ['invalid JSON', '{"a":1,}'],
    ['nothing', ''],
  ])('leaves %s to the full parser', (_what, text) => {
    expect(fastJsonObject(text, options.maxDepth)).toBeUndefined();
    expect(full(text)).toHaveProperty('refused');
  });

  it('counts every key, white space before the colon too, and a colon in a string only after an escaped quote', () => {
    expect(keyBound('{"a":"b:c","d\\"":"e\\\\","f" : ["g:"],"h"\n\t:1}')).toBe(4);
    expect(keyBound('{"\\\\":1}')).toBe(1);
    // A string starting with a colon, or an escaped quote before one, counts one more: the exact count decides.
    const text = '{"a":"x\\":y","b":{"c":"\\\\","p":":8080"}}';
    expect(keyBound(text)).toBe(6);
    expect(countKeys(text)).toBe(4);
    expect(fastJsonObject(text, 8)).toEqual({ a: 'x":y', b: { c: '\\', p: ':8080' } });
    expect(countKeys('{"a":"b:c","d\\"":"e\\\\","f" : ["g:"],"h"\n\t:1}')).toBe(4);
  });
});
