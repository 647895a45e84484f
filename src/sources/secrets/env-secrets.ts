/**
 * The `env:` secret resolver: a secret is the value of an environment variable, read at
 * each resolve.
 */
import { ArgumentError, SecretError } from '../../errors.js';
import { describeValue } from '../../internal/argument-checks.js';
import type { SecretResolver } from '../../pipeline/resolve-secrets.js';

/** Options of {@link envSecrets}. */
export interface EnvSecretsOptions {
  /** Where the variables are read. Default `process.env`, read at each resolve. */
  readonly environment?: Readonly<Record<string, string | undefined>>;
}

/**
 * The resolver of `env:` references (`{ "$secret": "env:API_KEY" }`): the secret is the
 * value of that environment variable, as it is (no trimming). Give it to
 * `ConfigStore.create({ secrets: [...] })`.
 *
 * It has no `watch`: a process's environment does not change from outside (Kubernetes
 * never refreshes it), so a rotated variable needs a restart; a file secret does not.
 * Only the variable's own value is read, never an inherited property of `environment`.
 *
 * The resolve throws {@link SecretError} `ERR_SECRET` naming the reference: an empty
 * name, a variable that is not set, or one set to the empty string (an empty secret is
 * a mistake, never a password to use, as for `fileSecrets`).
 *
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `options` (not an object) or
 *   `environment` (not an object).
 * @example
 * ```ts
 * const store = await ConfigStore.create({ schema, source, secrets: [envSecrets()] });
 * // config: { "apiKey": { "$secret": "env:API_KEY" } }
 * ```
 */
export function envSecrets(options: EnvSecretsOptions = {}): SecretResolver {
  if (typeof options !== 'object' || (options as unknown) === null) throw new ArgumentError('options', `must be an object when given, got ${describeValue(options)}`);
  const given: unknown = options.environment;
  if (given !== undefined && (typeof given !== 'object' || given === null)) throw new ArgumentError('environment', `must be an object when given, got ${describeValue(given)}`);
  const environment = given as EnvSecretsOptions['environment'];
  return {
    scheme: 'env',
    // In a promise executor, so every failure is a rejection, as the contract's callers expect.
    resolve: (name, { signal, pointer }) =>
      new Promise<string>((settle) => {
        signal.throwIfAborted();
        settle(readVariable(environment ?? process.env, name, pointer));
      }),
  };
}

/** The non-empty value of the variable `name`. @throws {SecretError} as {@link envSecrets} */
function readVariable(variables: Readonly<Record<string, unknown>>, name: string, pointer: string): string {
  const named = `env:${name}`;
  if (name === '') throw new SecretError(named, pointer, 'no variable name after env:');
  const value = Object.hasOwn(variables, name) ? variables[name] : undefined;
  if (value === undefined) throw new SecretError(named, pointer, 'the environment variable is not set');
  // Its type only, in case the record holds the secret in another form.
  if (typeof value !== 'string') throw new SecretError(named, pointer, `the environment variable is ${describeValue(value)}, not a string`);
  if (value === '') throw new SecretError(named, pointer, 'the environment variable is empty');
  return value;
}
