import { afterEach, describe, expect, it } from 'vitest';
import { ArgumentError, SecretError } from '../../../src/errors.js';
import { resolveSecrets } from '../../../src/pipeline/resolve-secrets.js';
import { envSecrets, type EnvSecretsOptions } from '../../../src/sources/secrets/env-secrets.js';
import { rejection, thrownBy } from '../../helpers/rejection.js';
import { expectNoCanary, makeCanary } from '../../helpers/secret-canary.js';

const signal = new AbortController().signal;
const VARIABLE = `TXCONFIG_TEST_SECRET_${process.pid}`;

afterEach(() => {
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the one variable this file sets
  delete process.env[VARIABLE];
});

describe('envSecrets', () => {
  it('reads the variable as it is, at each resolve', async () => {
    const environment: Record<string, string | undefined> = { API_KEY: ' k1 \n' };
    const secrets = envSecrets({ environment });
    expect(secrets.scheme).toBe('env');
    expect(await secrets.resolve('API_KEY', { signal, pointer: '/apiKey' })).toBe(' k1 \n');
    environment.API_KEY = 'k2';
    expect(await secrets.resolve('API_KEY', { signal, pointer: '/apiKey' })).toBe('k2');
  });

  it('reads process.env by default, as it is at each resolve', async () => {
    const secrets = envSecrets();
    process.env[VARIABLE] = 'one';
    expect(await secrets.resolve(VARIABLE, { signal, pointer: '' })).toBe('one');
    process.env[VARIABLE] = 'two';
    expect(await secrets.resolve(VARIABLE, { signal, pointer: '' })).toBe('two');
  });

  it('has no watch: an environment does not change from outside', () => {
    expect('watch' in envSecrets()).toBe(false);
  });

  it('refuses, as a rejection naming the reference, a variable that is unset, empty, inherited or unnamed', async () => {
    const environment = { EMPTY: '', UNSET: undefined };
    for (const name of ['MISSING', 'UNSET', 'EMPTY', 'toString', '__proto__', '']) {
      const error = await rejection(envSecrets({ environment }).resolve(name, { signal, pointer: '/apiKey' }));
      expect(error).toBeInstanceOf(SecretError);
      expect(error).toMatchObject({ code: 'ERR_SECRET', reference: `env:${name}`, pointer: '/apiKey' });
    }
  });

  it('shows no value when a variable is refused, and names the reference through resolveSecrets', async () => {
    const canary = makeCanary();
    const environment = { ODD: { canary } } as unknown as Record<string, string>;
    const error = await rejection(envSecrets({ environment }).resolve('ODD', { signal, pointer: '' }));
    expect(error).toMatchObject({ code: 'ERR_SECRET' });
    expectNoCanary(error, canary);

    process.env[`${VARIABLE}_OTHER`] = canary;
    try {
      const missing = await rejection(resolveSecrets({ a: { $secret: `env:${VARIABLE}` }, b: { $secret: `env:${VARIABLE}_OTHER` } }, new Map([['env', envSecrets()]]), signal));
      expect(missing).toMatchObject({ code: 'ERR_SECRET', reference: `env:${VARIABLE}`, pointer: '/a' });
      expectNoCanary(missing, canary);
    } finally {
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the variable this test set
      delete process.env[`${VARIABLE}_OTHER`];
    }
  });

  it("rejects with the signal's reason once it aborted", async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    expect(await rejection(envSecrets({ environment: { A: 'a' } }).resolve('A', { signal: controller.signal, pointer: '' }))).toBe(controller.signal.reason);
  });

  it('refuses bad options at construction', () => {
    for (const [options, argument] of [
      [null, 'options'],
      ['env', 'options'],
      [{ environment: 'A=1' }, 'environment'],
      [{ environment: null }, 'environment'],
    ] as const) {
      const error = thrownBy(() => envSecrets(options as unknown as EnvSecretsOptions));
      expect(error).toBeInstanceOf(ArgumentError);
      expect(error).toMatchObject({ code: 'ERR_ARGUMENT', argument });
    }
  });
});
