/**
 * Validation that costs what changed. A reload that changes a few members of a large
 * config need not validate the whole config: the live config was valid, and where the
 * schema of a node is the conjunction of checks of its members (`properties`,
 * `additionalProperties`, `patternProperties`, `items`, `additionalItems`) the node stays valid when its
 * changed members are valid and its own key-set checks (`required`, `additionalProperties:
 * false`) still pass. {@link compileChangeCheck} follows each changed path down the
 * schema that way and validates only the changed subtrees, with ajv's validators of
 * the subschemas at those places. Where a node's schema has a keyword that spans its
 * members (`uniqueItems`, `dependentRequired`, `if`/`then`, `anyOf`, `minProperties`,
 * a non-local `$ref`…), it validates that node whole instead: the smallest enclosing
 * subtree, never more than needed.
 *
 * It only ever answers "valid" or "cannot tell": an invalid change, or a refused default,
 * makes the caller validate the whole config, which then decides and names every issue.
 */
import type { Ajv, ValidateFunction } from 'ajv';
import { log } from '../internal/debug.js';
import { escapeKey } from '../json/json-pointer.js';
import { isPlainObject } from '../json/plain-object.js';
import type { JsonSchema } from './schema-types.js';

/** A path of keys from the root of the config to a changed member. */
export type ChangePath = readonly (string | number)[];

/**
 * Checks `data` (a candidate equal to the live config, which was valid, everywhere but at
 * `paths`) against the schema. When it is valid, as a whole validation would have found,
 * with the same defaults applied: the paths of the nodes it validated (the only places
 * where a default may have been written). `undefined`: this check cannot tell; validate
 * the whole, `data` included: the check has then taken back every default it wrote.
 */
export type ChangeCheck = (data: unknown, paths: readonly ChangePath[]) => readonly ChangePath[] | undefined;

/**
 * Keywords of an object or array schema that a changed member cannot affect beyond its
 * own subschema, as long as the node's key set (or length) stays the same. Anything else
 * makes the node "whole": it is validated as one.
 */
const MEMBERWISE = new Set([
  'type',
  'properties',
  'patternProperties',
  'additionalProperties',
  'required',
  'items',
  'additionalItems',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  // Annotations: no effect on validity.
  'title',
  'description',
  '$comment',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  'default',
  '$defs',
  'definitions',
  '$schema',
]);

/** More changed paths than this: the whole config is validated (one pass beats many). */
const MAX_PATHS = 256;

/**
 * Compiles the change check of `schema`, whose validators `engine` (our own ajv
 * instance, where the schema is registered under `key`) gives by JSON Pointer.
 */
export function compileChangeCheck(schema: JsonSchema, engine: Ajv, key: string, writesDefaults: boolean): ChangeCheck {
  const validators = new Map<string, ValidateFunction | undefined>();
  const validatorAt = (pointer: string): ValidateFunction | undefined => {
    let check = validators.get(pointer);
    if (check === undefined && !validators.has(pointer)) {
      try {
        check = engine.getSchema(`${key}#${pointer}`);
      } catch (error) {
        // ajv cannot compile that subschema on its own (a reference it cannot resolve
        // from there): no shortcut at that place, the whole validation runs instead.
        log.transaction('no validator for the subschema at %s: %O', pointer, error);
      }
      validators.set(pointer, check);
    }
    return check;
  };
  return (data, paths) => {
    if (paths.length > MAX_PATHS) return undefined;
    const validated: ChangePath[] = [];
    // With defaults: the shape of every node validated, to take back what ajv added
    // when a later path cannot tell.
    const shapes: Shape[] | undefined = writesDefaults ? [] : undefined;
    for (const path of paths) {
      const at = checkPath(schema, data, path, (node, pointer) => {
        if (shapes !== undefined) recordShapes(node, shapes);
        return validateWhole(node, pointer, validatorAt);
      }, writesDefaults);
      if (at === false) {
        if (shapes !== undefined) restoreShapes(shapes);
        return undefined;
      }
      if (at !== true) validated.push(at);
    }
    return validated;
  };
}

/**
 * Follows one changed path down the schema and the data. When the change is valid: the
 * path of the node validated whole, or `true` when no validation was needed (a member
 * removed, a schema of `true`). `false`: cannot tell.
 */
function checkPath(root: JsonSchema, data: unknown, path: ChangePath, validate: (node: unknown, pointer: string) => boolean, writesDefaults: boolean): ChangePath | boolean {
  // A node above the change holds nodes that are not the caller's to write into (the live
  // config's, frozen, and copies immer made): with defaults, ajv could write into the
  // copies, and a failed check would leave them changed for the whole validation.
  const whole = (node: unknown, pointer: string, depth: number): ChangePath | false =>
    (depth === path.length || !writesDefaults) && validate(node, pointer) && path.slice(0, depth);
  let schema: unknown = root;
  let pointer = '';
  let node = data;
  for (let depth = 0; ; depth++) {
    const resolved = resolveRefs(root, schema, pointer);
    if (resolved === undefined) return whole(node, pointer, depth);
    [schema, pointer] = resolved;
    if (schema === true) return true;
    // The changed member itself (or a node whose schema is not memberwise): validate it whole.
    if (depth === path.length || !isMemberwise(schema)) return whole(node, pointer, depth);
    const key = path[depth] as string | number;
    const step = childSchema(schema as Record<string, unknown>, node, key, depth === path.length - 1);
    if (step === undefined) return whole(node, pointer, depth);
    // Own members only: `__proto__` as a key names a member, never Object.prototype.
    const child = Object.hasOwn(node as object, key) ? (node as Record<string | number, unknown>)[key] : undefined;
    // A member removed: the key-set checks above passed, and nothing else depends on it;
    // unless Object.prototype has a member of that name (`constructor`, `toString`), which
    // ajv then reads in its place: the parent is validated as ajv validates it.
    if (child === undefined) return typeof key === 'string' && key in Object.prototype ? whole(node, pointer, depth) : true;
    schema = step.schema;
    pointer = `${pointer}/${step.pointer}`;
    node = child;
  }
}

/** The members of a mutable object, or the length of a mutable array, before a validation. */
type Shape = { readonly object: Record<string, unknown>; readonly keys: ReadonlySet<string> } | { readonly array: unknown[]; readonly length: number };

/** Records the shape of every mutable object and array of `node` (frozen ones cannot take a default). */
function recordShapes(node: unknown, shapes: Shape[]): void {
  if (node === null || typeof node !== 'object' || Object.isFrozen(node)) return;
  if (Array.isArray(node)) shapes.push({ array: node, length: node.length });
  else shapes.push({ object: node as Record<string, unknown>, keys: new Set(Object.keys(node)) });
  for (const item of Object.values(node)) recordShapes(item, shapes);
}

/** Takes back what validations added to the nodes recorded (ajv's defaults only add members). */
function restoreShapes(shapes: readonly Shape[]): void {
  for (const shape of shapes) {
    if ('array' in shape) shape.array.length = shape.length;
    else for (const key of Object.keys(shape.object)) if (!shape.keys.has(key)) Reflect.deleteProperty(shape.object, key);
  }
}

/** Validates `node` whole against the subschema at `pointer`. */
function validateWhole(node: unknown, pointer: string, validatorAt: (pointer: string) => ValidateFunction | undefined): boolean {
  const check = validatorAt(pointer);
  if (check === undefined) return false;
  try {
    return check(node);
  } catch (error) {
    // A default refused by a frozen node of the live config, in strict-mode code: the
    // whole validation decides (see shared-node-validation.ts).
    if (error instanceof TypeError) return false;
    throw error;
  }
}

/**
 * Follows `$ref`s to local JSON Pointers while the schema is nothing but the reference
 * (and annotations). `undefined` when a reference goes elsewhere or a schema is not an
 * object or a boolean: the node is then validated whole.
 */
function resolveRefs(root: JsonSchema, schema: unknown, pointer: string): [unknown, string] | undefined {
  for (let hops = 0; hops < 32; hops++) {
    if (typeof schema === 'boolean') return [schema, pointer];
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return undefined;
    const ref = (schema as { $ref?: unknown }).$ref;
    if (ref === undefined) return [schema, pointer];
    if (typeof ref !== 'string' || !ref.startsWith('#') || Object.keys(schema).some((keyword) => keyword !== '$ref' && !ANNOTATIONS.has(keyword))) return undefined;
    const target = atPointer(root, ref.slice(1));
    if (target === undefined) return undefined;
    [schema, pointer] = [target, ref.slice(1)];
  }
  return undefined;
}

const ANNOTATIONS = new Set(['title', 'description', '$comment', 'examples', 'deprecated', 'readOnly', 'writeOnly']);

/** The subschema at a JSON Pointer (as written in a URI fragment) of `root`, or `undefined`. */
function atPointer(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  if (!pointer.startsWith('/')) return undefined;
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    } catch {
      return undefined;
    }
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, segment)) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/** True when every keyword of an object schema is one a change of a member cannot reach past. */
function isMemberwise(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return false;
  for (const keyword of Object.keys(schema)) if (!MEMBERWISE.has(keyword)) return false;
  return true;
}

/**
 * The one subschema that applies to member `key` of `node` under a memberwise `schema`,
 * with its pointer segment(s), when the node's own checks are known to still pass.
 * `undefined` when the node must be validated whole: more than one subschema applies,
 * or the member's key may have been added or removed (`last`: it is the changed one)
 * and a key-set check could be affected.
 */
function childSchema(schema: Record<string, unknown>, node: unknown, key: string | number, last: boolean): { schema: unknown; pointer: string } | undefined {
  if (Array.isArray(node)) {
    // Changes of an array's length are whole replacements of the array (its path ends
    // above), so a changed item keeps its index: `minItems`, `maxItems` still hold.
    if (typeof key !== 'number') return undefined;
    const items = 'items' in schema ? schema.items : true;
    if (!Array.isArray(items)) return { schema: items, pointer: 'items' };
    // A tuple (draft-07 `items` as an array): its own subschema, then `additionalItems`.
    if (key < items.length) return { schema: items[key] as unknown, pointer: `items/${key}` };
    return { schema: 'additionalItems' in schema ? schema.additionalItems : true, pointer: 'additionalItems' };
  }
  if (!isPlainObject(node) || typeof key !== 'string') return undefined;
  // The key set may have changed at the last step (a member added or removed): checks of
  // the key set, or a default that would come back, need the whole node.
  if (last && ('minProperties' in schema || 'maxProperties' in schema || (Array.isArray(schema.required) && schema.required.includes(key)) || hasDefault(schema.properties, key))) return undefined;
  const properties = schema.properties as Record<string, unknown> | undefined;
  const patterns = schema.patternProperties as Record<string, unknown> | undefined;
  const matched: { schema: unknown; pointer: string }[] = [];
  if (properties !== undefined && Object.hasOwn(properties, key)) matched.push({ schema: properties[key], pointer: `properties/${segment(key)}` });
  if (patterns !== undefined) {
    for (const pattern of Object.keys(patterns)) if (new RegExp(pattern, 'u').test(key)) matched.push({ schema: patterns[pattern], pointer: `patternProperties/${segment(pattern)}` });
  }
  if (matched.length === 0) {
    const additional = 'additionalProperties' in schema ? schema.additionalProperties : true;
    // `additionalProperties: false` and a key it does not allow: invalid, let the whole decide.
    if (additional === false) return undefined;
    matched.push({ schema: additional, pointer: 'additionalProperties' });
  }
  return matched.length === 1 ? matched[0] : undefined;
}

/** True when the property schema of `key` has a default (removing the member would bring it back). */
function hasDefault(properties: unknown, key: string): boolean {
  if (properties === null || typeof properties !== 'object' || !Object.hasOwn(properties, key)) return false;
  const property = (properties as Record<string, unknown>)[key];
  return typeof property === 'object' && property !== null && 'default' in property;
}

/** A key as one segment of a JSON Pointer in a URI fragment. */
function segment(key: string): string {
  return encodeURIComponent(escapeKey(key));
}
