/**
 * Secret references (DESIGN.md §5.3): a value `{ "$secret": "file:/run/secrets/db" }` or
 * `{ "$secret": "env:API_KEY" }` in a candidate, resolved inside the transaction before
 * validation by the store's resolvers. The contract resolvers implement lives here; the
 * resolvers themselves (`fileSecrets`, `envSecrets`) live with the sources.
 */
import { SecretError, hasErrorCode } from '../errors.js';
import { describeValue } from '../internal/argument-checks.js';
import { toPointer } from '../json/json-pointer.js';
import { isPlainObject } from '../json/plain-object.js';
import { replacePaths } from '../json/replace-paths.js';

/**
 * Resolves the references of one scheme (`file`, `env`, a vault's own). `resolve` gives
 * the secret's text; `watch`, when the secret can change (a Kubernetes Secret volume),
 * reports each change so the store reloads.
 */
export interface SecretResolver {
  /** The scheme before the first `:` of the references it resolves (`file`, `env`). */
  readonly scheme: string;
  /**
   * The secret `reference` (the text after `scheme:`) names, now.
   * @throws {SecretError} `ERR_SECRET` naming the reference (never the value) when it cannot
   */
  resolve(reference: string, options: { readonly signal: AbortSignal; readonly pointer: string }): Promise<string>;
  /** Calls `onChange` when the secret `reference` names may have changed; returns the stop. */
  watch?(reference: string, onChange: () => void): () => void;
}

/** One `{ "$secret": … }` of a config: where it sits and what it names. */
export interface SecretReference {
  /** JSON Pointer of the reference object. */
  readonly pointer: string;
  /** The whole reference as written (`file:/run/secrets/db`). */
  readonly reference: string;
}

/** The key that marks a secret reference: `{ "$secret": "scheme:rest" }`. */
const SECRET_KEY = '$secret';

/** The shape of a reference's text: a lowercase scheme, `:`, then what the resolver reads. */
const REFERENCE = /^([a-z][a-z0-9+.-]*):/;

/** A reference found by the walk, with the keys that lead to it (for the path copying). */
interface FoundReference extends SecretReference {
  readonly keys: readonly (string | number)[];
}

/**
 * Every secret reference in `value`: each object that is exactly `{ "$secret": <string> }`
 * (one own key), at any depth of objects and arrays, in document order. A reference is
 * not looked into. Only the shape is checked here; whether the text names a resolver is
 * {@link resolveSecrets}' business.
 *
 * An object with a `$secret` key that is not a reference (a `$secret` that is not a
 * string, or other keys beside it) is refused rather than kept as data: kept, it would
 * reach validation and the participants unresolved, or with a secret pasted in place of
 * the reference.
 *
 * @throws {SecretError} `ERR_SECRET` naming the pointer of the first malformed
 *   `$secret` object. Its `reference` is the text when it has the shape `scheme:…`,
 *   else `''` (such text may be a secret written in place, so it is not repeated).
 * @example
 * ```ts
 * findSecretReferences({ db: { password: { $secret: 'file:/run/secrets/db' } } });
 * // [{ pointer: '/db/password', reference: 'file:/run/secrets/db' }]
 * ```
 */
export function findSecretReferences(value: unknown): SecretReference[] {
  return collectReferences(value).map(({ pointer, reference }) => ({ pointer, reference }));
}

/** What {@link resolveSecrets} gives. */
export interface ResolveSecretsResult {
  /** The candidate with each reference replaced by its text; the candidate itself when it has none. */
  readonly value: unknown;
  /** The references that were resolved, in document order. */
  readonly references: readonly SecretReference[];
}

/**
 * The candidate with each secret reference replaced by the text its resolver gives.
 *
 * Never changes `candidate` (it may be frozen, or the caller's): only the objects and
 * arrays on the way to a reference are copied; every other subtree is shared, the same
 * object. A candidate without references is returned itself, after one walk. Every
 * reference is checked before any is resolved; then all are resolved at once, and the
 * first failure (in document order) is thrown once all have settled, so no resolve is
 * left running. The same reference written twice is resolved once: both places get the
 * same text, even while the secret rotates.
 *
 * @param resolvers - The resolvers by scheme (`file`, `env`).
 * @param signal - Passed to every resolver; an abort rejects with `signal.reason`.
 * @throws {SecretError} `ERR_SECRET` naming the reference and its pointer, never a
 *   value: a malformed `$secret` object (see {@link findSecretReferences}), a text
 *   without a `scheme:` (its `reference` is then `''`), no resolver for the scheme, or
 *   the resolver's failure (its own `SecretError`, or any other throw as `cause`) or a
 *   result that is not a string.
 * @throws `signal.reason` when `signal` aborts.
 * @example
 * ```ts
 * const resolvers = new Map([fileSecrets({ roots: ['/run/secrets'] }), envSecrets()].map((r) => [r.scheme, r]));
 * const { value, references } = await resolveSecrets(candidate, resolvers, signal);
 * ```
 */
export async function resolveSecrets(candidate: unknown, resolvers: ReadonlyMap<string, SecretResolver>, signal: AbortSignal): Promise<ResolveSecretsResult> {
  const found = collectReferences(candidate);
  if (found.length === 0) return { value: candidate, references: [] };
  signal.throwIfAborted();

  // One resolve per distinct reference, by the first place it is written.
  const pending = new Map<string, { readonly resolver: SecretResolver; readonly rest: string; readonly at: FoundReference }>();
  for (const at of found) {
    if (pending.has(at.reference)) continue;
    const scheme = REFERENCE.exec(at.reference)?.[1];
    if (scheme === undefined) throw new SecretError('', at.pointer, 'the $secret text is not a reference of the form scheme:name');
    const resolver = resolvers.get(scheme);
    // Only the scheme is named: text no resolver reads may be a secret written in place
    // (a connection string with its password).
    if (resolver === undefined) throw new SecretError(`${scheme}:…`, at.pointer, `no secret resolver for the scheme ${JSON.stringify(scheme)}`);
    pending.set(at.reference, { resolver, rest: at.reference.slice(scheme.length + 1), at });
  }

  const settled = await Promise.allSettled(
    [...pending].map(async ([reference, { resolver, rest, at }]) => [reference, await resolveOne(resolver, rest, at, signal)] as const),
  );
  const texts = new Map<string, string>();
  for (const outcome of settled) {
    if (outcome.status === 'rejected') throw outcome.reason;
    texts.set(...outcome.value);
  }
  return {
    // A root that is itself a reference is the only one (the walk does not look into
    // one): its empty path makes it the text.
    value: replacePaths(candidate, found.map(({ keys, reference }) => ({ keys, value: texts.get(reference) }))),
    references: Object.freeze(found.map(({ pointer, reference }) => Object.freeze({ pointer, reference }))),
  };
}

/** One resolve, its failure made a SecretError naming the reference (an abort stays the signal's reason). */
async function resolveOne(resolver: SecretResolver, rest: string, at: FoundReference, signal: AbortSignal): Promise<string> {
  let text: unknown;
  try {
    text = await resolver.resolve(rest, { signal, pointer: at.pointer });
  } catch (error) {
    if (signal.aborted && error === signal.reason) throw error;
    if (hasErrorCode(error, 'ERR_SECRET')) throw error;
    throw new SecretError(at.reference, at.pointer, 'the resolver failed', { cause: error });
  }
  // Its type only: a wrong result may be the secret itself.
  if (typeof text !== 'string') throw new SecretError(at.reference, at.pointer, `the resolver gave ${describeValue(text)}, not a string`);
  return text;
}

/** The walk: every reference under `value`, in document order. @throws {SecretError} as {@link findSecretReferences} */
function collectReferences(value: unknown): FoundReference[] {
  const found: FoundReference[] = [];
  const keys: (string | number)[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (let index = 0; index < node.length; index++) {
        keys.push(index);
        visit(node[index]);
        keys.pop();
      }
      return;
    }
    if (!isPlainObject(node)) return;
    if (Object.hasOwn(node, SECRET_KEY)) {
      found.push(referenceAt(node, keys));
      return;
    }
    for (const key of Object.keys(node)) {
      keys.push(key);
      visit(node[key]);
      keys.pop();
    }
  };
  visit(value);
  return found;
}

/** The reference an object with a `$secret` key is. @throws {SecretError} when it is not exactly one */
function referenceAt(node: Record<string, unknown>, keys: readonly (string | number)[]): FoundReference {
  const text = node[SECRET_KEY];
  const pointer = toPointer(keys);
  if (typeof text !== 'string') throw new SecretError('', pointer, `$secret must be a string, got ${describeValue(text)}`);
  if (Object.keys(node).length !== 1) {
    throw new SecretError(REFERENCE.test(text) ? text : '', pointer, 'a $secret object must have no other key');
  }
  return { pointer, reference: text, keys: [...keys] };
}

