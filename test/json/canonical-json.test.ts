import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CACHED_TEXT_LIMIT, canonicalJson, digestOf } from '../../src/json/canonical-json.js';
import { copyJson } from '../../src/json/checked-json.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: null }], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[1,{"y":null,"z":1}]},"b":1}');
  });

  it('gives equal configs the same digest whatever their key order', () => {
    expect(digestOf({ a: 1, b: [2] })).toBe(digestOf({ b: [2], a: 1 }));
    expect(digestOf({ a: 1 })).toBe(createHash('sha256').update('{"a":1}').digest('hex'));
    expect(digestOf({ a: 1 })).not.toBe(digestOf({ a: 2 }));
  });

  it('gives fresh text and digest for a node frozen by someone else whose child is still mutable', () => {
    const child = { k: 1 };
    const shallow = Object.freeze({ child });
    const before = digestOf(shallow);
    expect(canonicalJson(shallow)).toBe('{"child":{"k":1}}');
    child.k = 2;
    expect(canonicalJson(shallow)).toBe('{"child":{"k":2}}');
    expect(digestOf(shallow)).not.toBe(before);
    expect(digestOf(shallow)).toBe(digestOf({ child: { k: 2 } }));
  });

  it('reuses the text of a frozen subtree, and never caches a mutable one', () => {
    const frozen = Object.freeze({ k: 1 });
    expect(canonicalJson({ x: frozen })).toBe('{"x":{"k":1}}');
    const mutable = { k: 1 };
    expect(canonicalJson(mutable)).toBe('{"k":1}');
    mutable.k = 2;
    expect(canonicalJson(mutable)).toBe('{"k":2}');
  });
});

describe('canonicalJson of big nodes', () => {
  // Texts over CACHED_TEXT_LIMIT are written in pieces and never cached.
  const sortedStringify = (value: unknown): string => JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
  const big = (): Record<string, unknown> => {
    const services: Record<string, unknown> = {};
    for (let i = 0; i < 300; i++) services[`s${299 - i}`] = { name: `service ${i}`, list: [i, { z: true, a: null }], long: 'x'.repeat(100) };
    return { services, b: [services.s1, 'y'.repeat(CACHED_TEXT_LIMIT)], a: 1 };
  };

  it('gives the same text and digest as the whole sorted JSON, frozen or not', () => {
    const mutable = big();
    const text = sortedStringify(mutable);
    expect(text.length).toBeGreaterThan(2 * CACHED_TEXT_LIMIT);
    expect(canonicalJson(mutable)).toBe(text);
    expect(digestOf(mutable)).toBe(createHash('sha256').update(text).digest('hex'));
    const frozen = copyJson(big(), { freeze: true });
    expect(canonicalJson(frozen)).toBe(text);
    expect(digestOf(frozen)).toBe(digestOf(mutable));
    expect(digestOf(frozen)).toBe(digestOf(frozen));
  });

  it('sees a change of a big mutable tree', () => {
    const mutable = big() as { services: Record<string, { name: string }> };
    const before = digestOf(mutable);
    mutable.services.s7!.name = 'changed';
    expect(digestOf(mutable)).not.toBe(before);
    expect(canonicalJson(mutable)).toBe(sortedStringify(mutable));
  });

  it('writes empty objects and arrays, and undefined array items as null', () => {
    expect(canonicalJson({ a: {}, b: [], c: [undefined, 1] })).toBe('{"a":{},"b":[],"c":[null,1]}');
  });
});
