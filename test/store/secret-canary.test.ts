// The canary test of DESIGN.md §5.3: one unique secret value goes through every path the
// store offers (valid and invalid reloads, a failed resolution, text conversion, a
// Standard Schema and ajv's verbose messages, explain, status, the debug logs) and appears
// in none of what the store shows. Patches and the live config hold it, by design.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Ajv } from 'ajv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigStore, file, fileSecrets, layered, type ConfigSource } from '../../src/index.js';
import { log } from '../../src/internal/debug.js';
import { captureLog, type CapturedLog } from '../helpers/capture-log.js';
import { rejection } from '../helpers/rejection.js';
import { expectNoCanary, makeCanary } from '../helpers/secret-canary.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

const schema = {
  type: 'object',
  properties: {
    db: { type: 'object', properties: { host: { type: 'string' }, password: { type: 'string', minLength: 8, pattern: '^[a-z0-9-]+$' }, port: { type: 'integer' } }, additionalProperties: false },
    token: { type: 'string', writeOnly: true, maxLength: 10 },
  },
  additionalProperties: false,
} as const;

describe('a secret canary', () => {
  let dir: string;
  let canary: string;
  let logs: CapturedLog[];
  beforeEach(async () => {
    dir = await makeTempDir('txconfig-canary-');
    await mkdir(join(dir, 'secrets'));
    canary = makeCanary();
    logs = Object.values(log).map((logger) => captureLog(logger));
  });
  afterEach(async () => {
    for (const captured of logs) captured[Symbol.dispose]();
    await removeTempDir(dir);
  });

  /** Everything the store shows, and the logs: none may hold the canary. */
  function expectShownNowhere(store: ConfigStore<unknown>): void {
    const shown = [JSON.stringify(store.status()), inspect(store.status(), { depth: 20 }), JSON.stringify(store.load().redacted()), store.load().digest, ...logs.flatMap((captured) => captured.lines)];
    for (const pointer of ['', '/db', '/db/password', '/token']) {
      try {
        shown.push(JSON.stringify(store.explain(pointer)));
      } catch {
        // A path this generation does not have.
      }
    }
    for (const text of shown) expect(text).not.toContain(canary);
  }

  it('never shows a secret given in the config, valid or refused by the schema', async () => {
    const store = (await ConfigStore.create({ schema, sensitive: ['/db/password'], initial: { db: { host: 'h', password: canary }, token: 'short' } })) as ConfigStore<unknown>;
    expect((store.load().config as { db: { password: string } }).db.password).toBe(canary);
    expect((store.load().redacted() as { db: { password: string } }).db.password).toBe('[redacted]');
    expectShownNowhere(store);
    // Refused: too long for the token, a pattern the password breaks.
    const error = await rejection(store.reload({ db: { host: 'h', password: `${canary}!` }, token: canary }));
    expect(error).toMatchObject({ code: 'ERR_VALIDATION' });
    expectNoCanary(error, canary);
    expectShownNowhere(store);
    await store.close();
  });

  it('never shows a secret read from a file reference, resolved or failing', async () => {
    const secret = join(dir, 'secrets', 'db');
    await writeFile(secret, `${canary}\n`);
    const store = (await ConfigStore.create({ schema, secrets: [fileSecrets({ roots: [join(dir, 'secrets')] })], initial: { db: { host: 'h', password: { $secret: `file:${secret}` } } } })) as ConfigStore<unknown>;
    expect((store.load().config as { db: { password: string } }).db.password).toBe(canary);
    expectShownNowhere(store);
    // Resolved, but refused by the schema (the pattern): the value is a secret though nobody marked it.
    await writeFile(secret, `${canary}-UPPER`);
    const refused = await rejection(store.reload({ db: { host: 'h', password: { $secret: `file:${secret}` } } }));
    expectNoCanary(refused, canary);
    // A file that is not a secret file of the roots: the reference is named, never a value.
    const outside = await rejection(store.reload({ db: { host: 'h', password: { $secret: `file:${join(dir, 'elsewhere')}` } } }));
    expect(outside).toMatchObject({ code: 'ERR_SECRET' });
    expectShownNowhere(store);
    await store.close();
  });

  it('never shows a secret from a flag or variable that does not convert', async () => {
    const source: ConfigSource = {
      name: 'env',
      read: () =>
        Promise.resolve({
          value: { db: { port: canary } },
          origins: { explain: (pointer: string) => (pointer === '/db/port' ? { layer: 'env', origin: { env: 'APP_DB__PORT' }, shadowed: [] } : undefined), texts: ['/db/port'] },
        }),
    };
    const error = await rejection(ConfigStore.create({ schema, sensitive: ['/db/port'], source: layered([source]) }));
    expect(error).toMatchObject({ code: 'ERR_VALIDATION' });
    expectNoCanary(error, canary);
  });

  it('never shows a secret in the messages of a Standard Schema or of ajv with verbose errors', async () => {
    const zodSchema = z.object({ password: z.string().meta({ 'x-sensitive': true }).refine((value) => value.length < 5, { error: (issue) => `bad password ${String(issue.input)}` }) });
    const zodError = await rejection(ConfigStore.create({ schema: zodSchema, sensitive: ['/password'], initial: { password: canary } }));
    expect(zodError).toMatchObject({ code: 'ERR_VALIDATION' });
    expectNoCanary(zodError, canary);
    const ajv = new Ajv({ allErrors: true, verbose: true });
    const verbose = await rejection(ConfigStore.create({ schema: { type: 'object', properties: { password: { type: 'string', maxLength: 3 } } }, ajv, sensitive: ['/password'], initial: { password: canary } }));
    expectNoCanary(verbose, canary);
  });

  it('never shows a secret from a config file that does not parse, in any format: parsers quote the lines around a fault', async () => {
    const broken = {
      'c.json': `{"db": {"password": "${canary}", "port": }}`,
      'c.json5': `{db: {password: '${canary}', port: }}`,
      'c.yaml': `db:\n  password: ${canary}\n  host: [unclosed\n`,
      'c.toml': `[db]\npassword = "${canary}"\nport = \n`,
    };
    for (const [name, text] of Object.entries(broken)) {
      await writeFile(join(dir, name), text);
      const error = await rejection(ConfigStore.create({ schema, source: file(join(dir, name)) }));
      expect(error).toMatchObject({ code: 'ERR_LOAD', cause: expect.objectContaining({ code: 'ERR_PARSE' }) as unknown });
      expectNoCanary(error, canary);
    }
  });
});
