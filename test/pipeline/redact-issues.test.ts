import { inspect } from 'node:util';
import { Ajv, type ErrorObject } from 'ajv';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ReloadError, TxConfigError, ValidationError, isReloadError } from '../../src/errors.js';
import { redactError } from '../../src/pipeline/redact-issues.js';
import { SensitivePaths } from '../../src/schema/sensitive-paths.js';
import { compileValidator } from '../../src/schema/validator.js';
import { rejection, thrownBy } from '../helpers/rejection.js';

const CANARY = 'canary-7f3a9c1e-secret';

/** Every way the error could be shown: its message, its issues, JSON, a full inspection (cause and stack included). */
function shownAs(error: unknown): string {
  const { message, stack, issues } = error as { message: string; stack?: string; issues?: unknown };
  return [message, stack ?? '', JSON.stringify(issues), JSON.stringify(error), inspect(error, { depth: Infinity, showHidden: true })].join('\n');
}

describe('redactError with a Standard Schema (zod 4) whose message quotes the value', () => {
  const schema = z.object({
    db: z.object({
      host: z.string().min(3, { error: (issue) => `host too short: ${JSON.stringify(issue.input)}` }),
      password: z.string().min(64, { error: (issue) => `password too short: ${JSON.stringify(issue.input)}` }).meta({ writeOnly: true }),
    }),
  });
  const sensitive = SensitivePaths.compile(undefined, schema);

  it('replaces the message at a sensitive path, keeps the others, and leaves the canary nowhere', async () => {
    const original = await rejection(Promise.resolve(compileValidator(schema)({ db: { host: 'h', password: CANARY } })));
    expect(shownAs(original)).toContain(CANARY);
    const redacted = redactError(original, sensitive);
    expect(redacted).toBeInstanceOf(ValidationError);
    expect((redacted as ValidationError).code).toBe('ERR_VALIDATION');
    expect((redacted as ValidationError).issues).toEqual([
      { path: '/db/host', message: 'host too short: "h"' },
      { path: '/db/password', message: 'invalid value (redacted)' },
    ]);
    expect(shownAs(redacted)).not.toContain(CANARY);
  });

  it("drops the cause, which holds the input (zod's own error here)", () => {
    const parsed = schema.safeParse({ db: { host: 'h', password: CANARY } }, { reportInput: true });
    expect(parsed.success).toBe(false);
    const original = new ValidationError([{ path: '/db/password', message: `password too short: ${CANARY}` }], { cause: parsed.error });
    expect(shownAs(original)).toContain(CANARY);
    const redacted = redactError(original, sensitive);
    expect((redacted as Error).cause).toBeUndefined();
    expect(shownAs(redacted)).not.toContain(CANARY);
  });
});

describe('redactError with ajv in verbose mode', () => {
  // A keyword of the caller's whose message quotes the data, as custom messages do; with
  // `verbose`, ajv's error objects also carry the data and the schema.
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
  ajv.addKeyword({
    keyword: 'strongPassword',
    schemaType: 'boolean',
    errors: true,
    validate: function check(this: unknown, _schema: boolean, data: unknown): boolean {
      (check as unknown as { errors: Partial<ErrorObject>[] }).errors = [{ keyword: 'strongPassword', message: `is weak: ${String(data)}`, params: {} }];
      return false;
    },
  });
  const schema = {
    type: 'object',
    properties: { db: { type: 'object', properties: { password: { type: 'string', 'x-sensitive': true, strongPassword: true, minLength: 64 } } } },
  } as const;

  it('replaces each message at the sensitive path by the keyword alone', () => {
    const validate = compileValidator(schema, { ajv });
    const original = thrownBy(() => validate({ db: { password: CANARY } }));
    expect(shownAs(original)).toContain(CANARY);
    const redacted = redactError(original, SensitivePaths.compile(undefined, schema)) as ValidationError;
    expect(redacted.issues.map((issue) => [issue.path, issue.keyword, issue.message]).sort()).toEqual([
      ['/db/password', 'minLength', 'invalid value (redacted; keyword: minLength)'],
      ['/db/password', 'strongPassword', 'invalid value (redacted; keyword: strongPassword)'],
    ]);
    expect(shownAs(redacted)).not.toContain(CANARY);
  });

  it("drops a cause made of ajv's verbose errors, which carry the data", () => {
    const check = ajv.compile(schema);
    expect(check({ db: { password: CANARY } })).toBe(false);
    const original = new ValidationError([{ path: '/db/password', message: 'is weak', keyword: 'strongPassword' }], { cause: check.errors });
    expect(shownAs(original)).toContain(CANARY);
    expect(shownAs(redactError(original, SensitivePaths.compile(['/db/password'], undefined)))).not.toContain(CANARY);
  });
});

describe('redactError', () => {
  const sensitive = SensitivePaths.compile(['/db/password'], undefined);

  it('redacts an issue above a sensitive node (a message about /db or the whole config may print it)', () => {
    const original = new ValidationError([
      { path: '/db', message: `must not be ${CANARY}`, keyword: 'not' },
      { path: '', message: `root ${CANARY}` },
      { path: '/port', message: 'must be integer', keyword: 'type' },
    ]);
    const redacted = redactError(original, sensitive) as ValidationError;
    expect(redacted.issues).toEqual([
      { path: '/db', message: 'invalid value (redacted; keyword: not)', keyword: 'not' },
      { path: '', message: 'invalid value (redacted)' },
      { path: '/port', message: 'must be integer', keyword: 'type' },
    ]);
    expect(redacted.message).not.toContain(CANARY);
  });

  it('keeps the stack frames of the original under the new message', () => {
    const original = new ValidationError([{ path: '/db/password', message: `too short: ${CANARY}` }]);
    const redacted = redactError(original, sensitive) as Error;
    expect(redacted.stack?.split('\n')[0]).toBe(`ValidationError: ${redacted.message}`);
    expect(redacted.stack?.split('\n').slice(1)).toEqual(original.stack?.split('\n').slice(1));
    expect(redacted.stack).not.toContain(CANARY);
  });

  it('returns the same error, cause included, when no issue touches a sensitive node', () => {
    const original = new ValidationError([{ path: '/port', message: 'must be integer', keyword: 'type' }], { cause: new Error('detail') });
    expect(redactError(original, sensitive)).toBe(original);
  });

  it('returns any other error as it is, and every error when nothing is sensitive', () => {
    const others = [new Error(CANARY), new TxConfigError('ERR_PARSE', 'x'), 'a string', undefined, null];
    for (const error of others) expect(redactError(error, sensitive)).toBe(error);
    const validation = new ValidationError([{ path: '/db/password', message: CANARY }]);
    expect(redactError(validation, SensitivePaths.compile(undefined, undefined))).toBe(validation);
  });

  it('redacts a validation error of another installed copy of txconfig into one of this copy', () => {
    const foreign = Object.assign(new Error(`config is invalid: /db/password: ${CANARY}`), {
      code: 'ERR_VALIDATION',
      issues: [{ path: '/db/password', message: CANARY, keyword: 'minLength', input: CANARY }, { path: 7, message: CANARY }],
      [Symbol.for('txconfig.error')]: true,
    });
    const redacted = redactError(foreign, sensitive) as ValidationError;
    expect(redacted).toBeInstanceOf(ValidationError);
    expect(redacted.issues).toEqual([
      { path: '/db/password', message: 'invalid value (redacted; keyword: minLength)', keyword: 'minLength' },
      { path: '', message: 'invalid value (redacted)' },
    ]);
    expect(shownAs(redacted)).not.toContain(CANARY);
  });

  it('redacts the failures of a ReloadError, and rebuilds its message when it quoted one', () => {
    const validation = new ValidationError([{ path: '/db/password', message: `too short: ${CANARY}`, keyword: 'minLength' }]);
    const rollback = new Error('rollback hook failed');
    const original = new ReloadError('ERR_VALIDATION', [{ participant: null, phase: 'validate', error: validation }, { participant: 'db', phase: 'rollback', error: rollback }]);
    expect(original.message).toContain(CANARY);
    const redacted = redactError(original, sensitive) as ReloadError;
    expect(isReloadError(redacted)).toBe(true);
    expect(redacted.code).toBe('ERR_VALIDATION');
    expect(redacted.failures[1]).toBe(original.failures[1]);
    expect(redacted.issues).toEqual([{ path: '/db/password', message: 'invalid value (redacted; keyword: minLength)', keyword: 'minLength' }]);
    expect(shownAs(redacted)).not.toContain(CANARY);
  });

  it("keeps a ReloadError's own message when it quoted no redacted error, and the error itself when nothing changed", () => {
    const validation = new ValidationError([{ path: '/db/password', message: CANARY }]);
    const aborted = new ReloadError('ERR_ROLLBACK', [{ participant: null, phase: 'validate', error: validation }], 'reload aborted, and 1 rollback hook(s) failed');
    expect((redactError(aborted, sensitive) as ReloadError).message).toBe('reload aborted, and 1 rollback hook(s) failed');
    const prepare = new ReloadError('ERR_PREPARE', [{ participant: 'db', phase: 'prepare', error: new Error('refused') }]);
    expect(redactError(prepare, sensitive)).toBe(prepare);
  });
});
