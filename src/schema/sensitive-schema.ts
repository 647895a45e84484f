/**
 * The sensitive nodes a schema declares (DESIGN.md §5.3): every JSON Schema node with
 * `writeOnly: true` or `"x-sensitive": true`, as the states of a path automaton that
 * SensitivePaths compiles. A recursive schema (a `$ref` cycle) becomes a cycle of states,
 * so every depth of it is covered and the walk still ends: each schema node is one state.
 */
import { parsePointer } from '../json/json-pointer.js';
import { isPlainObject } from '../json/plain-object.js';

/** The annotation keyword that marks a schema node sensitive, beside the standard `writeOnly`. */
export const SENSITIVE_KEYWORD = 'x-sensitive';

/**
 * One state of the path automaton while it is built: reaching it with the keys of a
 * pointer means the pointer may be at the node it stands for.
 */
export interface PathState {
  /** The node and its whole subtree are sensitive; such a state needs no transitions. */
  sensitive: boolean;
  /** The next states by exact key (`properties`, `prefixItems`, an option's literal key). */
  readonly members: Map<string, PathState[]>;
  /** The next states of the keys a rule matches (`*`, `patternProperties`, `additionalProperties`, `items`). */
  readonly rules: KeyRule[];
  /** States that apply to the same value (`allOf`, `anyOf`, `oneOf`, `$ref`, `if`/`then`/`else`, `dependentSchemas`). */
  readonly same: PathState[];
}

/** A transition on every key that `matches` accepts. */
export interface KeyRule {
  /** True for the keys the rule applies to. */
  readonly matches: (key: string) => boolean;
  /** The state those keys lead to. */
  readonly to: PathState;
}

/** A state with no transitions, not sensitive. */
export function newState(): PathState {
  return { sensitive: false, members: new Map(), rules: [], same: [] };
}

/** Any key at all: `*`, `contains`, and a pattern that does not compile. */
export const ANY_KEY = (): boolean => true;

/**
 * The states of the sensitive nodes of `schema`, from its start: a JSON Schema as it is,
 * a Standard Schema through the JSON Schema it offers (`~standard.jsonSchema`, the
 * Standard JSON Schema interface zod 4 implements), its input and its output schemas
 * both. `undefined` when the schema cannot say (a boolean schema, a Standard Schema that
 * offers no JSON Schema or whose conversion throws).
 */
export function schemaStart(schema: unknown): PathState | undefined {
  const documents = isPlainObject(schema) && !hasStandardProps(schema) ? [schema] : offeredJsonSchemas(schema);
  if (documents.length === 0) return undefined;
  const start = newState();
  for (const document of documents) {
    const state = new SchemaWalk(document).stateOf(document);
    if (state !== undefined) start.same.push(state);
  }
  return start;
}

function hasStandardProps(schema: Record<string, unknown>): boolean {
  return typeof schema['~standard'] === 'object' && schema['~standard'] !== null;
}

/** The converter of the Standard JSON Schema interface, as `~standard.jsonSchema` offers it. */
interface JsonSchemaConverter {
  readonly input?: unknown;
  readonly output?: unknown;
}

/**
 * The JSON Schemas a Standard Schema offers: input and output, draft 2020-12 or else
 * draft-07. A conversion that throws (a type JSON Schema cannot express, a target the
 * library does not support) gives nothing; zod is asked to write such a type as `{}`
 * instead (its `unrepresentable: 'any'`), so that the rest of the schema still counts.
 */
function offeredJsonSchemas(schema: unknown): Record<string, unknown>[] {
  if ((typeof schema !== 'object' && typeof schema !== 'function') || schema === null) return [];
  const props = (schema as { readonly '~standard'?: { readonly vendor?: unknown; readonly jsonSchema?: unknown } })['~standard'];
  const converter = props?.jsonSchema;
  if (typeof converter !== 'object' || converter === null) return [];
  const libraryOptions = props?.vendor === 'zod' ? { libraryOptions: { unrepresentable: 'any' } } : {};
  const documents: Record<string, unknown>[] = [];
  for (const direction of ['input', 'output'] as const) {
    const convert = (converter as JsonSchemaConverter)[direction];
    if (typeof convert !== 'function') continue;
    for (const target of ['draft-2020-12', 'draft-07']) {
      try {
        const document: unknown = convert.call(converter, { target, ...libraryOptions });
        if (isPlainObject(document)) {
          documents.push(document);
          break;
        }
      } catch {
        // This target or direction cannot be converted: the next one may; none at all
        // leaves the `sensitive` option as the only source (docs/secrets.md).
      }
    }
  }
  return documents;
}

const IN_PLACE_LISTS = ['allOf', 'anyOf', 'oneOf'] as const;
const IN_PLACE_SCHEMAS = ['if', 'then', 'else'] as const;
const MAX_ANCHOR_DEPTH = 64;

/** The base URI of a schema without an `$id` of its own (ajv's default is the empty URI). */
const ROOT_BASE = 'txconfig:/schema';

/** `ref` resolved against `base`, without an empty fragment; `undefined` when it is no URI. */
function absolute(ref: string, base: string): string | undefined {
  try {
    const url = new URL(ref, base);
    const text = url.href;
    return text.endsWith('#') ? text.slice(0, -1) : text;
  } catch {
    // Not a URI reference: it names nothing here.
    return undefined;
  }
}

/** One JSON Schema document walked into states; `$ref`s resolved against it. */
class SchemaWalk {
  readonly #root: Record<string, unknown>;
  // Each schema node is one state, made before its children: a `$ref` cycle closes on it.
  readonly #states = new Map<object, PathState>();

  // The base URI of each schema node (from the `$id`s above it, as ajv resolves them),
  // and the nodes every absolute URI names: documents by `$id`, anchors by `uri#name`.
  readonly #bases = new WeakMap<object, string>();
  readonly #named = new Map<string, Record<string, unknown>>();

  constructor(root: Record<string, unknown>) {
    this.#root = root;
    this.#index(root, ROOT_BASE, 0);
  }

  /** Records the base URI of every node under `node`, and what each `$id` and anchor names. */
  #index(node: unknown, base: string, depth: number): void {
    if (depth > MAX_ANCHOR_DEPTH || typeof node !== 'object' || node === null) return;
    let here = base;
    if (isPlainObject(node)) {
      if (typeof node.$id === 'string') {
        const id = absolute(node.$id, base);
        if (id !== undefined) {
          const [document = '', fragment] = id.split('#', 2);
          here = document;
          // A draft-07 plain-name `$id` ('#name') is an anchor of its document.
          this.#named.set(fragment === undefined || fragment === '' ? document : `${document}#${fragment}`, node);
        }
      }
      this.#bases.set(node, here);
      for (const keyword of ['$anchor', '$dynamicAnchor'] as const) {
        const anchor = node[keyword];
        if (typeof anchor === 'string') this.#named.set(`${here}#${anchor}`, node);
      }
    }
    for (const child of Array.isArray(node) ? node : Object.values(node)) this.#index(child, here, depth + 1);
  }

  /** The state of a schema node; `undefined` for a boolean schema (it has no annotations). */
  stateOf(node: unknown): PathState | undefined {
    if (!isPlainObject(node)) return undefined;
    const known = this.#states.get(node);
    if (known !== undefined) return known;
    const state = newState();
    this.#states.set(node, state);
    if (node.writeOnly === true || node[SENSITIVE_KEYWORD] === true) {
      state.sensitive = true;
      return state;
    }
    this.#addMembers(state, node);
    this.#addItems(state, node);
    this.#addSameValue(state, node);
    return state;
  }

  #addMembers(state: PathState, node: Record<string, unknown>): void {
    const declared = isPlainObject(node.properties) ? node.properties : {};
    for (const [key, member] of Object.entries(declared)) this.#addMember(state, key, member);
    const patterns: RegExp[] = [];
    if (isPlainObject(node.patternProperties)) {
      for (const [pattern, member] of Object.entries(node.patternProperties)) {
        const regex = toRegExp(pattern);
        if (regex !== undefined) patterns.push(regex);
        this.#addRule(state, regex === undefined ? ANY_KEY : (key) => regex.test(key), member);
      }
    }
    // Keys the node neither declares nor matches by pattern. unevaluatedProperties is read
    // the same way, which may take in keys a sibling `allOf` evaluates: more is redacted,
    // never less.
    const isAdditional = (key: string): boolean => !Object.hasOwn(declared, key) && !patterns.some((regex) => regex.test(key));
    this.#addRule(state, isAdditional, node.additionalProperties);
    this.#addRule(state, isAdditional, node.unevaluatedProperties);
  }

  #addItems(state: PathState, node: Record<string, unknown>): void {
    // A tuple: `prefixItems` (2020-12) or an array of `items` (draft-07).
    const tuple = Array.isArray(node.prefixItems) ? node.prefixItems : Array.isArray(node.items) ? node.items : [];
    tuple.forEach((member: unknown, index) => {
      this.#addMember(state, String(index), member);
    });
    const isRest = (key: string): boolean => !(isIndex(key) && Number(key) < tuple.length);
    if (!Array.isArray(node.items)) this.#addRule(state, isRest, node.items);
    else this.#addRule(state, isRest, node.additionalItems);
    this.#addRule(state, isRest, node.unevaluatedItems);
    this.#addRule(state, ANY_KEY, node.contains);
  }

  #addSameValue(state: PathState, node: Record<string, unknown>): void {
    const applied: unknown[] = [];
    for (const keyword of IN_PLACE_LISTS) if (Array.isArray(node[keyword])) applied.push(...(node[keyword] as unknown[]));
    for (const keyword of IN_PLACE_SCHEMAS) applied.push(node[keyword]);
    if (isPlainObject(node.dependentSchemas)) applied.push(...Object.values(node.dependentSchemas));
    // Draft-07's `dependencies` (what ajv's default engine applies): its schema members.
    if (isPlainObject(node.dependencies)) applied.push(...Object.values(node.dependencies).filter((member) => !Array.isArray(member)));
    for (const keyword of ['$ref', '$dynamicRef'] as const) {
      const ref = node[keyword];
      if (typeof ref === 'string') applied.push(this.#resolveFrom(node, ref) ?? this.#resolve(ref));
    }
    for (const schema of applied) {
      const target = this.stateOf(schema);
      if (target !== undefined) state.same.push(target);
    }
  }

  #addMember(state: PathState, key: string, schema: unknown): void {
    const target = this.stateOf(schema);
    if (target === undefined) return;
    const targets = state.members.get(key);
    if (targets === undefined) state.members.set(key, [target]);
    else targets.push(target);
  }

  #addRule(state: PathState, matches: (key: string) => boolean, schema: unknown): void {
    const target = this.stateOf(schema);
    if (target !== undefined) state.rules.push({ matches, to: target });
  }

  /**
   * The node a `$ref` names in this document: a fragment (`#/$defs/x`, `#name`), the
   * root's `$id` followed by one, or the exact `$id` of a node. A reference to another
   * document gives nothing: declare such paths with the `sensitive` option.
   */
  /**
   * The node `ref` names, resolved as ajv does: against the base URI of the node it is
   * written in (the nearest `$id` above it), then a JSON Pointer into the document it
   * names or an anchor of it. `undefined` when it names nothing known here.
   */
  #resolveFrom(from: Record<string, unknown>, ref: string): unknown {
    const uri = absolute(ref, this.#bases.get(from) ?? ROOT_BASE);
    if (uri === undefined) return undefined;
    const hash = uri.indexOf('#');
    const document = hash < 0 ? uri : uri.slice(0, hash);
    let fragment: string;
    try {
      fragment = hash < 0 ? '' : decodeURIComponent(uri.slice(hash + 1));
    } catch {
      // Not a valid percent-encoding: it names no node.
      return undefined;
    }
    if (fragment !== '' && !fragment.startsWith('/')) return this.#named.get(`${document}#${fragment}`);
    let node: unknown = document === ROOT_BASE ? this.#root : this.#named.get(document);
    for (const key of parsePointer(fragment) ?? []) {
      if (!isPlainObject(node) && !Array.isArray(node)) return undefined;
      node = Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined;
    }
    return node;
  }

  #resolve(ref: string): unknown {
    const id = this.#root.$id;
    const local = ref.startsWith('#') ? ref.slice(1) : typeof id === 'string' && ref.startsWith(`${id.replace(/#$/, '')}#`) ? ref.slice(ref.indexOf('#') + 1) : undefined;
    if (local === undefined) return findNode(this.#root, (node) => node.$id === ref, 0);
    let fragment: string;
    try {
      fragment = decodeURIComponent(local);
    } catch {
      // Not a valid percent-encoding: it names no node.
      return undefined;
    }
    if (fragment !== '' && !fragment.startsWith('/')) {
      return findNode(this.#root, (node) => node.$anchor === fragment || node.$dynamicAnchor === fragment || node.$id === `#${fragment}`, 0);
    }
    let node: unknown = this.#root;
    for (const key of parsePointer(fragment) ?? []) {
      if (!isPlainObject(node) && !Array.isArray(node)) return undefined;
      node = Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined;
    }
    return node;
  }
}

/** The first schema node, depth first, that `test` accepts. */
function findNode(node: unknown, test: (node: Record<string, unknown>) => boolean, depth: number): Record<string, unknown> | undefined {
  if (depth > MAX_ANCHOR_DEPTH || typeof node !== 'object' || node === null) return undefined;
  if (isPlainObject(node) && test(node)) return node;
  for (const child of Array.isArray(node) ? node : Object.values(node)) {
    const found = findNode(child, test, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A `patternProperties` pattern as ajv compiles it (Unicode mode, unanchored); `undefined` if it does not compile. */
function toRegExp(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    // ajv refuses such a schema; a Standard Schema's may still carry one. The caller
    // then matches every key: more is redacted, never less.
    return undefined;
  }
}

/** True for the key of an array index: `0`, or digits without a leading zero. */
export function isIndex(key: string): boolean {
  return /^(?:0|[1-9]\d*)$/.test(key);
}
