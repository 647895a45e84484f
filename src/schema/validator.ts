import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ConfigurationError, ValidationError, type ValidationIssue } from '../errors.js';
import { copyJson } from '../json/checked-json.js';
import { shareJson } from '../json/share-json.js';
import { toPointer } from '../json/json-pointer.js';
import type { ConfigSchema, JsonSchema, StandardSchemaIssue, StandardSchemaV1 } from './schema-types.js';

/**
 * A compiled validator: takes a candidate (never mutated), returns the validated value
 * (with defaults applied), or throws a ValidationError carrying every issue. `live`, the
 * live config (checked JSON data) when there is one, only saves work: the result does not
 * depend on it.
 */
export type Validate = (candidate: unknown, live?: unknown) => unknown;

/** Options for {@link compileValidator}. */
export interface ValidatorOptions {
  /** An ajv instance of the caller's (custom formats, keywords). Default: our own. */
  readonly ajv?: Ajv | undefined;
}

/** True when `schema` is a Standard Schema v1 validator (zod 4, valibot, arktype…). */
export function isStandardSchema(schema: unknown): schema is StandardSchemaV1 {
  if ((typeof schema !== 'object' && typeof schema !== 'function') || schema === null) return false;
  const props = (schema as Partial<StandardSchemaV1>)['~standard'];
  return typeof props === 'object' && (props.version as unknown) === 1 && typeof props.validate === 'function';
}

/**
 * Compiles a schema once, for the store's lifetime.
 * @throws {ConfigurationError} `ERR_SCHEMA` when ajv cannot compile the JSON Schema
 */
export function compileValidator(schema: ConfigSchema, options: ValidatorOptions = {}): Validate | ((candidate: unknown, live?: unknown) => Promise<unknown>) {
  if (isStandardSchema(schema)) return standardValidator(schema);
  return jsonSchemaValidator(schema, options.ajv);
}

function jsonSchemaValidator(schema: JsonSchema, ajv: Ajv | undefined): Validate {
  const engine = ajv ?? new Ajv({ allErrors: true, useDefaults: true, strict: true });
  let check: ValidateFunction;
  try {
    check = engine.compile(schema);
  } catch (error) {
    throw new ConfigurationError('ERR_SCHEMA', `the JSON Schema does not compile: ${(error as Error).message}`, { cause: error });
  }
  // ajv writes into the data it checks: ours only to apply defaults, one of the caller's
  // may also coerce types or remove members. Such data must be a private mutable copy;
  // data nothing writes into may share the live config's (frozen) nodes.
  const writes = ajv !== undefined || hasKeyword(schema, 'default');
  const sharesChecked = ajv === undefined && writes && defaultsAreTyped(schema) && defaultsStayOutOfCompositeRules(schema);
  // ajv's generated code is sloppy-mode today, so a write into a frozen node is ignored;
  // if a future ajv emitted strict code, the write would throw a TypeError instead. Either
  // way the shortcut's answer is not used and the full-copy validation below decides.
  const checkShared = (data: unknown): boolean => {
    try {
      return check(data);
    } catch (error) {
      if (error instanceof TypeError) return false;
      throw error;
    }
  };
  return (candidate, live) => {
    if (sharesChecked) {
      // First try: copy only what is not already a snapshot's node. A recipe's candidate
      // shares every unchanged subtree with the live config; a freshly parsed file shares
      // none, so every subtree of it that equals the live config's at the same place (same
      // members in the same order) is replaced by the live node (shareJson): the data
      // ajv sees is equal to a full copy, with the same member order. Those nodes passed
      // this validation with their defaults applied; if ajv still wants to write a default
      // into one (the subtree moved, or its context changed, so that other defaults apply),
      // the write is refused (frozen), the property stays undefined and its `type` check
      // fails: we never accept that result, but redo the validation on a full copy below,
      // which gives the same result (or the same errors) as if this try had not happened.
      // When no write is refused, ajv read and wrote exactly what it would on a full copy.
      const data = shareJson(candidate, live);
      if (checkShared(data)) return data;
    }
    // Always a copy (sharing only snapshot nodes): the value checked is the value kept, and
    // the caller's object is read once, so a getter cannot show ajv one value and the
    // snapshot another.
    const data = writes ? copyJson(candidate) : shareJson(candidate, live);
    if (check(data)) return data;
    throw new ValidationError((check.errors ?? []).map(ajvIssue));
  };
}

/**
 * True when every subschema with a `default` also has a `type`, which `undefined` never
 * satisfies: then a default ajv could not write (into a frozen node) always makes the
 * validation fail, and is never silently missing. Our own ajv only (no coercion, no
 * `removeAdditional`, no custom keywords that could write into the data).
 */
function defaultsAreTyped(schema: unknown): boolean {
  if (schema === null || typeof schema !== 'object') return true;
  if (Array.isArray(schema)) return schema.every(defaultsAreTyped);
  if ('default' in schema && !('type' in schema)) return false;
  return Object.values(schema).every(defaultsAreTyped);
}

// Keywords whose subschemas ajv evaluates with `compositeRule` (their failures may be
// discarded: another branch passes, `not` inverts, `if` picks `else`), and keywords that call
// a separately compiled schema, whose code does not know its caller's `compositeRule`.
const COMPOSITE_KEYWORDS = ['anyOf', 'oneOf', 'not', 'if', 'contains', 'propertyNames'];
const REF_KEYWORDS = ['$ref', '$dynamicRef', '$recursiveRef'];

/**
 * True when no `default` can be applied where a failure is discarded. ajv applies no
 * default inside its composite keywords (strict mode refuses to compile one), but a
 * subschema reached through a reference that ajv does not inline is compiled on its own
 * and applies its defaults wherever it is called from, a branch of `anyOf` included: a
 * default refused by a frozen node would then fail only that branch, and another branch
 * could accept the node without the default. With no reference, or no composite keyword,
 * in the schema that cannot happen. (Conservative: a property merely named like a keyword
 * also turns the shortcut off.)
 */
function defaultsStayOutOfCompositeRules(schema: unknown): boolean {
  return !(REF_KEYWORDS.some((keyword) => hasKeyword(schema, keyword)) && COMPOSITE_KEYWORDS.some((keyword) => hasKeyword(schema, keyword)));
}

function ajvIssue(error: ErrorObject): ValidationIssue {
  const params = error.params as Record<string, unknown>;
  let path = error.instancePath;
  const child = params.missingProperty ?? params.additionalProperty ?? params.unevaluatedProperty;
  if (typeof child === 'string') path += toPointer([child]);
  return { path, message: error.message ?? error.keyword, keyword: error.keyword };
}

function standardValidator(schema: StandardSchemaV1): (candidate: unknown) => Promise<unknown> {
  return async (candidate) => {
    // Validated on our own copy, read once: the value kept is the value checked.
    const result = await schema['~standard'].validate(copyJson(candidate));
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

function hasKeyword(schema: unknown, keyword: string): boolean {
  if (schema === null || typeof schema !== 'object') return false;
  if (Array.isArray(schema)) return schema.some((item) => hasKeyword(item, keyword));
  return Object.entries(schema).some(([key, value]) => key === keyword || hasKeyword(value, keyword));
}
