// Issue 14: the hostile input corpus (test/fixtures/hostile/, listed in its README) in
// every config format, each file fed to a running store the way a file layer reads it
// (strict UTF-8, BOM stripped, parsed by its extension). Every one ends as a typed error
// naming the file, the live config stays the very same object, and nothing reaches
// Object.prototype; what is not an attack (a wide document) is read whole.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigStore, ReloadError, isTxConfigError, type ReloadResult } from '../../../src/index.js';
import { formatOfPath, type ConfigFormat } from '../../../src/sources/formats/config-format.js';
import { parseConfigFormat } from '../../../src/sources/formats/parse-config-format.js';
import { decodeConfigBytes, withoutBom } from '../../../src/sources/read-config-file.js';

const hostile = fileURLToPath(new URL('../../fixtures/hostile/', import.meta.url));

const LIVE = { server: { tls: { cert: '/etc/a.pem' } }, limits: { max: 1 } };
// Permissive on purpose: whatever the reader lets through reaches the store as data.
const schema = { type: 'object' } as const;

const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();
afterEach(() => {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  expect((globalThis as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);
});

type AnyStore = ConfigStore<unknown, Record<string, unknown>, unknown>;

/** Reads a file as a file layer does: bytes, strict UTF-8, no BOM, parsed by its extension. */
async function readAsLayer(path: string, maxDepth = 256): Promise<Record<string, unknown>> {
  const text = withoutBom(decodeConfigBytes(await readFile(path), path));
  return parseConfigFormat(text, { format: formatOfPath(path) as ConfigFormat, source: path, maxDepth });
}

/** Parses generated text as `format` for the store. */
function parseText(text: string, format: ConfigFormat): () => Promise<Record<string, unknown>> {
  return () => parseConfigFormat(text, { format, source: `generated.${format}`, maxDepth: 256 });
}

/** Requests a reload with `load`; checks it was refused with `causeCode`, typed, the live snapshot untouched. */
async function expectRefused(store: AnyStore, load: () => unknown, causeCode: string): Promise<Error & { code: string }> {
  const before = store.load();
  const outcome: ReloadResult = await store.requestReload(load);
  expect(outcome.status).toBe('rejected');
  const error = (outcome as { error: ReloadError }).error;
  expect(error).toBeInstanceOf(ReloadError);
  expect(error.code).toBe('ERR_LOAD');
  expect(isTxConfigError(error.cause)).toBe(true);
  expect(error.cause).toMatchObject({ code: causeCode });
  expect(store.load()).toBe(before);
  return error.cause as Error & { code: string };
}

let store: AnyStore;
beforeEach(async () => {
  store = (await ConfigStore.create({ schema, initial: LIVE })) as AnyStore;
});

describe('prototype keys in every format', () => {
  it.each([
    ['proto-top-level.yaml', '__proto__', '', 1],
    ['proto-nested.yaml', '__proto__', '/server/tls', 4],
    ['proto-quoted.yaml', '__proto__', '', 1],
    ['proto-in-sequence.yaml', '__proto__', '/runtimes/1', 3],
    ['proto-in-merge.yaml', '__proto__', '/server/<<', 3],
    ['proto-in-anchor.yaml', '__proto__', '/base', 2],
    ['constructor-prototype.yaml', 'constructor', '', 1],
    ['prototype-key.yaml', 'prototype', '/limits', 2],
    ['proto-unquoted.json5', '__proto__', '', 1],
    ['proto-single-quoted.json5', '__proto__', '/a', 1],
    ['proto-escaped.json5', '__proto__', '', 1],
    ['constructor-prototype.json5', 'constructor', '', 1],
    ['prototype-key.json5', 'prototype', '/limits/0', 1],
  ])('refuses %s (ERR_UNSAFE_KEY %s in %s, line %i) and keeps the live config', async (file, key, pointer, line) => {
    const path = join(hostile, file);
    const cause = await expectRefused(store, () => readAsLayer(path), 'ERR_UNSAFE_KEY');
    expect(cause).toMatchObject({ key, pointer, line, path });
  });

  it.each([
    ['proto-table.toml', '__proto__', ''],
    ['proto-dotted.toml', '__proto__', '/a'],
    ['proto-quoted.toml', '__proto__', ''],
    ['proto-inline.toml', '__proto__', '/server/tls'],
    ['proto-array-of-tables.toml', '__proto__', ''],
    ['constructor-prototype.toml', 'constructor', ''],
    ['prototype-key.toml', 'prototype', '/limits'],
  ])('refuses %s (ERR_UNSAFE_KEY %s in %s; TOML keeps no positions) and keeps the live config', async (file, key, pointer) => {
    const path = join(hostile, file);
    const cause = await expectRefused(store, () => readAsLayer(path), 'ERR_UNSAFE_KEY');
    expect(cause).toMatchObject({ key, pointer, path });
  });
});

describe('YAML features that attack', () => {
  it.each([
    ['alias-bomb.yaml', /alias bomb/],
    ['alias-cycle.yaml', /contains it/],
    ['alias-undefined.yaml', /no anchor/],
    ['tag-js-function.yaml', /!!js\/function/],
    ['tag-python-apply.yaml', /!!python/],
    ['tag-local.yaml', /!include/],
    ['tag-binary.yaml', /!!binary/],
    ['tag-timestamp.yaml', /!!timestamp/],
    ['tag-set.yaml', /!!set/],
    ['complex-key.yaml', /must be a scalar/],
    ['yaml-1.1-directive.yaml', /YAML 1\.1/],
  ])('refuses %s with ERR_PARSE at its position, and keeps the live config', async (file, message) => {
    const path = join(hostile, file);
    const cause = await expectRefused(store, () => readAsLayer(path), 'ERR_PARSE');
    expect(cause.message).toMatch(message);
    expect(cause).toMatchObject({ path, line: expect.any(Number) as unknown, column: expect.any(Number) as unknown });
  });
});

describe('values JSON cannot hold, duplicates and invalid shapes', () => {
  it.each([
    'inf.yaml',
    'nan.yaml',
    'int-overflow.yaml',
    'duplicate-key.yaml',
    'multi-document.yaml',
    'root-sequence.yaml',
    'root-scalar.yaml',
    'root-empty.yaml',
    'inf.toml',
    'nan.toml',
    'int-overflow.toml',
    'duplicate-key.toml',
    'table-redefined.toml',
    'duplicate-key.json5',
    'infinity.json5',
    'nan.json5',
    'unterminated-comment.json5',
    'root-array.json5',
    'comment.json',
  ])('refuses %s with ERR_PARSE and keeps the live config', async (file) => {
    const path = join(hostile, file);
    const cause = await expectRefused(store, () => readAsLayer(path), 'ERR_PARSE');
    expect(cause).toMatchObject({ path });
  });
});

describe('absurd nesting, built at test time', () => {
  it.each([
    ['json5', `{a: ${'['.repeat(1_000_000)}`],
    ['json5', `${'{a: '.repeat(100_000)}1${'}'.repeat(100_000)}`],
    ['yaml', `a: ${'['.repeat(1_000_000)}`],
    ['yaml', `${'{a: '.repeat(100_000)}1${'}'.repeat(100_000)}\n`],
    ['toml', `a = ${'['.repeat(1_000_000)}`],
    ['toml', `a = ${'{ b = '.repeat(100_000)}1${' }'.repeat(100_000)}\n`],
    ['toml', `a${'.b'.repeat(100_000)} = 1\n`],
    ['toml', Array.from({ length: 300 }, (_, i) => `[${Array.from({ length: i + 1 }, () => 't').join('.')}]\nx = 1\n`).join('')],
  ] as const)('refuses %s nested far past the limit as ERR_PARSE, never a crash (%#)', async (format, text) => {
    await expectRefused(store, parseText(text, format), 'ERR_PARSE');
    expect((await store.reload({ after: true })).status).toBe('applied');
  });
});

describe('large documents that are no attack', () => {
  const KEYS = 100_000;
  const wide: Readonly<Record<ConfigFormat, () => string>> = {
    json: () => JSON.stringify(Object.fromEntries(Array.from({ length: KEYS }, (_, i) => [`key_${i}`, `value ${i}`]))),
    json5: () => `{${Array.from({ length: KEYS }, (_, i) => `key_${i}: 'value ${i}',`).join('\n')}}`,
    yaml: () => Array.from({ length: KEYS }, (_, i) => `key_${i}: value ${i}\n`).join(''),
    toml: () => Array.from({ length: KEYS }, (_, i) => `key_${i} = "value ${i}"\n`).join(''),
  };

  it.each(Object.keys(wide) as ConfigFormat[])('reads one %s mapping of 100,000 keys whole (no quadratic duplicate check)', async (format) => {
    const outcome = await store.requestReload(parseText(wide[format](), format));
    expect(outcome.status).toBe('applied');
    const config = store.load().config as Record<string, unknown>;
    expect(Object.keys(config)).toHaveLength(KEYS);
    expect(config.key_99999).toBe('value 99999');
  });

  it('refuses a duplicate at the very end of a 100,000-key YAML mapping, at its line', async () => {
    const cause = await expectRefused(store, parseText(`${wide.yaml()}key_7: again\n`, 'yaml'), 'ERR_PARSE');
    expect(cause).toMatchObject({ line: KEYS + 1, column: 1 });
  });
});
