// layered() (DESIGN.md §5.2): layers lowest first, objects merge, scalars and arrays
// replace; every read reads every layer; conflicts 'reject' names both origins;
// origins answer for any path with the winner and what it shadowed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError, ConflictError, defaults, hasErrorCode, layered, type ConfigSource, type Origins, type SourceReading } from '../../../src/index.js';
import { rejection } from '../../helpers/rejection.js';

/** A layer that reads `value` (fresh each read, so merges must not change it) with origins naming `kind` and each leaf's pointer. */
function layer(kind: string, value: unknown, extra: Partial<SourceReading> = {}): ConfigSource & { reads: number } {
  const source = {
    name: `${kind}:test`,
    reads: 0,
    read: () => {
      source.reads++;
      return Promise.resolve({ value: structuredClone(value), origins: leafOrigins(kind, value), ...extra });
    },
  };
  return source;
}

function leafOrigins(kind: string, value: unknown): Origins {
  return {
    explain: (pointer) => (pointer === '' || has(value, pointer) ? { layer: kind, origin: { key: pointer }, shadowed: [] } : undefined),
  };
}

function has(value: unknown, pointer: string): boolean {
  let node = value;
  for (const key of pointer.slice(1).split('/')) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

const signal = new AbortController().signal;

describe('layered', () => {
  it('merges objects member by member; scalars and arrays replace; key order is the lowest layer first', async () => {
    const source = layered([
      layer('a', { server: { port: 1, host: 'h', tags: ['x', 'y'] }, only: { a: 1 } }),
      layer('b', { server: { port: 2, tags: ['z'] }, more: true }),
    ]);
    const { value } = await source.read({ signal });
    expect(value).toStrictEqual({ server: { port: 2, host: 'h', tags: ['z'] }, only: { a: 1 }, more: true });
    expect(Object.keys(value as object)).toStrictEqual(['server', 'only', 'more']);
  });

  it('reads every layer again on every read', async () => {
    const a = layer('a', { x: 1 });
    const b = layer('b', { y: 1 });
    const source = layered([a, b]);
    await source.read({ signal });
    await source.read({ signal });
    expect([a.reads, b.reads]).toStrictEqual([2, 2]);
  });

  it('never changes what a layer read', async () => {
    const lower = { server: { port: 1 } };
    const frozen = defaults(lower);
    const source = layered([frozen, layer('b', { server: { host: 'h' } })]);
    await source.read({ signal });
    expect(lower).toStrictEqual({ server: { port: 1 } });
    const again = await frozen.read({ signal });
    expect(again.value).toStrictEqual({ server: { port: 1 } });
  });

  it("with conflicts: 'reject', refuses a key set by two layers, naming both origins", async () => {
    const source = layered([layer('file', { server: { port: 1 } }), layer('argv', { server: { port: 2 } })], { conflicts: 'reject' });
    const error = await rejection(source.read({ signal }));
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).code).toBe('ERR_CONFLICT');
    expect((error as ConflictError).pointer).toBe('/server/port');
    expect((error as ConflictError).sides).toStrictEqual([
      { layer: 'file', origin: { key: '/server/port' } },
      { layer: 'argv', origin: { key: '/server/port' } },
    ]);
  });

  it("with conflicts: 'reject', an object against a scalar is a conflict too, but two objects merge", async () => {
    await expect(layered([layer('file', { server: { port: 1 } }), layer('env', { server: 'x' })], { conflicts: 'reject' }).read({ signal })).rejects.toMatchObject({ code: 'ERR_CONFLICT', pointer: '/server' });
    const merged = await layered([layer('file', { server: { port: 1 } }), layer('env', { server: { host: 'h' } })], { conflicts: 'reject' }).read({ signal });
    expect(merged.value).toStrictEqual({ server: { port: 1, host: 'h' } });
  });

  it("never counts defaults() in a conflict: they exist to be overridden", async () => {
    const source = layered([defaults({ server: { port: 8080 } }), layer('file', { server: { port: 1 } }), layer('argv', { server: { host: 'h' } })], { conflicts: 'reject' });
    expect((await source.read({ signal })).value).toStrictEqual({ server: { port: 1, host: 'h' } });
  });

  it('explains a path: the highest layer that holds it wins, lower ones are shadowed, highest first', async () => {
    const source = layered([defaults({ server: { port: 8080 } }), layer('file', { server: { port: 1 } }), layer('env', {}), layer('argv', { server: { port: 3 } })]);
    const { origins } = await source.read({ signal });
    expect(origins?.explain('/server/port')).toStrictEqual({
      layer: 'argv',
      origin: { key: '/server/port' },
      shadowed: [
        { layer: 'file', origin: { key: '/server/port' }, value: 1 },
        { layer: 'defaults', origin: {}, value: 8080 },
      ],
    });
    expect(origins?.explain('/nope')).toBeUndefined();
  });

  it('stops at a value that replaced the path whole: a scalar or an array above it', async () => {
    const source = layered([layer('a', { list: [{ x: 1 }], s: { deep: 1 } }), layer('b', { list: [{ x: 2 }, { x: 3 }], s: 'flat' }), layer('c', {})]);
    const { value, origins } = await source.read({ signal });
    expect(value).toStrictEqual({ list: [{ x: 2 }, { x: 3 }], s: 'flat' });
    expect(origins?.explain('/list/0/x')).toMatchObject({ layer: 'b', shadowed: [{ layer: 'a', value: 1 }] });
    // b's array has no third item: nothing below reaches it either.
    expect(origins?.explain('/list/2')).toBeUndefined();
    expect(origins?.explain('/s/deep')).toBeUndefined();
  });

  it('asks a lower layer where its value is only when the shadowed values are read: a reload never scans a file for them', async () => {
    let asked = 0;
    const lower: ConfigSource = {
      name: 'file:big',
      read: () =>
        Promise.resolve({
          value: { port: 1 },
          origins: {
            explain: () => {
              asked++;
              return { layer: 'file', origin: { file: 'big', line: 1, column: 9 }, shadowed: [] };
            },
          },
        }),
    };
    const { origins } = await layered([lower, layer('env', { port: '2' })]).read({ signal });
    const provenance = origins?.explain('/port');
    expect(provenance?.layer).toBe('env');
    expect(asked).toBe(0);
    expect(provenance?.shadowed).toStrictEqual([{ layer: 'file', origin: { file: 'big', line: 1, column: 9 }, value: 1 }]);
    expect(asked).toBe(1);
  });

  it('passes on the texts no higher layer replaced', async () => {
    const texts = (pointers: string[]): Partial<SourceReading> => ({ origins: { explain: () => undefined, texts: pointers } });
    const source = layered([layer('env', { a: '1', b: '2' }, texts(['/a', '/b'])), layer('file', { a: 5 })]);
    expect((await source.read({ signal })).origins?.texts).toStrictEqual(['/b']);
  });

  it('fails the whole read when one layer fails, after the others settled, with that failure', async () => {
    let settled = false;
    const slow: ConfigSource = {
      name: 'slow',
      read: async ({ signal: aborted }) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        settled = true;
        expect(aborted.aborted).toBe(true);
        return { value: {} };
      },
    };
    const failure = new Error('cannot read');
    const failing: ConfigSource = { name: 'failing', read: () => Promise.reject(failure) };
    await expect(layered([slow, failing]).read({ signal })).rejects.toBe(failure);
    expect(settled).toBe(true);
  });

  it('refuses a layer whose reading is not an object, naming it', async () => {
    const error = await rejection(layered([layer('a', {}), { name: 'bad', read: () => Promise.resolve({ value: [1] }) }]).read({ signal }));
    expect(hasErrorCode(error, 'ERR_ARGUMENT')).toBe(true);
    expect(error).toMatchObject({ argument: 'layers[1]' });
  });

  it('refuses bad arguments', () => {
    expect(() => layered([])).toThrow(ArgumentError);
    expect(() => layered([{ name: '', read: () => Promise.resolve({ value: {} }) }])).toThrow(expect.objectContaining({ argument: 'layers[0]' }) as Error);
    expect(() => layered([layer('a', {})], { conflicts: 'merge' as 'reject' })).toThrow(expect.objectContaining({ argument: 'conflicts' }) as Error);
    expect(() => layered([layer('a', {})], { debounceMs: -1 })).toThrow(expect.objectContaining({ argument: 'debounceMs' }) as Error);
  });

  it('turns a burst of changes from any layers into one call, and stops every watch', async () => {
    const handlers: (() => void)[] = [];
    let stopped = 0;
    const watching = (name: string): ConfigSource => ({
      name,
      read: () => Promise.resolve({ value: {} }),
      watch: (onChange) => {
        handlers.push(onChange);
        return () => {
          stopped++;
        };
      },
    });
    let calls = 0;
    const stop = layered([watching('a'), layer('plain', {}), watching('b')], { debounceMs: 30 }).watch?.(() => {
      calls++;
    });
    for (const handler of [...handlers, ...handlers]) handler();
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(calls).toBe(1);
    handlers[1]?.();
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(calls).toBe(2);
    stop?.();
    handlers[0]?.();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(calls).toBe(2);
    expect(stopped).toBe(2);
  });

  it('closes every layer, and reports every failure', async () => {
    const closing = (name: string, fail: boolean): ConfigSource => ({ name, read: () => Promise.resolve({ value: {} }), close: () => (fail ? Promise.reject(new Error(name)) : Promise.resolve()) });
    await expect(layered([closing('a', false), closing('b', true)]).close?.()).rejects.toThrow('b');
    await expect(layered([closing('a', true), closing('b', true)]).close?.()).rejects.toBeInstanceOf(AggregateError);
  });
});

// Generated layer stacks: objects up to three deep over a small key alphabet (so layers
// overlap), including keys that pollute prototypes when merged carelessly.
const KEYS = ['a', 'b', 'c', 'port', '__proto__', 'constructor', 'toString'];
const leaf = fc.oneof(fc.integer(), fc.string({ maxLength: 3 }), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }));
const tree: fc.Arbitrary<Record<string, unknown>> = fc.letrec<{ node: Record<string, unknown> }>((tie) => ({
  node: fc.dictionary(fc.constantFrom(...KEYS), fc.oneof({ depthSize: 'small', maxDepth: 3 }, leaf, tie('node')), { maxKeys: 4 }),
})).node;

/** A JSON round trip, so `__proto__` is an own data key as a parser makes it. */
function asParsed(value: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

function leaves(value: unknown, pointer = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [pointer];
  const out = Object.keys(value).flatMap((key) => leaves((value as Record<string, unknown>)[key], `${pointer}/${key}`));
  return out.length === 0 ? [pointer] : out;
}

/** The highest layer whose value holds `pointer` with no scalar or array above it in a higher layer. */
function expectedWinner(values: readonly Record<string, unknown>[], pointer: string): number {
  const keys = pointer.slice(1).split('/');
  for (let index = values.length - 1; index >= 0; index--) {
    let node: unknown = values[index];
    let found = true;
    for (const key of keys) {
      if (typeof node !== 'object' || node === null || Array.isArray(node)) return -1;
      if (!Object.hasOwn(node, key)) {
        found = false;
        break;
      }
      node = (node as Record<string, unknown>)[key];
    }
    if (found) return index;
  }
  return -1;
}

describe('layered, over generated stacks', () => {
  it('the winning origin of 100% of leaves is the highest layer that set it, and merging never pollutes Object.prototype', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(tree, { minLength: 1, maxLength: 5 }), async (generated) => {
        const values = generated.map(asParsed);
        const source = layered(values.map((value, index) => layer(`l${index}`, value)));
        const { value, origins } = await source.read({ signal });
        expect(({} as Record<string, unknown>).a).toBeUndefined();
        expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
        for (const pointer of leaves(value)) {
          if (pointer === '') continue;
          const winner = expectedWinner(values, pointer);
          expect(origins?.explain(pointer)?.layer).toBe(`l${winner}`);
        }
      }),
      { numRuns: 300 },
    );
    expect(Object.keys(Object.prototype)).toStrictEqual([]);
  });
});

describe('defaults', () => {
  it('is a copy, frozen: changing the value later changes nothing', async () => {
    const value = { server: { port: 8080 }, tags: ['a'] };
    const source = defaults(value);
    value.server.port = 1;
    value.tags.push('b');
    const reading = await source.read({ signal });
    expect(reading.value).toStrictEqual({ server: { port: 8080 }, tags: ['a'] });
    expect(Object.isFrozen((reading.value as { server: object }).server)).toBe(true);
    expect(reading.origins?.explain('/server/port')).toStrictEqual({ layer: 'defaults', origin: {}, shadowed: [] });
    expect(reading.origins?.explain('/server/host')).toBeUndefined();
    expect(reading.origins?.explain('no pointer')).toBeUndefined();
  });

  it('refuses what is not a plain object of JSON data, and keys that pollute prototypes', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const value of [[1], new Date(), null, { f: () => 1 }, cyclic]) {
      expect(() => defaults(value as Record<string, unknown>)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT', argument: 'value' }) as Error);
    }
    for (const text of ['{"__proto__":{"x":1}}', '{"a":[{"constructor":1}]}', '{"a":{"prototype":1}}']) {
      expect(() => defaults(JSON.parse(text) as Record<string, unknown>)).toThrow(expect.objectContaining({ code: 'ERR_UNSAFE_KEY' }) as Error);
    }
  });
});
