// Validation edges reached through the public API: unusable schemas, Standard Schema
// validators that are functions, issues without or with object path segments, and a
// caller's ajv that omits messages.
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { ConfigStore, ConfigurationError, ReloadError, type StandardSchemaV1 } from '../../src/index.js';
import { rejection } from '../helpers/rejection.js';

describe('schemas at the edges', () => {
  it('refuses a schema that is neither a JSON Schema nor a Standard Schema with ERR_SCHEMA', async () => {
    const error = await rejection(ConfigStore.create({ schema: null as unknown as boolean, initial: {} }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'ERR_SCHEMA' });
  });

  it('accepts a Standard Schema validator that is a function (as arktype types are)', async () => {
    const schema = Object.assign(() => undefined, {
      '~standard': { version: 1, vendor: 'fn', validate: (value: unknown) => ({ value: value as { n: number } }) },
    }) as StandardSchemaV1<{ n: number }>;
    const store = await ConfigStore.create({ schema, initial: { n: 1 } });
    expect(store.load().config).toEqual({ n: 1 });
  });

  it('turns Standard Schema issue paths, absent or with object segments, into JSON Pointers', async () => {
    const schema: StandardSchemaV1<unknown, unknown> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: () => ({ issues: [{ message: 'root is wrong' }, { message: 'deep', path: [{ key: 'a' }, 0, { key: 'b/c' }] }] }),
      },
    };
    const error = await rejection(ConfigStore.create({ schema, initial: {} }));
    expect(error).toBeInstanceOf(ReloadError);
    expect((error as ReloadError).issues.map((issue) => issue.path)).toEqual(['', '/a/0/b~1c']);
  });

  it("falls back to the keyword when the caller's ajv omits messages", async () => {
    const ajv = new Ajv({ messages: false, allErrors: true });
    const schema = { type: 'object', properties: { port: { type: 'integer' } }, required: ['port'] } as const;
    const error = await rejection(ConfigStore.create({ schema, ajv, initial: {} }));
    expect((error as ReloadError).issues).toEqual([{ path: '/port', message: 'required', keyword: 'required' }]);
  });
});
