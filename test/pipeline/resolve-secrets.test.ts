import { describe, expect, it } from 'vitest';
import { SecretError } from '../../src/errors.js';
import { findSecretReferences, resolveSecrets, type SecretResolver } from '../../src/pipeline/resolve-secrets.js';
import { rejection, thrownBy } from '../helpers/rejection.js';
import { expectNoCanary, makeCanary } from '../helpers/secret-canary.js';

const signal = new AbortController().signal;

/** A resolver of `scheme` that answers `<scheme>(<reference>)` and records what it was asked. */
function echo(scheme: string): SecretResolver & { readonly calls: { reference: string; pointer: string }[] } {
  const calls: { reference: string; pointer: string }[] = [];
  return {
    scheme,
    calls,
    resolve(reference, { pointer }) {
      calls.push({ reference, pointer });
      return Promise.resolve(`${scheme}(${reference})`);
    },
  };
}

const resolversOf = (...resolvers: SecretResolver[]): ReadonlyMap<string, SecretResolver> => new Map(resolvers.map((resolver) => [resolver.scheme, resolver]));

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}

/** A promise and its resolve, to hold a resolver until the test lets it go. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('findSecretReferences', () => {
  it('finds every reference in objects and arrays at any depth, in document order, with escaped pointers', () => {
    const config = {
      db: { password: { $secret: 'file:/run/secrets/db' }, host: 'db' },
      tokens: ['plain', { $secret: 'env:A' }, [{ $secret: 'env:B' }]],
      'a/b~c': { $secret: 'env:C' },
      port: 5432,
      none: null,
    };
    expect(findSecretReferences(config)).toStrictEqual([
      { pointer: '/db/password', reference: 'file:/run/secrets/db' },
      { pointer: '/tokens/1', reference: 'env:A' },
      { pointer: '/tokens/2/0', reference: 'env:B' },
      { pointer: '/a~1b~0c', reference: 'env:C' },
    ]);
  });

  it('finds nothing in a config without references, nor in values that are not objects', () => {
    expect(findSecretReferences({ a: { b: [1, 'x', null] }, secret: 'not a reference' })).toStrictEqual([]);
    expect(findSecretReferences('text')).toStrictEqual([]);
    expect(findSecretReferences(null)).toStrictEqual([]);
  });

  it('takes a root that is a reference as one, at the pointer ""', () => {
    expect(findSecretReferences({ $secret: 'env:A' })).toStrictEqual([{ pointer: '', reference: 'env:A' }]);
  });

  it('refuses a $secret object with other keys, naming its pointer and reference', () => {
    const error = thrownBy(() => findSecretReferences({ a: [{ $secret: 'env:A', note: 'x' }] }));
    expect(error).toBeInstanceOf(SecretError);
    expect(error).toMatchObject({ code: 'ERR_SECRET', pointer: '/a/0', reference: 'env:A' });
  });

  it('refuses a $secret that is not a string, and shows neither it nor a text without scheme:', () => {
    const canary = makeCanary();
    for (const config of [{ a: { $secret: 42 } }, { a: { $secret: [canary] } }, { a: { $secret: canary, other: 1 } }]) {
      const error = thrownBy(() => findSecretReferences(config));
      expect(error).toBeInstanceOf(SecretError);
      expect(error).toMatchObject({ code: 'ERR_SECRET', pointer: '/a', reference: '' });
      expectNoCanary(error, canary);
    }
  });
});

describe('resolveSecrets', () => {
  it('returns the candidate itself and no references when it has none', async () => {
    const candidate = { a: { b: [1, 2] }, c: 'x' };
    const result = await resolveSecrets(candidate, resolversOf(echo('env')), signal);
    expect(result.value).toBe(candidate);
    expect(result.references).toStrictEqual([]);
  });

  it('replaces each reference by its text, nested and in arrays', async () => {
    const candidate = { db: { password: { $secret: 'file:/s/db' }, port: 1 }, list: [{ $secret: 'env:A' }, 'x'] };
    const result = await resolveSecrets(candidate, resolversOf(echo('file'), echo('env')), signal);
    expect(result.value).toStrictEqual({ db: { password: 'file(/s/db)', port: 1 }, list: ['env(A)', 'x'] });
    expect(result.references).toStrictEqual([
      { pointer: '/db/password', reference: 'file:/s/db' },
      { pointer: '/list/0', reference: 'env:A' },
    ]);
    expect(Array.isArray((result.value as { list: unknown }).list)).toBe(true);
  });

  it('copies only the objects and arrays on the way to a reference, shares every other subtree, and never changes the input, even frozen', async () => {
    const candidate = deepFreeze({
      untouched: { deep: { x: [1, 2] } },
      list: [{ keep: true }, { $secret: 'env:A' }],
      db: { options: { ssl: true }, password: { $secret: 'env:B' } },
    });
    const before = structuredClone(candidate);
    const { value } = await resolveSecrets(candidate, resolversOf(echo('env')), signal);
    const result = value as typeof candidate;
    expect(candidate).toStrictEqual(before);
    expect(result).not.toBe(candidate);
    expect(result.untouched).toBe(candidate.untouched);
    expect(result.list).not.toBe(candidate.list);
    expect(result.list[0]).toBe(candidate.list[0]);
    expect(result.db).not.toBe(candidate.db);
    expect(result.db.options).toBe(candidate.db.options);
    expect(result).toStrictEqual({ ...before, list: [{ keep: true }, 'env(A)'], db: { options: { ssl: true }, password: 'env(B)' } });
  });

  it('keeps a "__proto__" key on the way to a reference as a plain member, and a null prototype as it was', async () => {
    const candidate = JSON.parse('{"__proto__": {"token": {"$secret": "env:A"}}}') as Record<string, unknown>;
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { token: { $secret: 'env:B' } });
    const { value } = await resolveSecrets({ candidate, bare }, resolversOf(echo('env')), signal);
    const result = value as { candidate: Record<string, unknown>; bare: Record<string, unknown> };
    expect(Object.getPrototypeOf(result.candidate)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(result.candidate, '__proto__')?.value).toStrictEqual({ token: 'env(A)' });
    expect(({} as Record<string, unknown>).token).toBeUndefined();
    expect(Object.getPrototypeOf(result.bare)).toBeNull();
    expect(result.bare.token).toBe('env(B)');
  });

  it('replaces a root that is a reference by its text', async () => {
    const result = await resolveSecrets({ $secret: 'env:A' }, resolversOf(echo('env')), signal);
    expect(result.value).toBe('env(A)');
  });

  it('resolves the same reference once, and gives both places its text', async () => {
    const env = echo('env');
    const { value } = await resolveSecrets({ a: { $secret: 'env:A' }, b: [{ $secret: 'env:A' }] }, resolversOf(env), signal);
    expect(value).toStrictEqual({ a: 'env(A)', b: ['env(A)'] });
    expect(env.calls).toStrictEqual([{ reference: 'A', pointer: '/a' }]);
  });

  it('refuses a reference whose scheme has no resolver before resolving any, naming only its scheme (the rest may be a secret written in place) and its pointer', async () => {
    const env = echo('env');
    const error = await rejection(resolveSecrets({ a: { $secret: 'env:A' }, b: { $secret: 'vault:kv/db' } }, resolversOf(env), signal));
    expect(error).toBeInstanceOf(SecretError);
    expect(error).toMatchObject({ code: 'ERR_SECRET', reference: 'vault:…', pointer: '/b' });
    expect(env.calls).toStrictEqual([]);
  });

  it('refuses a text without scheme: and does not repeat it (it may be a secret written in place)', async () => {
    const canary = makeCanary();
    for (const text of [canary, `/run/secrets/${canary}`, `UPPER:${canary}`, '']) {
      const error = await rejection(resolveSecrets({ a: { $secret: text } }, resolversOf(echo('env')), signal));
      expect(error).toBeInstanceOf(SecretError);
      expect(error).toMatchObject({ code: 'ERR_SECRET', reference: '', pointer: '/a' });
      expectNoCanary(error, canary);
    }
  });

  it('refuses a malformed $secret object as findSecretReferences does', async () => {
    const error = await rejection(resolveSecrets({ a: { $secret: 'env:A', b: 1 } }, resolversOf(echo('env')), signal));
    expect(error).toMatchObject({ code: 'ERR_SECRET', pointer: '/a' });
  });

  it('starts every resolve at once, and rejects with the first failure in document order only once all have settled', async () => {
    const held = { A: deferred<string>(), B: deferred<string>(), C: deferred<string>() };
    const started: string[] = [];
    const env: SecretResolver = {
      scheme: 'env',
      resolve(reference) {
        started.push(reference);
        return held[reference as keyof typeof held].promise;
      },
    };
    const result = rejection(resolveSecrets({ a: { $secret: 'env:A' }, b: { $secret: 'env:B' }, c: { $secret: 'env:C' } }, resolversOf(env), signal));
    await Promise.resolve();
    expect(started).toStrictEqual(['A', 'B', 'C']);
    held.B.reject(new SecretError('env:B', '/b', 'second'));
    held.A.reject(new SecretError('env:A', '/a', 'first'));
    let done = false;
    void result.then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(done).toBe(false);
    held.C.resolve('c');
    const error = await result;
    expect(error).toMatchObject({ code: 'ERR_SECRET', reference: 'env:A', pointer: '/a' });
  });

  it("wraps a resolver's foreign failure as a SecretError naming the reference, with it as cause", async () => {
    const cause = new Error('vault unreachable');
    const vault: SecretResolver = { scheme: 'vault', resolve: () => Promise.reject(cause) };
    const error = await rejection(resolveSecrets({ db: { $secret: 'vault:kv/db' } }, resolversOf(vault), signal));
    expect(error).toBeInstanceOf(SecretError);
    expect(error).toMatchObject({ code: 'ERR_SECRET', reference: 'vault:kv/db', pointer: '/db', cause });
  });

  it('refuses a result that is not a string without showing it', async () => {
    const canary = makeCanary();
    const odd: SecretResolver = { scheme: 'odd', resolve: () => Promise.resolve({ value: canary } as unknown as string) };
    const error = await rejection(resolveSecrets({ a: { $secret: 'odd:x' } }, resolversOf(odd), signal));
    expect(error).toMatchObject({ code: 'ERR_SECRET', reference: 'odd:x', pointer: '/a' });
    expectNoCanary(error, canary);
  });

  it("rejects with the signal's reason when it aborts, before or during the resolves", async () => {
    const before = new AbortController();
    before.abort(new Error('stop'));
    expect(await rejection(resolveSecrets({ a: { $secret: 'env:A' } }, resolversOf(echo('env')), before.signal))).toBe(before.signal.reason);

    const during = new AbortController();
    const waiting: SecretResolver = {
      scheme: 'env',
      resolve: (_reference, options) =>
        new Promise((_resolve, reject) => {
          options.signal.addEventListener('abort', () => {
            reject(options.signal.reason as Error);
          });
        }),
    };
    const result = rejection(resolveSecrets({ a: { $secret: 'env:A' } }, resolversOf(waiting), during.signal));
    during.abort(new Error('stop'));
    expect(await result).toBe(during.signal.reason);
  });
});
