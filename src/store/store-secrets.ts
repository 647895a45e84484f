/**
 * What a store knows of its secrets (DESIGN.md §5.3): the resolvers of secret references,
 * and the key of the digest it publishes. Checked once, at `create()`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ArgumentError } from '../errors.js';
import { describeValue } from '../internal/argument-checks.js';
import { parsePointer } from '../json/json-pointer.js';
import { replacePaths } from '../json/replace-paths.js';
import type { SecretReference, SecretResolver } from '../pipeline/resolve-secrets.js';
import { REDACTED, SensitivePaths } from '../schema/sensitive-paths.js';
import type { Explanation } from '../origin.js';

/** The secret options of `ConfigStore.create()`. */
export interface SecretOptions {
  /**
   * Resolvers of secret references (`{ "$secret": "file:/run/secrets/db" }`), by scheme:
   * `fileSecrets({ roots })`, `envSecrets()`, or your own. Without them a `$secret` object
   * is plain data (which the schema then likely refuses).
   */
  readonly secrets?: readonly SecretResolver[];
  /**
   * The key of the digest a store with secrets publishes (HMAC-SHA-256 of the config's
   * tree hash): without it, no one can test a guess of a secret against a digest offline.
   * Give every daemon of a fleet the same key so that equal configs have equal digests;
   * by default each store draws its own at random.
   */
  readonly digestKey?: string | Uint8Array;
}

/** A store's resolvers and digest key, checked. */
export class StoreSecrets {
  /** The resolvers by scheme; empty when the store resolves no references. */
  readonly resolvers: ReadonlyMap<string, SecretResolver>;
  // Set when the store has secrets (sensitive paths or resolvers): its digests are keyed.
  readonly #key: Uint8Array | undefined;

  /**
   * @param hasSensitive - whether the store declares sensitive paths (option or schema)
   * @throws {ArgumentError} `ERR_ARGUMENT` naming `secrets`, `secrets[i]` or `digestKey`
   */
  constructor(options: SecretOptions, hasSensitive: boolean) {
    const resolvers = new Map<string, SecretResolver>();
    const given: unknown = options.secrets;
    if (given !== undefined && !Array.isArray(given)) throw new ArgumentError('secrets', `must be an array of secret resolvers, got ${describeValue(given)}`);
    (given ?? []).forEach((resolver: unknown, index: number) => {
      const { scheme, resolve, watch } = (typeof resolver === 'object' && resolver !== null ? resolver : {}) as Partial<Record<keyof SecretResolver, unknown>>;
      if (typeof scheme !== 'string' || !/^[a-z][a-z0-9+.-]*$/.test(scheme) || typeof resolve !== 'function' || (watch !== undefined && typeof watch !== 'function')) {
        throw new ArgumentError(`secrets[${index}]`, `must be a secret resolver (a lowercase scheme, resolve(), optional watch()), got ${describeValue(resolver)}`);
      }
      if (resolvers.has(scheme)) throw new ArgumentError(`secrets[${index}]`, `a second resolver for the scheme ${JSON.stringify(scheme)}`);
      resolvers.set(scheme, resolver as SecretResolver);
    });
    this.resolvers = resolvers;
    const key: unknown = options.digestKey;
    if (key !== undefined && !(typeof key === 'string' && key !== '') && !(key instanceof Uint8Array && key.byteLength > 0)) {
      throw new ArgumentError('digestKey', `must be a non-empty string or Uint8Array, got ${describeValue(key)}`);
    }
    const keyed = hasSensitive || resolvers.size > 0 || key !== undefined;
    this.#key = !keyed ? undefined : key === undefined ? randomBytes(32) : typeof key === 'string' ? new TextEncoder().encode(key) : new Uint8Array(key);
  }

  /** True when the store's digests are keyed. */
  get isKeyed(): boolean {
    return this.#key !== undefined;
  }

  /**
   * The digest to publish for a config whose tree hash is `digest`: itself for a store
   * without secrets, else its HMAC-SHA-256 under the store's key (lowercase hex). Equal
   * configs still have equal digests; a change of a secret alone still changes it.
   */
  publish(digest: string): string {
    return this.#key === undefined ? digest : createHmac('sha256', this.#key).update(digest).digest('hex');
  }
}

/**
 * `config` with each reference put back where its resolved value is: the value to reload
 * when a secret rotates, so the reload resolves every reference again, inside a
 * transaction, and keeps every other value as it is. Copies only the nodes on those paths.
 */
export function withReferences(config: unknown, references: readonly SecretReference[]): unknown {
  return replacePaths(
    config,
    references.flatMap(({ pointer, reference }) => {
      const keys = parsePointer(pointer);
      return keys === undefined ? [] : [{ keys, value: { $secret: reference } }];
    }),
  );
}

/**
 * The watches of the secrets a live config holds: one per reference whose resolver can
 * watch, started when a generation brings the reference and stopped when none holds it.
 */
export class SecretWatches {
  readonly #resolvers: ReadonlyMap<string, SecretResolver>;
  readonly #onRotate: () => void;
  // The watch of each live reference, by the reference as written.
  readonly #stops = new Map<string, () => void>();
  #references: readonly SecretReference[] = [];
  #stopped = false;

  constructor(resolvers: ReadonlyMap<string, SecretResolver>, onRotate: () => void) {
    this.#resolvers = resolvers;
    this.#onRotate = onRotate;
  }

  /** The references of the live config. */
  get references(): readonly SecretReference[] {
    return this.#references;
  }

  /** The live config now holds `references`: watch the new ones, stop the others. */
  watch(references: readonly SecretReference[]): void {
    this.#references = references;
    if (this.#stopped) return;
    const live = new Set(references.map(({ reference }) => reference));
    for (const [reference, stop] of this.#stops) {
      if (live.has(reference)) continue;
      stop();
      this.#stops.delete(reference);
    }
    for (const reference of live) {
      if (this.#stops.has(reference)) continue;
      const colon = reference.indexOf(':');
      const stop = this.#resolvers.get(reference.slice(0, colon))?.watch?.(reference.slice(colon + 1), this.#onRotate);
      if (stop !== undefined) this.#stops.set(reference, stop);
    }
  }

  /** Stops every watch, for good (the store closes). */
  stop(): void {
    this.#stopped = true;
    for (const stop of this.#stops.values()) stop();
    this.#stops.clear();
  }
}

/**
 * The sensitive paths of a store's generations: the `sensitive` option and the schema's
 * annotations, plus the paths where a generation's secret references were resolved (a
 * resolved secret is sensitive whether or not anyone marked it).
 */
export class SensitiveConfig {
  readonly #patterns: readonly string[];
  readonly #schema: unknown;
  /** The option's and the schema's sensitive paths. */
  readonly base: SensitivePaths;
  // The last references asked for, and their paths: one compilation per generation.
  #cached: { readonly references: readonly SecretReference[]; readonly paths: SensitivePaths } | undefined;

  /** @throws {ArgumentError} `ERR_ARGUMENT` naming `sensitive` or `sensitive[i]` */
  constructor(patterns: unknown, schema: unknown) {
    if (patterns !== undefined && !Array.isArray(patterns)) throw new ArgumentError('sensitive', `must be an array of JSON Pointers, got ${describeValue(patterns)}`);
    this.#patterns = (patterns ?? []) as readonly string[];
    this.#schema = schema;
    this.base = SensitivePaths.compile(this.#patterns, schema);
  }

  // The sensitive paths of each generation's config, by its config object: what explain()
  // and redacted() use for the live one, from the moment it is swapped in.
  readonly #byConfig = new WeakMap<object, SensitivePaths>();

  /** The sensitive paths of the generation whose config is `config`; the base ones when it has none recorded. */
  ofConfig(config: unknown): SensitivePaths {
    return (typeof config === 'object' && config !== null ? this.#byConfig.get(config) : undefined) ?? this.base;
  }

  /** The sensitive paths of a config resolved from `references`, recorded for `config` when given. */
  of(references: readonly SecretReference[], config?: unknown): SensitivePaths {
    const paths = this.#pathsOf(references);
    if (typeof config === 'object' && config !== null && !this.#byConfig.has(config)) this.#byConfig.set(config, paths);
    return paths;
  }

  #pathsOf(references: readonly SecretReference[]): SensitivePaths {
    if (references.length === 0) return this.base;
    if (this.#cached?.references !== references) {
      // A reference's pointer as a pattern: a key named `*` there would widen it to its
      // siblings, which hides more, never less.
      this.#cached = { references, paths: SensitivePaths.compile([...this.#patterns, ...references.map(({ pointer }) => pointer)], this.#schema) };
    }
    return this.#cached.paths;
  }
}

/**
 * `explained` with the sensitive values at or under its path as `[redacted]`: the live
 * value and every shadowed one (a lower layer's password is a secret too).
 */
export function redactExplanation(explained: Explanation, sensitive: SensitivePaths): Explanation {
  const { pointer } = explained;
  if (!sensitive.touches(pointer)) return explained;
  const covered = sensitive.covers(pointer);
  const hide = (value: unknown): unknown => (covered ? REDACTED : sensitive.redact(value, pointer));
  return { ...explained, value: hide(explained.value), shadowed: explained.shadowed.map((entry) => ({ ...entry, value: hide(entry.value) })) };
}
