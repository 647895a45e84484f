import type { Ajv } from 'ajv';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { ArgumentError } from '../errors.js';
import { checkOptionalSignal, describeValue } from '../internal/argument-checks.js';
import type { ConfigSchema } from '../schema/schema-types.js';
import type { ConfigSource } from './config-source.js';
import type { SecretOptions } from './store-secrets.js';
import type { Participant } from '../transaction/participant.js';

/** Options of {@link ConfigStore.create}: a schema, and either `initial` or `source`. */
export type CreateOptions<S extends ConfigSchema, P extends readonly Participant[]> = CommonCreateOptions<S, P> &
  (
    | {
        /** The first config. Goes through the same transaction as every reload. */
        readonly initial: unknown;
        /** Not with `initial`. */
        readonly source?: undefined;
      }
    | {
        /**
         * Where the config comes from: read at cold start (through the same transaction as
         * every reload), again on `store.refresh()`, and on each change it reports when it
         * can watch; closed with the store.
         */
        readonly source: ConfigSource;
        /** Not with `source`. */
        readonly initial?: undefined;
      }
  );

/** The options of {@link ConfigStore.create} besides `initial` and `source`. */
export interface CommonCreateOptions<S extends ConfigSchema, P extends readonly Participant[]> extends SecretOptions {
  /** A JSON Schema (compiled once by ajv: all errors, defaults applied, strict; `$async` schemas are awaited) or a Standard Schema v1 validator. */
  readonly schema: S;
  /** Plugins taking part in every transaction, prepared in this order. Names must be unique and non-empty. */
  readonly participants?: P;
  /** Where participants write artifacts (`ctx.artifacts`). */
  readonly artifacts?: ArtifactStore;
  /** An ajv instance of yours (custom formats or keywords) to compile a JSON Schema with. */
  readonly ajv?: Ajv;
  /** Cancels the cold start. */
  readonly signal?: AbortSignal;
  /**
   * JSON Pointers of the sensitive values, `*` for any one key (`['/db/password',
   * '/tokens/*']`); schema nodes with `writeOnly: true` or `"x-sensitive": true` are
   * sensitive too, and so is every resolved secret reference. A whole subtree under a
   * sensitive node is. They are shown as `[redacted]` in errors, the status, `explain()`
   * and `snapshot.redacted()` (docs/secrets.md).
   */
  readonly sensitive?: readonly string[];
}

/**
 * Checks what `create()` is given, as JavaScript callers may pass it.
 * @throws {ArgumentError} `ERR_ARGUMENT`
 */
export function checkCreateOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null) throw new ArgumentError('options', `must be an object with a schema, got ${describeValue(options)}`);
  const { artifacts, signal, initial, source } = options as { readonly artifacts?: unknown; readonly signal?: unknown; readonly initial?: unknown; readonly source?: unknown };
  checkOptionalSignal('signal', signal);
  // An `initial` given as `undefined` beside a source counts as not given; alone, it is a
  // config (which validation refuses, as it did before sources).
  const hasInitial = Object.hasOwn(options, 'initial') && !(initial === undefined && source !== undefined);
  if (hasInitial === (source !== undefined)) throw new ArgumentError('options', 'must give either `initial` or `source`, not both and not neither');
  // By shape, not instanceof: a store made by a second installed copy of txconfig is one too.
  const { put, collect } = (artifacts ?? {}) as { readonly put?: unknown; readonly collect?: unknown };
  if (artifacts !== undefined && (typeof put !== 'function' || typeof collect !== 'function')) {
    throw new ArgumentError('artifacts', `must be an ArtifactStore (FsArtifactStore, MemoryArtifactStore, or one over your backend), got ${describeValue(artifacts)}`);
  }
}
