/**
 * Every error txconfig raises is a {@link TxConfigError}: a stable `code` that programs
 * branch on, a message for people, and the foreign failure it wraps as `cause`.
 *
 * The class names the family (a reload that did not happen, a config file that could not
 * be read, an artifact that could not be written); the code names the kind.
 */
import type { LayerValue } from './origin.js';

/** Every code txconfig raises. Codes are API: they never change meaning. */
export const ERROR_CODES = [
  'ERR_VALIDATION',
  'ERR_PREPARE',
  'ERR_ABORTED',
  'ERR_COMMIT',
  'ERR_LOAD',
  'ERR_ROLLBACK',
  'ERR_CLOSED',
  'ERR_TXN_STATE',
  'ERR_SYNC_TIMEOUT',
  'ERR_SCHEMA',
  'ERR_ARGUMENT',
  'ERR_NOT_CONFIGURED',
  'ERR_MISSING_DEPENDENCY',
  'ERR_CONFLICT',
  'ERR_SECRET',
  'ERR_INTERNAL',
  'ERR_PARSE',
  'ERR_UNSAFE_KEY',
  'ERR_FILE_NOT_FOUND',
  'ERR_FILE_ACCESS',
  'ERR_FILE_TYPE',
  'ERR_FILE_TOO_LARGE',
  'ERR_FILE_ENCODING',
  'ERR_ARTIFACT_NAME',
  'ERR_ARTIFACT_INTEGRITY',
  'ERR_ARTIFACT_IO',
  'ERR_ARTIFACT_UNSAFE_PATH',
] as const;

/** The union of every {@link ERROR_CODES} member. */
export type ErrorCode = (typeof ERROR_CODES)[number];

// A registered symbol, so an error from a second installed copy of txconfig is
// recognised too: `instanceof` fails across copies, `Symbol.for` does not.
const BRAND = Symbol.for('txconfig.error');

/**
 * The base class of every error txconfig raises.
 *
 * @example
 * ```ts
 * try { await store.reload(next); }
 * catch (error) { if (isTxConfigError(error)) console.error(error.code, error.message); }
 * ```
 */
export class TxConfigError extends Error {
  /** Always `'TxConfigError'`, for logs and stack traces; branch on `code` or `instanceof` instead. */
  override name = 'TxConfigError';
  /** The stable code of this failure kind; see docs/errors.md. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/**
 * True when `value` is an error raised by any installed copy of txconfig. Unlike
 * `instanceof`, it also recognises errors from a second copy (a plugin that bundles its
 * own txconfig).
 *
 * @example
 * ```ts
 * const outcome = await store.requestReload(() => readConfigFile(path));
 * if (outcome.status === 'rejected' && isTxConfigError(outcome.error.cause)) console.warn(outcome.error.cause.code);
 * ```
 */
export function isTxConfigError(value: unknown): value is TxConfigError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[BRAND] === true &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/**
 * True when `value` is a txconfig error (from any installed copy) with one of `codes`.
 * The library branches on this, never on `instanceof`, so errors of a second copy of
 * txconfig (a plugin that bundles its own) are recognised too.
 */
export function hasErrorCode<C extends ErrorCode>(value: unknown, ...codes: readonly C[]): value is TxConfigError & CodeOf<C> {
  return isTxConfigError(value) && (codes as readonly string[]).includes(value.code);
}

/** A {@link TxConfigError} narrowed to one of the codes `C`, as {@link hasErrorCode} finds it. */
export interface CodeOf<C extends ErrorCode> {
  /** One of the codes asked for. */
  readonly code: C;
}

/** One reason a config failed validation. */
export interface ValidationIssue {
  /** JSON Pointer (RFC 6901) of the offending value in the candidate config; `''` is the root. */
  readonly path: string;
  /** What is wrong, in words. */
  readonly message: string;
  /** The schema keyword that failed, when the validator says (`required`, `type`, …). */
  readonly keyword?: string;
}

/**
 * A candidate config does not satisfy the schema. Code `ERR_VALIDATION`.
 * Carries every issue, not only the first.
 */
export class ValidationError extends TxConfigError {
  /** Always `'ValidationError'`, for logs and stack traces; branch on `code` or `instanceof` instead. */
  override name = 'ValidationError';
  /** Every issue the validator reported, each with its JSON path. */
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[], options?: { cause?: unknown }) {
    const first = issues[0];
    const summary = first === undefined ? 'invalid config' : `${first.path || '/'}: ${first.message}`;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super('ERR_VALIDATION', `config is invalid: ${summary}${more}`, options);
    this.issues = Object.freeze([...issues]);
  }
}

/** Where in a transaction a failure happened. */
export type FailurePhase = 'load' | 'wait' | 'update' | 'resolve' | 'validate' | 'prepare' | 'rollback' | 'commit' | 'close';

/** One failure inside a transaction. */
export interface ReloadFailure {
  /** The participant whose hook failed, or `null` for the store's own steps. */
  readonly participant: string | null;
  /** The step that failed. */
  readonly phase: FailurePhase;
  /** What was thrown (or the rejection reason), as it was. */
  readonly error: unknown;
}

/** Codes a {@link ReloadError} can carry. */
export type ReloadErrorCode = 'ERR_VALIDATION' | 'ERR_UNSAFE_KEY' | 'ERR_SECRET' | 'ERR_PREPARE' | 'ERR_ABORTED' | 'ERR_COMMIT' | 'ERR_LOAD' | 'ERR_ROLLBACK' | 'ERR_CLOSED' | 'ERR_INTERNAL';

/**
 * A reload did not happen (or, with code `ERR_COMMIT`, happened but a commit hook failed).
 *
 * `code` is the kind of the first failure: `ERR_VALIDATION` (schema), `ERR_PREPARE`
 * (a participant), `ERR_UNSAFE_KEY` (a `__proto__`, `constructor` or `prototype` key in
 * the candidate), `ERR_SECRET` (a secret reference could not be resolved: phase `resolve`), `ERR_ABORTED` (the signal), `ERR_LOAD` (the load function of
 * `requestReload`), `ERR_COMMIT` (a commit hook threw after the swap), `ERR_ROLLBACK`
 * (an explicit rollback or abort whose rollback hooks failed: a participant may be left
 * half undone), `ERR_CLOSED` (the store is closed), `ERR_INTERNAL` (a bug of txconfig's).
 * `failures` lists every failure in order, rollback failures included; `cause` is the
 * first one's error.
 */
export class ReloadError extends TxConfigError {
  /** Always `'ReloadError'`, for logs and stack traces; branch on `code` or `instanceof` instead. */
  override name = 'ReloadError';
  /** The kind of the first failure; see the class summary. */
  declare readonly code: ReloadErrorCode;
  /** Every failure, in the order they happened. */
  readonly failures: readonly ReloadFailure[];
  /** The validation issues, when validation failed; otherwise empty. */
  readonly issues: readonly ValidationIssue[];

  constructor(code: ReloadErrorCode, failures: readonly ReloadFailure[], message?: string) {
    const first = failures[0];
    const where = first === undefined ? '' : first.participant === null ? ` (${first.phase})` : ` (${first.participant}.${first.phase})`;
    const reason = first === undefined ? '' : `: ${describe(first.error)}`;
    const extra = failures.length > 1 ? ` (${failures.length} failures)` : '';
    super(code, message ?? `reload failed${where}${reason}${extra}`, { cause: first?.error });
    this.failures = Object.freeze([...failures]);
    const issues: ValidationIssue[] = [];
    for (const f of failures) if (hasErrorCode(f.error, 'ERR_VALIDATION') && 'issues' in f.error) issues.push(...(f.error as ValidationError).issues);
    this.issues = Object.freeze(issues);
  }
}

/**
 * True when `value` is a {@link ReloadError} raised by any installed copy of txconfig:
 * a branded error with a reload code and its list of failures.
 */
export function isReloadError(value: unknown): value is ReloadError {
  return hasErrorCode(value, ...RELOAD_ERROR_CODES) && Array.isArray((value as { failures?: unknown }).failures);
}

const RELOAD_ERROR_CODES: readonly ReloadErrorCode[] = ['ERR_VALIDATION', 'ERR_UNSAFE_KEY', 'ERR_SECRET', 'ERR_PREPARE', 'ERR_ABORTED', 'ERR_COMMIT', 'ERR_LOAD', 'ERR_ROLLBACK', 'ERR_CLOSED', 'ERR_INTERNAL'];

/** A transaction method was called in a state that does not allow it. Code `ERR_TXN_STATE`. */
export class TransactionStateError extends TxConfigError {
  /** Always `'TransactionStateError'`, for logs and stack traces; branch on `code` or `instanceof` instead. */
  override name = 'TransactionStateError';
  /** The state the transaction was in. */
  readonly state: string;

  constructor(state: string, action: string) {
    super('ERR_TXN_STATE', `cannot ${action}: transaction is ${state}`);
    this.state = state;
  }
}

/** `synchronize()` gave up: code `ERR_SYNC_TIMEOUT` (its timeout) or `ERR_ABORTED` (its signal). */
export class SynchronizeError extends TxConfigError {
  /** Always `'SynchronizeError'`, for logs and stack traces; branch on `code` or `instanceof` instead. */
  override name = 'SynchronizeError';
  /** `ERR_SYNC_TIMEOUT` or `ERR_ABORTED`. */
  declare readonly code: 'ERR_SYNC_TIMEOUT' | 'ERR_ABORTED';
  /** Generations still pinned when it gave up. */
  readonly pinnedGenerations: readonly number[];

  constructor(code: 'ERR_SYNC_TIMEOUT' | 'ERR_ABORTED', pinnedGenerations: readonly number[], options?: { cause?: unknown }) {
    super(code, `synchronize ${code === 'ERR_ABORTED' ? 'aborted' : 'timed out'}; generations still pinned: ${pinnedGenerations.join(', ') || 'none'}`, options);
    this.pinnedGenerations = Object.freeze([...pinnedGenerations]);
  }
}

/**
 * The store's set-up is unusable: code `ERR_SCHEMA` (the schema does not compile, or is
 * one txconfig cannot use), `ERR_NOT_CONFIGURED` (a feature used that was not set up,
 * e.g. artifacts with no artifact store), or `ERR_MISSING_DEPENDENCY` (an optional
 * package a feature needs is not installed: {@link MissingDependencyError}).
 */
export class ConfigurationError extends TxConfigError {
  /** Always `'ConfigurationError'`, for logs and stack traces; branch on `code` or `instanceof` instead. */
  override name = 'ConfigurationError';
  /** `ERR_SCHEMA`, `ERR_NOT_CONFIGURED` or `ERR_MISSING_DEPENDENCY`. */
  declare readonly code: 'ERR_SCHEMA' | 'ERR_NOT_CONFIGURED' | 'ERR_MISSING_DEPENDENCY';
}

/**
 * An optional peer dependency that a feature needs is not installed (a YAML file read
 * without the `js-yaml` package). Code `ERR_MISSING_DEPENDENCY`; the message says what to
 * install.
 */
export class MissingDependencyError extends ConfigurationError {
  /** Always `'MissingDependencyError'`, for logs and stack traces; branch on `code` or `instanceof` instead. */
  override name = 'MissingDependencyError';
  /** Always `ERR_MISSING_DEPENDENCY`. */
  declare readonly code: 'ERR_MISSING_DEPENDENCY';
  /** The npm package to install (`js-yaml`, `smol-toml`, `etcd3`, `prom-client`). */
  readonly packageName: string;

  constructor(packageName: string, feature: string, options?: { cause?: unknown }) {
    super('ERR_MISSING_DEPENDENCY', `${feature} needs the package ${packageName}, which is not installed: npm install ${packageName}`, options);
    this.packageName = packageName;
  }
}

/** One of the two values of a {@link ConflictError}: its layer and place. */
export type ConflictSide = Omit<LayerValue, 'value'>;

/**
 * Two layers of a `layered(…, { conflicts: 'reject' })` source set the same key (Moby's
 * rule: a setting given both as a flag and in the file is refused). Code `ERR_CONFLICT`;
 * names both origins. A reload that meets it is rejected with `ERR_LOAD` and this error
 * as its cause.
 */
export class ConflictError extends TxConfigError {
  /** Always `'ConflictError'`, for logs and stack traces; branch on `code` or `instanceof` instead. */
  override name = 'ConflictError';
  /** Always `ERR_CONFLICT`. */
  declare readonly code: 'ERR_CONFLICT';
  /** JSON Pointer of the key set twice. */
  readonly pointer: string;
  /** The lower layer's side, then the higher one's. */
  readonly sides: readonly [ConflictSide, ConflictSide];

  constructor(pointer: string, lower: ConflictSide, higher: ConflictSide) {
    super('ERR_CONFLICT', `${pointer || '/'} is set twice: by ${describeSide(lower)} and by ${describeSide(higher)}`);
    this.pointer = pointer;
    this.sides = Object.freeze([lower, higher] as const);
  }
}

function describeSide(side: ConflictSide): string {
  const where = Object.entries(side.origin).map(([key, value]) => `${key} ${String(value)}`).join(', ');
  return where === '' ? side.layer : `${side.layer} (${where})`;
}

/**
 * A bad argument to any txconfig function or method: a wrong type, a number out of
 * range, an option that makes no sense (a negative limit, a `NaN` timeout, two
 * participants with one name). Code `ERR_ARGUMENT`. Thrown synchronously by the call
 * that got it (or as the rejection of an async one), before anything ran.
 */
export class ArgumentError extends TxConfigError {
  /** Always `'ArgumentError'`, for logs and stack traces; branch on `code` or `instanceof` instead. */
  override name = 'ArgumentError';
  /** Always `ERR_ARGUMENT`. */
  declare readonly code: 'ERR_ARGUMENT';
  /** The argument or option at fault, as the API names it (`timeoutMs`, `participants[1].name`, `mode`). */
  readonly argument: string;

  constructor(argument: string, message: string, options?: { cause?: unknown }) {
    super('ERR_ARGUMENT', `${argument}: ${message}`, options);
    this.argument = argument;
  }
}

/**
 * A bug of txconfig's own: an invariant did not hold. Code `ERR_INTERNAL`. Never expected;
 * report it with its `cause`. Raised instead of losing the failure.
 */
export class InternalError extends TxConfigError {
  /** Always `'InternalError'`, for logs and stack traces; branch on `code` or `instanceof` instead. */
  override name = 'InternalError';
  /** Always `ERR_INTERNAL`. */
  declare readonly code: 'ERR_INTERNAL';

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_INTERNAL', `internal error (a bug of txconfig's): ${message}`, options);
  }
}

/**
 * A secret reference (`{ "$secret": "file:/run/secrets/db_password" }`) could not be
 * resolved: no resolver for its scheme, a file outside the allowed roots or through a
 * symlink that leaves them, missing, empty or too large, an environment variable that is
 * not set. Code `ERR_SECRET`. Names the reference and where it sits, never a value; a
 * reload that meets it is rejected with a `ReloadError` of the same code (phase `resolve`).
 */
export class SecretError extends TxConfigError {
  /** Always `'SecretError'`, for logs and stack traces; branch on `code` or `instanceof` instead. */
  override name = 'SecretError';
  /** Always `ERR_SECRET`. */
  declare readonly code: 'ERR_SECRET';
  /** The reference as written (`file:/run/secrets/db_password`, `env:API_KEY`). */
  readonly reference: string;
  /** JSON Pointer of the `{ "$secret": … }` object in the config. */
  readonly pointer: string;

  constructor(reference: string, pointer: string, message: string, options?: { cause?: unknown }) {
    super('ERR_SECRET', `secret ${reference || '(no scheme)'} at ${pointer || '/'}: ${message}`, options);
    this.reference = reference;
    this.pointer = pointer;
  }
}

/** Codes a {@link ConfigFileError} can carry. */
export type ConfigFileErrorCode =
  | 'ERR_PARSE'
  | 'ERR_UNSAFE_KEY'
  | 'ERR_FILE_NOT_FOUND'
  | 'ERR_FILE_ACCESS'
  | 'ERR_FILE_TYPE'
  | 'ERR_FILE_TOO_LARGE'
  | 'ERR_FILE_ENCODING';

/** A config file could not be read or is not an acceptable JSON object. */
export class ConfigFileError extends TxConfigError {
  /** Always `'ConfigFileError'`, for logs and stack traces; branch on `code` or `instanceof` instead. */
  override name = 'ConfigFileError';
  /** One of {@link ConfigFileErrorCode}. */
  declare readonly code: ConfigFileErrorCode;
  /** The file, as given by the caller. */
  readonly path: string;

  constructor(code: ConfigFileErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(code, `${path}: ${message}`, options);
    this.path = path;
  }
}

/** The file is not valid JSON (or is too deeply nested). Code `ERR_PARSE`. */
export class ParseError extends ConfigFileError {
  /** Always `'ParseError'`, for logs and stack traces; branch on `code` or `instanceof` instead. */
  override name = 'ParseError';
  /** Always `ERR_PARSE`. */
  declare readonly code: 'ERR_PARSE';
  /** 1-based line of the problem. */
  readonly line: number;
  /** 1-based column of the problem, in characters. */
  readonly column: number;

  constructor(path: string, message: string, line: number, column: number, options?: { cause?: unknown }) {
    super('ERR_PARSE', path, `${message} at line ${line}, column ${column}`, options);
    this.line = line;
    this.column = column;
  }
}

/**
 * A key that can pollute prototypes (`__proto__`, `constructor`, `prototype`) in any
 * input: a file of any format, an environment variable's name, a flag, a value given to
 * `reload()` or made by a recipe. Code `ERR_UNSAFE_KEY`. `path` names the input (the
 * file, `env APP___PROTO__`, `--__proto__.x`, `reload()`); `line` and `column` are set
 * for text with positions.
 */
export class UnsafeKeyError extends ConfigFileError {
  /** Always `'UnsafeKeyError'`, for logs and stack traces; branch on `code` or `instanceof` instead. */
  override name = 'UnsafeKeyError';
  /** Always `ERR_UNSAFE_KEY`. */
  declare readonly code: 'ERR_UNSAFE_KEY';
  /** The refused key. */
  readonly key: string;
  /** JSON Pointer of the object holding it. */
  readonly pointer: string;
  /** 1-based line of the key, when the input is text with positions. */
  readonly line: number | undefined;
  /** 1-based column of the key, in characters, when the input is text with positions. */
  readonly column: number | undefined;

  constructor(path: string, key: string, pointer: string, line?: number, column?: number) {
    const where = line === undefined ? '' : ` at line ${line}, column ${column ?? 1}`;
    super('ERR_UNSAFE_KEY', path, `refused key ${JSON.stringify(key)} in ${pointer || '/'}${where}`);
    this.key = key;
    this.pointer = pointer;
    this.line = line;
    this.column = column;
  }
}

/** Codes an {@link ArtifactError} can carry. */
export type ArtifactErrorCode = 'ERR_ARTIFACT_NAME' | 'ERR_ARTIFACT_INTEGRITY' | 'ERR_ARTIFACT_IO' | 'ERR_ARTIFACT_UNSAFE_PATH';

/**
 * An artifact could not be named, written, read or trusted.
 * `ERR_ARTIFACT_NAME` (refused logical name), `ERR_ARTIFACT_INTEGRITY` (bytes do not match
 * the digest), `ERR_ARTIFACT_IO` (the file system failed), `ERR_ARTIFACT_UNSAFE_PATH`
 * (a symlink or other file the store did not create stands where it would write).
 */
export class ArtifactError extends TxConfigError {
  /** Always `'ArtifactError'`, for logs and stack traces; branch on `code` or `instanceof` instead. */
  override name = 'ArtifactError';
  /** One of {@link ArtifactErrorCode}. */
  declare readonly code: ArtifactErrorCode;
  /** The file concerned, when there is one. */
  readonly path: string | undefined;
  /** The expected SHA-256 (hex), when known. */
  readonly digest: string | undefined;

  constructor(
    code: ArtifactErrorCode,
    message: string,
    details: { path?: string | undefined; digest?: string | undefined; cause?: unknown } = {},
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.path = details.path;
    this.digest = details.digest;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
