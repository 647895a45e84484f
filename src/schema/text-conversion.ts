/**
 * Text values (environment variables, flags) converted by the JSON Schema's type at
 * their path: `'9090'` becomes 9090 where the schema wants an integer. The schema is
 * read as written: `properties`, `patternProperties`, `additionalProperties`, `items`,
 * `prefixItems`, `allOf`/`anyOf`/`oneOf`, local `$ref`s; `type`, `enum` and `const` say
 * which types a path takes.
 */
import { ValidationError, type ValidationIssue } from '../errors.js';
import { UNSAFE_KEYS, isPlainObject } from '../json/plain-object.js';
import { replacePaths, type PathReplacement } from '../json/replace-paths.js';
import { parsePointer } from '../json/json-pointer.js';
import type { Origins } from '../origin.js';
import type { JsonSchema } from './schema-types.js';

/** What the schema says of one path: the types it takes, or that it does not declare it. */
export type PathTypes =
  /**
   * Declared, taking these JSON types (`integer` included; `any` when nothing constrains
   * it), and these exact strings (from `const` and `enum`, which alone do not make the
   * path a string: `anyOf: [{ type: 'integer' }, { const: 'auto' }]` takes `4` and `'auto'`).
   */
  | { readonly declared: true; readonly types: ReadonlySet<string> | 'any'; readonly literals: ReadonlySet<string> }
  /** Not declared by the schema (an open object's unknown member, or a member it forbids). */
  | { readonly declared: false };

/** Converts the text values of a candidate; the candidate itself is never changed. */
export type TextConversion = (candidate: unknown, origins: Origins) => unknown;

/**
 * The conversion for `schema`: each text leaf (a pointer of `origins.texts`) converted by
 * the types its path takes. A text that converts to none of them, and a flag whose path
 * the schema does not declare, are validation issues naming the variable or flag.
 * Text under a path the schema says is a string stays text.
 */
export function compileTextConversion(schema: JsonSchema): TextConversion {
  const typesAt = (keys: readonly string[]): PathTypes => pathTypes(schema, keys);
  return (candidate, origins) => {
    const texts = origins.texts ?? [];
    if (texts.length === 0) return candidate;
    const converted: PathReplacement[] = [];
    const issues: ValidationIssue[] = [];
    for (const pointer of texts) {
      const keys = parsePointer(pointer);
      if (keys === undefined) continue;
      const text = leafAt(candidate, keys);
      if (typeof text !== 'string') continue;
      const origin = origins.explain(pointer)?.origin ?? {};
      const input = origin.flag ?? origin.env ?? pointer;
      const types = typesAt(keys);
      if (!types.declared) {
        if (origin.flag !== undefined) issues.push({ path: pointer, message: `unknown flag ${origin.flag}: the schema has no setting ${pointer}`, keyword: 'additionalProperties' });
        continue;
      }
      const result = convertText(text, types.types, types.literals);
      // A text that stays text needs no copy of its path.
      if (result.ok) {
        if (result.value !== text) converted.push({ keys, value: result.value });
      } else issues.push({ path: pointer, message: `${input}=${JSON.stringify(text)} is not ${describeTypes(types.types)}`, keyword: 'type' });
    }
    if (issues.length > 0) throw new ValidationError(issues);
    return converted.length === 0 ? candidate : replacePaths(candidate, converted);
  };
}

/** The types the schema gives the path `keys`, following every branch that can apply. */
export function pathTypes(root: JsonSchema, keys: readonly string[]): PathTypes {
  let schemas = expand(root, root, 0);
  for (const key of keys) {
    const next: JsonSchema[] = [];
    for (const schema of schemas) next.push(...childSchemas(schema, key));
    if (next.length === 0) return { declared: false };
    schemas = next.flatMap((schema) => expand(schema, root, 0));
  }
  const literals = new Set<string>();
  return { declared: true, types: typesOf(schemas, literals), literals };
}

const MAX_REF_DEPTH = 32;

/** A schema and the ones it composes (`allOf`, `anyOf`, `oneOf`, `$ref`): each may apply. */
function expand(schema: JsonSchema, root: JsonSchema, depth: number): JsonSchema[] {
  if (typeof schema === 'boolean' || depth > MAX_REF_DEPTH) return [schema];
  const out: JsonSchema[] = [schema];
  for (const keyword of ['allOf', 'anyOf', 'oneOf'] as const) {
    const members = (schema as Record<string, unknown>)[keyword];
    if (Array.isArray(members)) for (const member of members) out.push(...expand(member as JsonSchema, root, depth + 1));
  }
  const ref = (schema as Record<string, unknown>).$ref;
  if (typeof ref === 'string' && ref.startsWith('#')) {
    const target = resolveRef(root, ref.slice(1));
    if (target !== undefined) out.push(...expand(target, root, depth + 1));
  }
  return out;
}

/**
 * The subschema a local `$ref` fragment names: a JSON Pointer (percent-decoded, as a URI
 * fragment is), or a plain name (`$anchor`, or an `$id` of `#name`). `undefined` when it
 * names nothing: the path then says no type.
 */
function resolveRef(root: JsonSchema, fragment: string): JsonSchema | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(fragment);
  } catch {
    // Not a valid percent-encoding: ajv compiled the schema, so this ref is never used.
    return undefined;
  }
  if (decoded !== '' && !decoded.startsWith('/')) return findAnchor(root, decoded, 0);
  const keys = parsePointer(decoded);
  if (keys === undefined) return undefined;
  let node: unknown = root;
  for (const key of keys) {
    if (!isPlainObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === 'boolean' || isPlainObject(node) ? node : undefined;
}

/** The schema whose `$anchor` is `name` (or whose `$id` is `#name`), searched depth first. */
function findAnchor(node: unknown, name: string, depth: number): JsonSchema | undefined {
  if (depth > MAX_ANCHOR_DEPTH || (typeof node !== 'object' || node === null)) return undefined;
  if (isPlainObject(node) && (node.$anchor === name || node.$id === `#${name}`)) return node;
  for (const child of Array.isArray(node) ? node : Object.values(node)) {
    const found = findAnchor(child, name, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

const MAX_ANCHOR_DEPTH = 64;

/** The schemas that apply to member `key` under `schema`; none when it does not declare it. */
function childSchemas(schema: JsonSchema, key: string): JsonSchema[] {
  if (schema === true) return [true];
  if (schema === false) return [];
  const s = schema as Record<string, unknown>;
  const out: JsonSchema[] = [];
  const index = /^(?:0|[1-9]\d*)$/.test(key) ? Number(key) : -1;
  if (index >= 0) {
    const prefix = s.prefixItems;
    if (Array.isArray(prefix) && index < prefix.length) out.push(prefix[index] as JsonSchema);
    else if (s.items !== undefined && !Array.isArray(s.items)) out.push(s.items as JsonSchema);
    else if (Array.isArray(s.items) && index < s.items.length) out.push(s.items[index] as JsonSchema);
  }
  const properties = s.properties;
  if (isPlainObject(properties) && Object.hasOwn(properties, key)) out.push(properties[key] as JsonSchema);
  const patterns = s.patternProperties;
  if (isPlainObject(patterns)) {
    for (const [pattern, member] of Object.entries(patterns)) if (safeTest(pattern, key)) out.push(member as JsonSchema);
  }
  if (out.length === 0 && s.additionalProperties !== undefined && s.additionalProperties !== false) out.push(s.additionalProperties as JsonSchema);
  return out;
}

function safeTest(pattern: string, key: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(key);
  } catch {
    // A pattern ajv compiled is valid; one it did not (a branch never used) cannot match here.
    return false;
  }
}

/**
 * The union of the types the schemas take; `any` when none of them says. The strings of
 * `const` and `enum` go to `literals`, not to the types: they are values, not the type.
 */
function typesOf(schemas: readonly JsonSchema[], literals: Set<string>): ReadonlySet<string> | 'any' {
  const types = new Set<string>();
  let constrained = false;
  const addValue = (value: unknown): void => {
    if (typeof value === 'string') literals.add(value);
    else types.add(jsonType(value));
  };
  for (const schema of schemas) {
    if (typeof schema === 'boolean') continue;
    const s = schema as Record<string, unknown>;
    if (typeof s.type === 'string') {
      types.add(s.type);
      constrained = true;
    } else if (Array.isArray(s.type)) {
      for (const type of s.type) types.add(String(type));
      constrained = true;
    } else if (Object.hasOwn(s, 'const')) {
      addValue(s.const);
      constrained = true;
    } else if (Array.isArray(s.enum)) {
      for (const value of s.enum) addValue(value);
      constrained = true;
    }
  }
  return constrained ? types : 'any';
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

type Converted = { readonly ok: true; readonly value: unknown } | { readonly ok: false };

/**
 * `text` as the first of `types` it is: a string stays text where the schema takes a
 * string (or says nothing), or names it among its exact strings (`literals`); otherwise
 * integer, number, boolean (`true`/`false`, `1`/`0`), null (`null`), object and array
 * (JSON text, unsafe keys refused) are tried in that order. A text that is none of them
 * stays text when the schema has exact strings: validation then names the ones it takes.
 */
export function convertText(text: string, types: ReadonlySet<string> | 'any', literals: ReadonlySet<string> = new Set()): Converted {
  if (types === 'any' || types.has('string') || literals.has(text)) return { ok: true, value: text };
  const trimmed = text.trim();
  if ((types.has('integer') || types.has('number')) && /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$/.test(trimmed)) {
    const value = Number(trimmed);
    if (Number.isFinite(value) && (types.has('number') || Number.isSafeInteger(value))) return { ok: true, value };
  }
  if (types.has('boolean')) {
    const lower = trimmed.toLowerCase();
    if (lower === 'true' || lower === '1') return { ok: true, value: true };
    if (lower === 'false' || lower === '0') return { ok: true, value: false };
  }
  if (types.has('null') && trimmed === 'null') return { ok: true, value: null };
  if (types.has('object') || types.has('array')) {
    const value = parseJsonText(trimmed);
    if (value !== undefined && ((types.has('object') && isPlainObject(value)) || (types.has('array') && Array.isArray(value)))) return { ok: true, value };
  }
  return literals.size > 0 ? { ok: true, value: text } : { ok: false };
}

/** JSON text as a value, or `undefined` when it is not JSON or holds an unsafe key. */
function parseJsonText(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON: the caller reports that the text is not of the schema's type.
    return undefined;
  }
  return hasUnsafeKey(value) ? undefined : value;
}

function hasUnsafeKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasUnsafeKey);
  if (!isPlainObject(value)) return false;
  return Object.keys(value).some((key) => UNSAFE_KEYS.has(key) || hasUnsafeKey(value[key]));
}

function describeTypes(types: ReadonlySet<string> | 'any'): string {
  const names = types === 'any' ? [] : [...types].map((type) => (type === 'integer' ? 'an integer' : type === 'array' || type === 'object' ? `an ${type} (as JSON)` : `a ${type}`));
  return names.join(' or ') || 'of the schema type';
}

function leafAt(value: unknown, keys: readonly string[]): unknown {
  let node = value;
  for (const key of keys) {
    if (!isPlainObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}
