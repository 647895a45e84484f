/**
 * The validator's shared-node shortcut. ajv writes defaults into the data it checks, so a
 * JSON Schema validator checks a private mutable copy of the candidate. Copying a large
 * config on every reload costs more than everything else a reload does, and most of it
 * is the live config again: a recipe's candidate is made of the live config's nodes, a
 * re-read file equals it almost everywhere. The shortcut lets ajv check data that shares
 * the live config's (frozen, checked) nodes wherever the candidate equals them, and
 * copies only the rest (`shareJson`). That data is equal to a full copy, member order
 * included, so ajv reads exactly what it would read on the copy. The one thing that can
 * differ is a write: ajv cannot write a default into a frozen node. {@link canShareNodes}
 * decides, once per schema, whether every such refused write is guaranteed to fail the
 * validation; if so, a passing validation of the shared data wrote nothing into a
 * shared node and its result is the full copy's, and a failing one is simply redone on a
 * full copy ({@link validateSharingNodes}), which then decides.
 */
import type { ValidateFunction } from 'ajv';
import { shareJson } from '../json/share-json.js';
import type { JsonSchema } from './schema-types.js';

/**
 * The switch: true when a schema's validation may run on data that shares the live
 * config's nodes. Computed once per schema, when it is compiled. Every condition below
 * is needed; each one names the way sharing would otherwise give a result a full copy
 * does not give.
 *
 * 1. Our own ajv instance (`ownAjv`). A caller's may coerce types, remove members or run
 *    custom keywords that write into the data; a refused coercion leaves the old value in
 *    place and nothing fails.
 * 2. A synchronous schema: an `$async` one (ajv makes a schema async by `$async: true` at
 *    its root) answers with a promise, which the shortcut's try does not wait for; it is
 *    validated on a full copy.
 * 3. No `default` in the schema: then nothing writes into the data at all, and sharing is
 *    always safe. Otherwise, both of:
 * 4. Every subschema with a `default` also has a `type`, which `undefined` never
 *    satisfies. ajv applies a property's schema right after writing its default (with
 *    `useDefaults` it does not skip a property that has one), so a default refused by a
 *    frozen node leaves the property `undefined` and fails its `type` check. (A default
 *    of a tuple item is covered too: strict mode requires `minItems` equal to the tuple's
 *    length, so a frozen array too short for the default fails `minItems`.)
 * 5. Not both a reference (`$ref`, `$dynamicRef`, `$recursiveRef`) and a composite
 *    keyword (`anyOf`, `oneOf`, `not`, `if`, `contains`, `propertyNames`). ajv applies no
 *    default where a failure may be discarded (inside a composite keyword; strict mode
 *    refuses to compile one there), except through a reference it compiles on its own: the
 *    referenced schema then applies its defaults wherever it is called from, a branch of
 *    `anyOf` included, where the refused default fails that branch only and another branch
 *    may accept the node without it. With no reference, or no composite keyword, that
 *    cannot happen.
 *
 * Conservative by construction: a property merely named like a keyword (`default`,
 * `$ref`) counts as the keyword, and turns the shortcut off or demands a `type`.
 */
export function canShareNodes(schema: JsonSchema, ownAjv: boolean): boolean {
  if (!ownAjv || (typeof schema === 'object' && Boolean(schema.$async))) return false;
  if (!schemaWritesDefaults(schema)) return true;
  return defaultsAreTyped(schema) && !(REF_KEYWORDS.some((keyword) => hasKeyword(schema, keyword)) && COMPOSITE_KEYWORDS.some((keyword) => hasKeyword(schema, keyword)));
}

/** True when a schema has a `default` anywhere: validating may then write into the data. */
export function schemaWritesDefaults(schema: JsonSchema): boolean {
  return hasKeyword(schema, 'default');
}

/**
 * The shortcut's try: validates `candidate` on data that shares the nodes of `live` (the
 * live config, checked JSON data; anything else shares nothing) and of any snapshot.
 * Returns that data, validated, when it passed: it is then what a full copy would have
 * given. Returns `undefined` when it did not pass, for whatever reason (the candidate is
 * invalid, or a default was refused by a shared node): the caller then validates a full
 * copy, which decides, with its errors. Only for a schema {@link canShareNodes} allows.
 * @throws {ValidationError} `ERR_VALIDATION` when `candidate` is not JSON data (as copyJson would)
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY` for an own key `__proto__`, `constructor` or `prototype` (as copyJson would), named by `input`
 */
export function validateSharingNodes(check: ValidateFunction, candidate: unknown, live: unknown, input?: string): unknown {
  const data = shareJson(candidate, live, input === undefined ? {} : { input });
  try {
    return check(data) ? data : undefined;
  } catch (error) {
    // ajv's generated code is sloppy-mode today, so a write into a frozen node is
    // ignored; code in strict mode would throw a TypeError instead. Either way this try's
    // answer is not used and the full copy decides.
    if (error instanceof TypeError) return undefined;
    throw error;
  }
}

// Keywords whose subschemas ajv evaluates with `compositeRule` (their failures may be
// discarded: another branch passes, `not` inverts, `if` picks `else`), and keywords that call
// a separately compiled schema, whose code does not know its caller's `compositeRule`.
const COMPOSITE_KEYWORDS = ['anyOf', 'oneOf', 'not', 'if', 'contains', 'propertyNames'];
const REF_KEYWORDS = ['$ref', '$dynamicRef', '$recursiveRef'];

/** True when every subschema (or anything that looks like one) with a `default` also has a `type`. */
function defaultsAreTyped(schema: unknown): boolean {
  if (schema === null || typeof schema !== 'object') return true;
  if (Array.isArray(schema)) return schema.every(defaultsAreTyped);
  if ('default' in schema && !('type' in schema)) return false;
  return Object.values(schema).every(defaultsAreTyped);
}

/** True when `keyword` is a key anywhere in `schema`. */
function hasKeyword(schema: unknown, keyword: string): boolean {
  if (schema === null || typeof schema !== 'object') return false;
  if (Array.isArray(schema)) return schema.some((item) => hasKeyword(item, keyword));
  return Object.entries(schema).some(([key, value]) => key === keyword || hasKeyword(value, keyword));
}
