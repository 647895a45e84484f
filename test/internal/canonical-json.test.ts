import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, digestOf } from '../../src/internal/canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: null }], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[1,{"y":null,"z":1}]},"b":1}');
  });

  it('gives equal configs the same digest whatever their key order', () => {
    expect(digestOf({ a: 1, b: [2] })).toBe(digestOf({ b: [2], a: 1 }));
    expect(digestOf({ a: 1 })).toBe(createHash('sha256').update('{"a":1}').digest('hex'));
    expect(digestOf({ a: 1 })).not.toBe(digestOf({ a: 2 }));
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
