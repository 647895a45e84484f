import type { Ajv } from 'ajv';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { ArgumentError } from '../errors.js';
import { checkOptionalSignal, describeValue } from '../internal/argument-checks.js';
import type { ConfigSchema } from '../schema/schema-types.js';
import type { Participant } from '../transaction/participant.js';

/** Options of {@link ConfigStore.create}. */
export interface CreateOptions<S extends ConfigSchema, P extends readonly Participant[]> {
  /** A JSON Schema (compiled once by ajv: all errors, defaults applied, strict; `$async` schemas are awaited) or a Standard Schema v1 validator. */
  readonly schema: S;
  /** The first config. Goes through the same transaction as every reload. */
  readonly initial: unknown;
  /** Plugins taking part in every transaction, prepared in this order. Names must be unique and non-empty. */
  readonly participants?: P;
  /** Where participants write artifacts (`ctx.artifacts`). */
  readonly artifacts?: ArtifactStore;
  /** An ajv instance of yours (custom formats or keywords) to compile a JSON Schema with. */
  readonly ajv?: Ajv;
  /** Cancels the cold start. */
  readonly signal?: AbortSignal;
}

/**
 * Checks what `create()` is given, as JavaScript callers may pass it.
 * @throws {ArgumentError} `ERR_ARGUMENT`
 */
export function checkCreateOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null) throw new ArgumentError('options', `must be an object with a schema, got ${describeValue(options)}`);
  const { artifacts, signal } = options as { readonly artifacts?: unknown; readonly signal?: unknown };
  checkOptionalSignal('signal', signal);
  // By shape, not instanceof: a store made by a second installed copy of txconfig is one too.
  const { put, collect } = (artifacts ?? {}) as { readonly put?: unknown; readonly collect?: unknown };
  if (artifacts !== undefined && (typeof put !== 'function' || typeof collect !== 'function')) {
    throw new ArgumentError('artifacts', `must be an ArtifactStore (FsArtifactStore, MemoryArtifactStore, or one over your backend), got ${describeValue(artifacts)}`);
  }
}
