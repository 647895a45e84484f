import { Ajv, type AsyncValidateFunction, type ErrorObject, type ValidateFunction } from 'ajv';
import { ArgumentError, ConfigurationError, ValidationError, type ValidationIssue } from '../errors.js';
import { WHOLE_VALUE, copyJson } from '../json/checked-json.js';
import { compileChangeCheck, type ChangeCheck } from './change-validation.js';
import { SENSITIVE_KEYWORD } from './sensitive-schema.js';
import { toPointer } from '../json/json-pointer.js';
import type { ConfigSchema, JsonSchema, StandardSchemaIssue, StandardSchemaV1 } from './schema-types.js';
import { canShareNodes, schemaWritesDefaults, validateSharingNodes } from './shared-node-validation.js';

/**
 * A compiled validator: takes a candidate (never mutated), returns the validated value
 * (with defaults applied), or throws a ValidationError carrying every issue. `live`, the
 * live config (checked JSON data) when there is one, only saves work: the result does not
 * depend on it. Every validator reads the candidate itself (not what a schema makes of
 * it) through copyJson's checks first, so an own key `__proto__`, `constructor` or
 * `prototype` anywhere in it is refused with an UnsafeKeyError that `input` names
 * (`reload()`, the default, or `recipe`), whatever the schema says of that member: a
 * schema that allows any member, or one that would strip it, never sees it.
 */
export type Validate = ((candidate: unknown, live?: unknown, input?: string) => unknown) & {
  /** Validation that costs what changed, when the schema allows it (see change-validation.ts). */
  readonly changes?: ChangeValidation;
};

/** The change check of a schema, and whether its validation may write into the data. */
export interface ChangeValidation {
  readonly check: ChangeCheck;
  /**
   * True when the schema has a `default`: validation may then add members to the nodes
   * it checks, so what was checked must be compared with the live config again. False:
   * it writes nothing, and the nodes it checked are kept as they are.
   */
  readonly writesDefaults: boolean;
}

/** The key our own ajv instance knows a schema without an `$id` by. */
const SCHEMA_KEY = 'txconfig:config';

/** Options for {@link compileValidator}. */
export interface ValidatorOptions {
  /**
   * An ajv instance of the caller's (custom formats, keywords). Default: our own. The
   * annotation keyword `x-sensitive` is declared on it when it does not know that keyword
   * yet (see {@link compileValidator}).
   */
  readonly ajv?: Ajv | undefined;
}

/** True when `schema` is a Standard Schema v1 validator (zod 4, valibot, arktype…). */
export function isStandardSchema(schema: unknown): schema is StandardSchemaV1 {
  if ((typeof schema !== 'object' && typeof schema !== 'function') || schema === null) return false;
  const props = (schema as Partial<StandardSchemaV1>)['~standard'];
  return typeof props === 'object' && (props.version as unknown) === 1 && typeof props.validate === 'function';
}

/**
 * Compiles a schema once, for the store's lifetime. A JSON Schema is compiled by ajv (by
 * `options.ajv` when given, else by our own instance: all errors, defaults applied,
 * strict); an `$async` one gives a validator that returns a promise, as a Standard Schema
 * validator does. The keyword `"x-sensitive": true` (a sensitive node, as `writeOnly`) is
 * declared to ajv, which in strict mode refuses a keyword it does not know: on our
 * instance always, on the caller's only when `getKeyword` says it does not know it yet (a
 * definition of the caller's is kept; the instance is changed, once, by that addition).
 * @throws {ArgumentError} `ERR_ARGUMENT` when `schema` is neither a JSON Schema (an object or a boolean) nor a Standard Schema, or `options.ajv` is not an ajv instance
 * @throws {ConfigurationError} `ERR_SCHEMA` when ajv cannot compile the JSON Schema
 */
export function compileValidator(schema: ConfigSchema, options: ValidatorOptions = {}): Validate | ((candidate: unknown, live?: unknown, input?: string) => Promise<unknown>) {
  const { ajv } = options;
  if (ajv !== undefined && typeof (ajv as Partial<Ajv> | null)?.compile !== 'function') throw new ArgumentError('ajv', 'is not an ajv instance');
  if (isStandardSchema(schema)) return standardValidator(schema);
  // The type says this cannot happen; a JavaScript caller can still pass anything.
  const given: unknown = schema;
  if (typeof given !== 'boolean' && (typeof given !== 'object' || given === null || Array.isArray(given))) {
    throw new ArgumentError('schema', 'is neither a JSON Schema (an object or a boolean) nor a Standard Schema validator');
  }
  return jsonSchemaValidator(schema, ajv);
}

function jsonSchemaValidator(schema: JsonSchema, ajv: Ajv | undefined): Validate | ((candidate: unknown, live?: unknown, input?: string) => Promise<unknown>) {
  const engine = ajv ?? new Ajv({ allErrors: true, useDefaults: true, strict: true });
  declareSensitiveKeyword(engine);
  // Our own instance knows the schema by a key (its `$id` if it has one), so that the
  // change check can ask it for the validator of any subschema by JSON Pointer.
  const key = ajv === undefined && typeof schema === 'object' ? (typeof schema.$id === 'string' ? schema.$id : SCHEMA_KEY) : undefined;
  let check: ValidateFunction;
  try {
    if (key === SCHEMA_KEY) engine.addSchema(schema, key);
    check = key === SCHEMA_KEY ? (engine.getSchema(key) as ValidateFunction) : engine.compile(schema);
  } catch (error) {
    throw new ConfigurationError('ERR_SCHEMA', `the JSON Schema does not compile: ${(error as Error).message}`, { cause: error });
  }
  if (isAsync(check)) return asyncValidator(check);
  const sharesNodes = canShareNodes(schema, ajv === undefined);
  const validate: Validate = (candidate, live, input = WHOLE_VALUE) => {
    if (sharesNodes) {
      const validated = validateSharingNodes(check, candidate, live, input);
      if (validated !== undefined) return validated;
    }
    // A full copy, the candidate read once: the value checked is the value kept, so a
    // getter cannot show ajv one value and the snapshot another.
    const data = copyJson(candidate, { input });
    if (check(data)) return data;
    throw new ValidationError((check.errors ?? []).map(ajvIssue));
  };
  if (!sharesNodes || key === undefined || typeof schema !== 'object') return validate;
  const writesDefaults = schemaWritesDefaults(schema);
  const changes: ChangeValidation = { check: compileChangeCheck(schema, engine, key, writesDefaults), writesDefaults };
  return Object.assign(validate, { changes });
}

/**
 * Declares `x-sensitive` as an annotation (a boolean that validates nothing) unless the
 * engine knows it already. An engine without `getKeyword` and `addKeyword` (not a whole
 * ajv) is left as it is: compiling a schema that uses the keyword then says what is wrong.
 */
function declareSensitiveKeyword(engine: Ajv): void {
  const known = engine as Partial<Pick<Ajv, 'getKeyword' | 'addKeyword'>>;
  if (typeof known.getKeyword !== 'function' || typeof known.addKeyword !== 'function') return;
  if (engine.getKeyword(SENSITIVE_KEYWORD) === false) engine.addKeyword({ keyword: SENSITIVE_KEYWORD, schemaType: 'boolean' });
}

/** True when ajv compiled an `$async` schema: the function answers with a promise, not a boolean. */
function isAsync(check: ValidateFunction): check is AsyncValidateFunction {
  return (check as Partial<AsyncValidateFunction>).$async === true;
}

/**
 * The validator of an `$async` schema: ajv's function resolves when the data is valid and
 * rejects with its own ValidationError when it is not; any other rejection (an async
 * keyword that could not decide) is passed on as it is. Always a full copy: the shortcut
 * is for synchronous schemas.
 */
function asyncValidator(check: AsyncValidateFunction): (candidate: unknown, live?: unknown, input?: string) => Promise<unknown> {
  return async (candidate, _live, input = WHOLE_VALUE) => {
    const data = copyJson(candidate, { input });
    try {
      await check(data);
    } catch (error) {
      if (isAjvValidationError(error)) throw new ValidationError(error.errors.map(ajvIssue));
      throw error;
    }
    return data;
  };
}

/**
 * ajv's `ValidationError` (the rejection of an async validator), recognised by the marks
 * ajv gives it rather than by class: a caller's ajv may be another installed copy.
 */
function isAjvValidationError(error: unknown): error is { readonly errors: readonly Partial<ErrorObject>[] } {
  const marks = error as { ajv?: unknown; validation?: unknown; errors?: unknown } | null;
  return error instanceof Error && marks?.ajv === true && marks.validation === true && Array.isArray(marks.errors);
}

function ajvIssue(error: Partial<ErrorObject>): ValidationIssue {
  const params = (error.params ?? {}) as Record<string, unknown>;
  let path = error.instancePath ?? '';
  const child = params.missingProperty ?? params.additionalProperty ?? params.unevaluatedProperty;
  if (typeof child === 'string') path += toPointer([child]);
  const keyword = error.keyword;
  const message = error.message ?? keyword ?? 'invalid';
  return keyword === undefined ? { path, message } : { path, message, keyword };
}

function standardValidator(schema: StandardSchemaV1): (candidate: unknown, live?: unknown, input?: string) => Promise<unknown> {
  return async (candidate, _live, input = WHOLE_VALUE) => {
    // Validated on our own copy, read once: the value kept is the value checked. The copy
    // refuses unsafe keys before the schema runs: one that strips unknown members (zod's
    // default) would otherwise hide them. What the schema gives back is walked again, with
    // the same checks, when it is reconciled (reconcile.ts).
    const result = await schema['~standard'].validate(copyJson(candidate, { input }));
    if (result.issues === undefined) return result.value;
    throw new ValidationError(result.issues.map(standardIssue));
  };
}

function standardIssue(issue: StandardSchemaIssue): ValidationIssue {
  const path = (issue.path ?? []).map((segment) => {
    const key = typeof segment === 'object' ? segment.key : segment;
    return typeof key === 'number' ? key : String(key);
  });
  return { path: toPointer(path), message: issue.message };
}
