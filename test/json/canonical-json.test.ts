import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INLINE_LIMIT, canonicalJson, deriveDigest, digestOf } from '../../src/json/canonical-json.js';
import { copyJson, markChecked } from '../../src/json/checked-json.js';
import { setMember } from '../../src/json/plain-object.js';

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

// The digest's definition (docs/decisions.md), written out literally: no cache, no
// shortcut, every size measured on the whole text.
const reference = (() => {
  const isNode = (v: unknown): v is object => v !== null && typeof v === 'object';
  const members = (v: object): [string, unknown][] =>
    Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort().map((k) => [k, (v as Record<string, unknown>)[k]]);
  const text = (v: unknown): string => {
    if (v === undefined) return 'null';
    if (Array.isArray(v)) return `[${v.map(text).join(',')}]`;
    if (isNode(v)) return `{${members(v).map(([k, c]) => `${JSON.stringify(k)}:${text(c)}`).join(',')}}`;
    return JSON.stringify(v);
  };
  const size = (v: unknown): number => Buffer.byteLength(text(v), 'utf8');
  const isLarge = (v: unknown): boolean => isNode(v) && size(v) > 256;
  const ref = (c: unknown): string => (isLarge(c) ? `#${digest(c)}` : text(c));
  const enc = (v: unknown): string => {
    if (!isLarge(v)) return text(v);
    if (Array.isArray(v)) return `[${v.map(ref).join(',')}]`;
    const parts = members(v as object).map(([k, c]) => `${JSON.stringify(k)}:${ref(c)}`);
    if (parts.length <= 64) return `{${parts.join(',')}}`;
    // A wide object: the digests of its runs of 64 member encodings.
    const runs: string[] = [];
    for (let start = 0; start < parts.length; start += 64) runs.push(`#${sha256(parts.slice(start, start + 64).join(','))}`);
    return `{${runs.join(',')}}`;
  };
  const digest = (v: unknown): string => sha256(enc(v));
  return { text, size, isLarge, digest };
})();

/** A plain object with these members, in this order (a key Object.prototype has, like `toString`, stays a plain key). */
const objectOf = (entries: readonly (readonly [string, unknown])[]): Record<string, unknown> => {
  const object: Record<string, unknown> = {};
  for (const [key, value] of entries) setMember(object, key, value);
  return object;
};

/** `value` with the members of every object in reverse order. */
const reversed = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(reversed);
  if (value === null || typeof value !== 'object') return value;
  return objectOf(Object.entries(value).reverse().map(([key, item]) => [key, reversed(item)] as const));
};

/**
 * A checked (frozen, registered) copy of `value`: a snapshot's node. A checked array has
 * no `undefined` item, so those become the `null` they are written as.
 */
const checked = (value: unknown): unknown => {
  const nulls = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map((item) => (item === undefined ? null : nulls(item)));
    if (v === null || typeof v !== 'object') return v;
    return objectOf(Object.entries(v).map(([key, item]) => [key, nulls(item)] as const));
  };
  return copyJson(nulls(value), { freeze: true });
};

/** `value` with the subtrees `pick` chooses replaced by checked copies. */
const mixed = (value: unknown, pick: () => boolean): unknown => {
  if (value === null || typeof value !== 'object') return value;
  if (pick()) return checked(value);
  if (Array.isArray(value)) return value.map((item) => mixed(item, pick));
  return objectOf(Object.entries(value).map(([key, item]) => [key, mixed(item, pick)] as const));
};

// Strings from every range UTF-8 encodes differently (1, 2, 3 and 4 bytes), lone
// surrogates and characters JSON escapes; long enough that values cross INLINE_LIMIT.
const char = fc.constantFrom('a', 'z', '"', '\\', '\n', '\u0000', 'é', 'ß', '€', '日', '\u2028', '😀', '\ud800', '#', '{');
const string = fc.oneof(fc.string({ unit: char, maxLength: 8 }), fc.string({ unit: char, maxLength: 120 }), fc.string({ unit: 'binary', maxLength: 60 }));
// No key that can pollute prototypes: a checked node never holds one (they are refused).
const key = fc.oneof(fc.constantFrom('a', 'b', '', 'toString', 'hasOwnProperty', 'B', 'é', '😀', '\uffff'), fc.string({ unit: char, maxLength: 6 }));
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('object'), tie('array')),
  leaf: fc.oneof(string, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null)),
  object: fc.array(fc.tuple(key, fc.option(tie('value'), { nil: undefined, freq: 8 })), { maxLength: 8 }).map(objectOf),
  array: fc.array(fc.option(tie('value'), { nil: undefined, freq: 8 }), { maxLength: 8 }),
})).value;

/** A config of 300 services with nested objects and arrays: about 50 KB of canonical JSON. */
const big = (): Record<string, unknown> => {
  const services: Record<string, unknown> = {};
  for (let i = 0; i < 300; i++) services[`s${299 - i}`] = { name: `service ${i} ☃`, list: [i, { z: true, a: null }], long: 'x'.repeat(100) };
  return { services, b: [services.s1, 'y'.repeat(3 * INLINE_LIMIT)], a: 1 };
};

describe('canonicalJson', () => {
  const sortedStringify = (value: unknown): string => JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );

  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: null }], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[1,{"y":null,"z":1}]},"b":1}');
  });

  it('writes empty objects and arrays, and undefined array items as null', () => {
    expect(canonicalJson({ a: {}, b: [], c: [undefined, 1] })).toBe('{"a":{},"b":[],"c":[null,1]}');
  });

  it('gives the whole sorted JSON of a big value, frozen or not, before and after its digest', () => {
    const mutable = big();
    const text = sortedStringify(mutable);
    expect(canonicalJson(mutable)).toBe(text);
    const frozen = checked(big());
    expect(canonicalJson(frozen)).toBe(text);
    digestOf(frozen);
    expect(canonicalJson(frozen)).toBe(text);
  });

  it('gives fresh text for a node frozen by someone else whose child is still mutable, and never caches a mutable one', () => {
    const child = { k: 1 };
    const shallow = Object.freeze({ child });
    expect(canonicalJson(shallow)).toBe('{"child":{"k":1}}');
    child.k = 2;
    expect(canonicalJson(shallow)).toBe('{"child":{"k":2}}');
    const mutable = { k: 1 };
    expect(canonicalJson(mutable)).toBe('{"k":1}');
    mutable.k = 2;
    expect(canonicalJson(mutable)).toBe('{"k":2}');
  });

  it('matches the sorted JSON of generated values', () => {
    fc.assert(fc.property(value, (v) => {
      expect(canonicalJson(v)).toBe(sortedStringify(v));
      expect(canonicalJson(v)).toBe(reference.text(v));
    }), { numRuns: 300 });
  });
});

describe('digestOf: a SHA-256 tree hash of canonical JSON', () => {
  it('is the SHA-256 of the canonical JSON for a config of at most INLINE_LIMIT bytes', () => {
    expect(INLINE_LIMIT).toBe(256);
    expect(digestOf({ a: 1 })).toBe(sha256('{"a":1}'));
    expect(digestOf({ b: [2, { d: null, c: 'é' }], a: 1 })).toBe(sha256('{"a":1,"b":[2,{"c":"é","d":null}]}'));
    expect(digestOf('text')).toBe(sha256('"text"'));
    fc.assert(fc.property(value, (v) => {
      fc.pre(reference.size(v) <= INLINE_LIMIT);
      expect(digestOf(v)).toBe(sha256(canonicalJson(v)));
      expect(digestOf(checked(v))).toBe(sha256(canonicalJson(v)));
    }), { numRuns: 300 });
  });

  it('matches the definition written out literally, for generated values mutable, checked and mixed', () => {
    let large = 0;
    fc.assert(fc.property(value, fc.infiniteStream(fc.boolean()), (v, coins) => {
      if (reference.isLarge(v)) large++;
      const expected = reference.digest(v);
      expect(digestOf(v)).toBe(expected);
      const copy = checked(v);
      expect(digestOf(copy)).toBe(expected);
      expect(digestOf(copy)).toBe(expected);
      const flips = coins[Symbol.iterator]();
      expect(digestOf(mixed(v, () => flips.next().value === true))).toBe(expected);
    }), { numRuns: 400 });
    // The generator must reach the tree encoding, not only the inline one.
    expect(large).toBeGreaterThan(40);
  });

  it('matches the definition for a big config with large and small children', () => {
    const expected = reference.digest(big());
    expect(expected).not.toBe(sha256(canonicalJson(big())));
    expect(digestOf(big())).toBe(expected);
    expect(digestOf(checked(big()))).toBe(expected);
  });

  it('counts INLINE_LIMIT in bytes of UTF-8, not in characters', () => {
    // {"s":"…"} is 8 bytes around the string's content.
    for (const [filler, bytes] of [['é', 2], ['€', 3], ['😀', 4], ['x', 1]] as const) {
      for (const total of [INLINE_LIMIT - 1, INLINE_LIMIT, INLINE_LIMIT + 1, INLINE_LIMIT + 2, INLINE_LIMIT + 3]) {
        const content = total - 8;
        const count = Math.floor(content / bytes);
        const child = { s: filler.repeat(count) + 'x'.repeat(content - count * bytes) };
        const text = canonicalJson(child);
        expect(Buffer.byteLength(text)).toBe(total);
        const parent = { child, pad: 'p'.repeat(INLINE_LIMIT) };
        const childRef = total > INLINE_LIMIT ? `#${sha256(text)}` : text;
        const expected = sha256(`{"child":${childRef},"pad":"${'p'.repeat(INLINE_LIMIT)}"}`);
        expect(digestOf(parent)).toBe(expected);
        expect(digestOf(checked(parent))).toBe(expected);
        // A large node whose children are all small is encoded as its own text.
        expect(digestOf(child)).toBe(sha256(text));
      }
    }
  });

  it('writes a large child as # and its digest, which no string member can imitate', () => {
    const large = big();
    const inner = digestOf(large);
    expect(digestOf({ a: large })).toBe(sha256(`{"a":#${inner}}`));
    expect(digestOf([large, 1])).toBe(sha256(`[#${inner},1]`));
    expect(digestOf({ a: `#${inner}` })).not.toBe(digestOf({ a: large }));
    expect(digestOf([`#${inner}`, 1])).not.toBe(digestOf([large, 1]));
  });

  it('never depends on key order', () => {
    expect(digestOf({ a: 1, b: [2] })).toBe(digestOf({ b: [2], a: 1 }));
    expect(digestOf(reversed(big()))).toBe(digestOf(big()));
    expect(digestOf(copyJson(reversed(big()), { freeze: true }))).toBe(digestOf(big()));
    fc.assert(fc.property(value, (v) => {
      expect(digestOf(reversed(v))).toBe(digestOf(v));
    }), { numRuns: 200 });
  });

  it('gives different values different digests', () => {
    const byText = new Map<string, string>();
    fc.assert(fc.property(value, (v) => {
      byText.set(canonicalJson(v), digestOf(v));
    }), { numRuns: 500 });
    const { services } = big() as { services: Record<string, { list: unknown[] }> };
    for (const variant of [big(), { ...big(), a: 2 }, { ...big(), b: [] }, { services }, services]) byText.set(canonicalJson(variant), digestOf(variant));
    services.s3!.list.push(0);
    byText.set(canonicalJson({ services }), digestOf({ services }));
    expect(new Set(byText.values()).size).toBe(byText.size);
  });
});

describe('digestOf over generations', () => {
  // The store's reload: copy the path to the changed leaf, share everything else.
  const withLeaf = (root: unknown, path: readonly string[], leaf: unknown): unknown => {
    if (path.length === 0) return leaf;
    const [head, ...rest] = path as [string, ...string[]];
    const node = root as Record<string, unknown>;
    return markChecked({ ...node, [head]: withLeaf(node[head], rest, leaf) });
  };

  it('gives a config that shares all but one path with a checked one the digest of its whole value', () => {
    const live = checked(big());
    expect(digestOf(live)).toBe(reference.digest(big()));
    const next = withLeaf(live, ['services', 's42', 'name'], 'renamed');
    const plain = big() as { services: Record<string, { name: string }> };
    plain.services.s42!.name = 'renamed';
    expect(digestOf(next)).toBe(reference.digest(plain));
    expect(digestOf(next)).toBe(digestOf(plain));
    expect(digestOf(withLeaf(next, ['services', 's42', 'name'], 'service 257 ☃'))).toBe(digestOf(live));
  });

  it('gives a large mutable node changed in place a fresh digest, equal to its checked copy\'s', () => {
    const mutable = big() as { services: Record<string, { name: string; list: unknown[] }> };
    const before = digestOf(mutable);
    expect(digestOf(checked(mutable))).toBe(before);
    mutable.services.s7!.name = 'changed';
    const after = digestOf(mutable);
    expect(after).not.toBe(before);
    expect(after).toBe(reference.digest(mutable));
    expect(digestOf(checked(mutable))).toBe(after);
    mutable.services.s7!.list.push({ more: 'x'.repeat(INLINE_LIMIT) });
    expect(digestOf(mutable)).toBe(reference.digest(mutable));
  });

  it('gives fresh text and digest for a node frozen by someone else whose child is still mutable', () => {
    const child = { k: 1 };
    const shallow = Object.freeze({ child });
    const before = digestOf(shallow);
    child.k = 2;
    expect(digestOf(shallow)).not.toBe(before);
    expect(digestOf(shallow)).toBe(digestOf({ child: { k: 2 } }));
    // The same for large nodes, whose digest a checked node would keep.
    const services = big().services as Record<string, { name: string }>;
    const frozen = Object.freeze({ services: Object.freeze(services), list: Object.freeze([services.s1]) });
    const large = digestOf(frozen);
    services.s1!.name = 'changed';
    expect(digestOf(frozen)).not.toBe(large);
    expect(digestOf(frozen)).toBe(reference.digest(frozen));
  });
});

describe('deriveDigest: a wide object\'s digest from its previous version', () => {
  const wide = (size: number): Record<string, unknown> => {
    const members: Record<string, unknown> = {};
    for (let index = 0; index < size; index++) members[`k${String(index).padStart(4, '0')}`] = index % 3 === 0 ? { n: index, tags: ['a', 'é'.repeat(index % 5)] } : `v${index}`;
    return members;
  };

  it('hashes an object of more than 64 members as the digests of its runs of 64, as the definition says', () => {
    for (const size of [64, 65, 128, 129, 300]) {
      const value = wide(size);
      expect(digestOf(value)).toBe(reference.digest(value));
      expect(digestOf(copyJson(value, { freeze: true }))).toBe(reference.digest(value));
      // One member `undefined`: not counted, not encoded.
      expect(digestOf({ ...value, k0000: undefined })).toBe(reference.digest({ ...value, k0000: undefined }));
    }
  });

  it('gives the digest of a fresh computation for members changed, added and removed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 60, max: 140 }),
        fc.array(fc.record({ key: fc.oneof(fc.nat(200).map((n) => `k${String(n).padStart(4, '0')}`), fc.constantFrom('', 'a', '~', 'é', '😀', 'k0000 ')), value: fc.oneof(fc.constant(undefined), fc.string(), fc.record({ x: fc.nat() }), fc.constant('#' + 'f'.repeat(64))) }), { maxLength: 12 }),
        (size, changes) => {
          const previous = copyJson(wide(size), { freeze: true }) as Record<string, unknown>;
          expect(digestOf(previous)).toBe(digestOf(wide(size)));
          const next: Record<string, unknown> = { ...previous };
          for (const { key, value } of changes) {
            if (value === undefined) Reflect.deleteProperty(next, key);
            else next[key] = copyJson(value, { freeze: true });
          }
          markChecked(next);
          deriveDigest(next, previous, changes.map((change) => change.key));
          expect(digestOf(next)).toBe(digestOf(copyJson(next)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('leaves a node it cannot derive to the full computation: a narrow previous one, or a node not checked', () => {
    const narrow = copyJson({ a: 1, b: 2 }, { freeze: true }) as Record<string, unknown>;
    const next = markChecked({ ...narrow, a: 3 });
    deriveDigest(next, narrow, ['a']);
    expect(digestOf(next)).toBe(digestOf({ a: 3, b: 2 }));
    const previous = copyJson(wide(100), { freeze: true }) as Record<string, unknown>;
    digestOf(previous);
    const mutable: Record<string, unknown> = { ...previous, k0001: 'changed' };
    deriveDigest(mutable, previous, ['k0001']);
    mutable.k0002 = 'changed too';
    expect(digestOf(mutable)).toBe(digestOf(copyJson(mutable)));
  });
});
