// Provenance through the store (DESIGN.md §5.2): store.explain(pointer) answers with the
// live value, the layer that won, its place, and what it shadowed; text values of a
// reading are converted by the schema's type at their path, and one that does not
// convert is a validation error naming its variable or flag.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ArgumentError, ConfigStore, defaults, layered, type ConfigSource, type Origin, type SourceReading } from '../../src/index.js';
import { rejection } from '../helpers/rejection.js';

const schema = {
  type: 'object',
  properties: {
    server: {
      type: 'object',
      properties: {
        port: { type: 'integer' },
        host: { type: 'string' },
        debug: { type: 'boolean', default: false },
        ratio: { type: 'number' },
        tags: { type: 'array', items: { type: 'string' } },
        limits: { $ref: '#/$defs/limits' },
      },
      additionalProperties: false,
    },
    labels: { type: 'object', additionalProperties: { type: 'integer' } },
  },
  $defs: { limits: { type: 'object', properties: { max: { anyOf: [{ type: 'integer' }, { type: 'null' }] } } } },
  additionalProperties: false,
} as const;

/** A text layer (as env() and argv() make one): each entry a text at a pointer, with its origin. */
function textLayer(kind: string, entries: Record<string, [string, Origin]>): ConfigSource & { set: (pointer: string, entry: [string, Origin] | undefined) => void } {
  const current = new Map(Object.entries(entries));
  return {
    name: kind,
    set: (pointer, entry) => {
      if (entry === undefined) current.delete(pointer);
      else current.set(pointer, entry);
    },
    read: () => {
      const value: Record<string, unknown> = {};
      for (const [pointer, [text]] of current) {
        const keys = pointer.slice(1).split('/');
        let node = value;
        for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
        node[keys[keys.length - 1] as string] = text;
      }
      const reading: SourceReading = {
        value,
        origins: {
          explain: (pointer) => {
            const entry = current.get(pointer);
            return entry === undefined ? (pointer === '/server' ? { layer: kind, origin: {}, shadowed: [] } : undefined) : { layer: kind, origin: entry[1], shadowed: [] };
          },
          texts: [...current.keys()],
        },
      };
      return Promise.resolve(reading);
    },
  };
}

describe('store.explain', () => {
  it('names the winning layer, its place and the shadowed values; a default the schema filled in is the schema’s', async () => {
    const env = textLayer('env', { '/server/port': ['9090', { env: 'APP_SERVER__PORT' }] });
    const store = await ConfigStore.create({ schema, source: layered([defaults({ server: { port: 8080, host: 'localhost' } }), env]) });
    expect(store.load().config.server).toStrictEqual({ port: 9090, host: 'localhost', debug: false });
    expect(store.explain('/server/port')).toStrictEqual({
      pointer: '/server/port',
      value: 9090,
      layer: 'env',
      origin: { env: 'APP_SERVER__PORT' },
      shadowed: [{ layer: 'defaults', origin: {}, value: 8080 }],
    });
    expect(store.explain('/server/host')).toMatchObject({ value: 'localhost', layer: 'defaults', shadowed: [] });
    expect(store.explain('/server/debug')).toMatchObject({ value: false, layer: 'schema' });
    await store.close();
  });

  it('is a typed error for a path the live config does not have, or a string that is not a JSON Pointer', async () => {
    const store = await ConfigStore.create({ schema, initial: { server: { port: 1 } } });
    for (const pointer of ['/server/nope', '/labels', 'server/port', '/server/port/x']) {
      const error = (() => {
        try {
          store.explain(pointer);
        } catch (thrown) {
          return thrown;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(ArgumentError);
      expect((error as ArgumentError).argument).toBe('pointer');
    }
    await store.close();
  });

  it('names reload() for a whole value, update for what a recipe wrote, and keeps the rest', async () => {
    const store = await ConfigStore.create({ schema, source: layered([defaults({ server: { port: 8080, host: 'h' } })]) });
    await store.reload((draft) => {
      if (draft.server !== undefined) draft.server.port = 1;
    });
    expect(store.explain('/server/port').layer).toBe('update');
    expect(store.explain('/server/host').layer).toBe('defaults');
    await store.reload({ server: { port: 2 } });
    expect(store.explain('/server/port').layer).toBe('reload');
    await store.close();
  });

  it('follows the values when an unchanged reload moves them to another layer, and keeps them when a reload fails', async () => {
    const env = textLayer('env', {});
    const store = await ConfigStore.create({ schema, source: layered([defaults({ server: { port: 8080 } }), env]) });
    env.set('/server/port', ['8080', { env: 'APP_SERVER__PORT' }]);
    expect((await store.refresh()).status).toBe('unchanged');
    expect(store.explain('/server/port')).toMatchObject({ layer: 'env', origin: { env: 'APP_SERVER__PORT' } });
    env.set('/server/port', ['not a number', { env: 'APP_SERVER__PORT' }]);
    expect((await store.refresh()).status).toBe('rejected');
    expect(store.explain('/server/port')).toMatchObject({ layer: 'env', value: 8080 });
    await store.close();
  });
});

describe('text values of a reading', () => {
  it('are converted by the schema’s type at their path: integer, number, boolean, null, arrays and objects as JSON', async () => {
    const env = textLayer('env', {
      '/server/port': ['9090', { env: 'P' }],
      '/server/debug': ['true', { env: 'D' }],
      '/server/ratio': ['0.5', { env: 'R' }],
      '/server/host': ['0042', { env: 'H' }],
      '/server/tags': ['["a","b"]', { env: 'T' }],
      '/server/limits': ['{"max":null}', { env: 'L' }],
      '/labels/x': ['7', { env: 'X' }],
    });
    const store = await ConfigStore.create({ schema, source: env });
    expect(store.load().config).toStrictEqual({ server: { port: 9090, debug: true, ratio: 0.5, host: '0042', tags: ['a', 'b'], limits: { max: null } }, labels: { x: 7 } });
    await store.close();
  });

  it('a text that does not convert is a validation error naming the variable or flag, not only the path', async () => {
    const error = await rejection(ConfigStore.create({ schema, source: textLayer('env', { '/server/port': ['80a', { env: 'APP_SERVER__PORT' }], '/server/debug': ['maybe', { flag: '--server.debug' }] }) }));
    expect(error).toMatchObject({ code: 'ERR_VALIDATION' });
    const issues = (error as { issues: { path: string; message: string }[] }).issues;
    expect(issues.map((issue) => issue.path)).toStrictEqual(['/server/port', '/server/debug']);
    expect(issues[0]?.message).toContain('APP_SERVER__PORT');
    expect(issues[1]?.message).toContain('--server.debug');
  });

  it('a flag for a setting the schema does not have is refused, naming the flag; an unknown variable is left to validation', async () => {
    const flag = await rejection(ConfigStore.create({ schema, source: textLayer('argv', { '/server/prot': ['1', { flag: '--server.prot' }] }) }));
    expect(flag).toMatchObject({ code: 'ERR_VALIDATION' });
    expect((flag as { issues: { message: string }[] }).issues[0]?.message).toContain('--server.prot');
    const variable = await rejection(ConfigStore.create({ schema, source: textLayer('env', { '/server/prot': ['1', { env: 'APP_SERVER__PROT' }] }) }));
    expect(variable).toMatchObject({ code: 'ERR_VALIDATION', issues: [expect.objectContaining({ keyword: 'additionalProperties' })] });
  });

  it('a value that converts but breaks the schema is reported with the variable, flag or file that set it', async () => {
    const bounded = { type: 'object', properties: { port: { type: 'integer', maximum: 65535 }, host: { type: 'string', minLength: 2 } } } as const;
    const source = layered([
      { name: 'file:/etc/app.json', read: () => Promise.resolve({ value: { host: 'x' }, origins: { explain: (pointer: string) => (pointer === '/host' ? { layer: 'file', origin: { file: '/etc/app.json', line: 3, column: 11 }, shadowed: [] } : undefined) } }) },
      textLayer('env', { '/port': ['70000', { env: 'APP_PORT' }] }),
    ]);
    const error = await rejection(ConfigStore.create({ schema: bounded, source }));
    expect(error).toMatchObject({ code: 'ERR_VALIDATION' });
    const messages = (error as { issues: { path: string; message: string }[] }).issues.map((issue) => `${issue.path} ${issue.message}`);
    expect(messages).toHaveLength(2);
    expect(messages.find((message) => message.startsWith('/port '))).toContain('environment variable APP_PORT');
    expect(messages.find((message) => message.startsWith('/host '))).toContain('/etc/app.json, line 3, column 11');
  });

  it('a JSON text with a key that pollutes prototypes does not convert', async () => {
    const error = await rejection(ConfigStore.create({ schema, source: textLayer('env', { '/server/limits': ['{"__proto__":{"x":1}}', { env: 'L' }] }) }));
    expect(error).toMatchObject({ code: 'ERR_VALIDATION' });
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('stays text with a Standard Schema, which says no types: its own coercion decides', async () => {
    const schema = z.object({ port: z.coerce.number().int().max(65535), name: z.string() });
    const store = await ConfigStore.create({ schema, source: textLayer('env', { '/port': ['9090', { env: 'APP_PORT' }], '/name': ['007', { env: 'APP_NAME' }] }) });
    expect(store.load().config).toStrictEqual({ port: 9090, name: '007' });
    await store.close();
    const error = await rejection(ConfigStore.create({ schema, source: textLayer('env', { '/port': ['70000', { env: 'APP_PORT' }], '/name': ['x', { env: 'APP_NAME', file: '.env' }] }) }));
    expect((error as { issues: { message: string }[] }).issues[0]?.message).toContain('environment variable APP_PORT');
  });
});
