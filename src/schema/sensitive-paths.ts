/**
 * Which values of a config are sensitive (DESIGN.md §5.3), and the config with each of
 * them replaced by {@link REDACTED}. The paths come from the store's `sensitive` option
 * and from the schema's annotations (sensitive-schema.ts); both are compiled into one
 * automaton over the keys of a JSON Pointer, so a question costs the depth of the
 * pointer, and a redaction walks only the branches that can hold a sensitive value.
 */
import { ArgumentError } from '../errors.js';
import { describeValue } from '../internal/argument-checks.js';
import { parsePointer } from '../json/json-pointer.js';
import { isPlainObject, setMember } from '../json/plain-object.js';
import { ANY_KEY, isIndex, newState, schemaStart, type PathState } from './sensitive-schema.js';

/** What every sensitive value is shown as. */
export const REDACTED = '[redacted]';

/**
 * One state of the compiled automaton. Only states from which a sensitive one can be
 * reached are kept, so a walk that runs out of states is on a path with no secret at,
 * under or above it.
 */
interface Node {
  /** The value here and its whole subtree are sensitive. Such a node has no transitions. */
  readonly sensitive: boolean;
  /** Next nodes by exact key; each list already holds the nodes that apply to the same value. */
  readonly members: ReadonlyMap<string, readonly Node[]>;
  /** Next nodes of the keys a rule matches; empty when only exact keys lead on. */
  readonly rules: readonly { readonly matches: (key: string) => boolean; readonly to: readonly Node[] }[];
}

/**
 * The sensitive paths of a store: immutable once compiled.
 *
 * @example
 * ```ts
 * const sensitive = SensitivePaths.compile(['/db/password', '/tokens/*'], schema);
 * sensitive.covers('/tokens/github');   // true
 * sensitive.touches('/db');             // true: /db holds the password
 * sensitive.redact(config);             // { db: { host: 'h', password: '[redacted]' }, tokens: { github: '[redacted]' } }
 * ```
 */
export class SensitivePaths {
  // The nodes a walk starts from; empty when nothing is sensitive.
  readonly #start: readonly Node[];
  // Root-level redactions of frozen configs: a snapshot shown again costs nothing.
  readonly #redacted = new WeakMap<object, unknown>();

  private constructor(start: readonly Node[]) {
    this.#start = start;
  }

  /**
   * The sensitive paths of `patterns` (the store's `sensitive` option: JSON Pointers in
   * which a whole segment `*` stands for any one key, `''` for the whole config) and of
   * `schema`: each node with `writeOnly: true` or `"x-sensitive": true`, followed through
   * `properties`, `patternProperties` (its regex matches one key), `additionalProperties`,
   * `items`/`prefixItems`, `allOf`/`anyOf`/`oneOf`, `if`/`then`/`else`,
   * `dependentSchemas` and `$ref`s within the document (cycles included). A Standard Schema
   * counts through the JSON Schema it offers as `~standard.jsonSchema` (zod 4 does, with
   * `.meta({ writeOnly: true })`); one that offers none, or whose conversion throws,
   * contributes nothing, and only `patterns` count. A whole subtree under a sensitive node
   * is sensitive.
   * @throws {ArgumentError} `ERR_ARGUMENT` naming `sensitive` (not an array) or `sensitive[i]` (not a JSON Pointer)
   */
  static compile(patterns: readonly string[] | undefined, schema: unknown): SensitivePaths {
    const starts = [optionStart(patterns), schemaStart(schema)].filter((state) => state !== undefined);
    return new SensitivePaths(compileNodes(starts));
  }

  /** True when nothing is sensitive: every question answers `false`, and `redact` returns its value. */
  get isEmpty(): boolean {
    return this.#start.length === 0;
  }

  /**
   * True when `pointer` is at or under a sensitive node: the value there is a secret, or
   * part of one. A string that is not a JSON Pointer is answered `true` unless nothing is
   * sensitive: when in doubt, hide.
   */
  covers(pointer: string): boolean {
    return this.#walk(pointer) === 'covered';
  }

  /**
   * True when `pointer` is at, under or above a sensitive node: what is said of the value
   * there (a message about `/db` may print the whole db object) may show a secret. A
   * string that is not a JSON Pointer is answered like {@link SensitivePaths.covers}.
   */
  touches(pointer: string): boolean {
    return this.#walk(pointer) !== 'clear';
  }

  /**
   * A copy of `value` (the config, or the subtree of it at `at`) with each sensitive
   * subtree replaced by {@link REDACTED}; `REDACTED` itself when `at` is sensitive. The
   * subtrees that hold nothing sensitive are shared (`===`), `value` is never changed,
   * and every node built is frozen (so the result is deeply frozen when `value` is).
   * Returns `value` itself when nothing under it is sensitive.
   * @throws {ArgumentError} `ERR_ARGUMENT` naming `at` when it is not a JSON Pointer
   */
  redact<T>(value: T, at = ''): T {
    if (this.#start.length === 0) return value;
    const keys = parsePointer(at);
    if (keys === undefined) throw new ArgumentError('at', `must be a JSON Pointer ('' or starting with '/'), got ${JSON.stringify(at)}`);
    let nodes = this.#start;
    for (const key of keys) {
      if (isSensitive(nodes)) break;
      nodes = step(nodes, key);
    }
    // The result is REDACTED (a string) or a copy of `value` of the same shape: `T` is
    // the shape the caller reads, and the string stands where a secret of any type was.
    if (isSensitive(nodes)) return REDACTED as T;
    if (nodes.length === 0 || typeof value !== 'object' || value === null) return value;
    const cacheable = keys.length === 0 && Object.isFrozen(value);
    if (cacheable && this.#redacted.has(value)) return this.#redacted.get(value) as T;
    const redacted = redactNode(value, nodes) as T;
    if (cacheable) this.#redacted.set(value, redacted);
    return redacted;
  }

  /** How `pointer` stands to the sensitive nodes: at or under one, above one, or clear of them. */
  #walk(pointer: string): 'covered' | 'above' | 'clear' {
    if (this.#start.length === 0) return 'clear';
    const keys = typeof pointer === 'string' ? parsePointer(pointer) : undefined;
    if (keys === undefined) return 'covered';
    let nodes = this.#start;
    for (const key of keys) {
      if (isSensitive(nodes)) return 'covered';
      nodes = step(nodes, key);
      if (nodes.length === 0) return 'clear';
    }
    return isSensitive(nodes) ? 'covered' : 'above';
  }
}

/**
 * The trie of the `sensitive` option; `undefined` when it is not given.
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `sensitive` or `sensitive[i]`
 */
function optionStart(patterns: unknown): PathState | undefined {
  if (patterns === undefined) return undefined;
  if (!Array.isArray(patterns)) throw new ArgumentError('sensitive', `must be an array of JSON Pointers ('/db/password', '/tokens/*'), got ${describeValue(patterns)}`);
  const start = newState();
  patterns.forEach((pattern: unknown, index) => {
    const keys = typeof pattern === 'string' ? parsePointer(pattern) : undefined;
    if (keys === undefined) {
      const got = typeof pattern === 'string' ? JSON.stringify(pattern) : describeValue(pattern);
      throw new ArgumentError(`sensitive[${index}]`, `must be a JSON Pointer ('' or starting with '/', '~' only as '~0' or '~1'; '*' for any one key), got ${got}`);
    }
    let state = start;
    for (const key of keys) state = key === '*' ? wildcardOf(state) : memberOf(state, key);
    state.sensitive = true;
  });
  return start;
}

function memberOf(state: PathState, key: string): PathState {
  const known = state.members.get(key)?.[0];
  if (known !== undefined) return known;
  const next = newState();
  state.members.set(key, [next]);
  return next;
}

function wildcardOf(state: PathState): PathState {
  const known = state.rules.find((rule) => rule.matches === ANY_KEY)?.to;
  if (known !== undefined) return known;
  const next = newState();
  state.rules.push({ matches: ANY_KEY, to: next });
  return next;
}

/**
 * The automaton of `starts`: every state that can reach a sensitive one becomes a node,
 * the others are dropped, and each transition leads straight to the nodes that apply to
 * the same value (what `same` reaches), so a walk never expands them again.
 */
function compileNodes(starts: readonly PathState[]): Node[] {
  const states = reachable(starts);
  const live = canReachSensitive(states);
  const nodes = new Map<PathState, Node & { members: Map<string, readonly Node[]>; rules: Node['rules'][number][] }>();
  for (const state of live) nodes.set(state, { sensitive: state.sensitive, members: new Map(), rules: [] });
  const closures = new Map<PathState, readonly Node[]>();
  const closure = (state: PathState): readonly Node[] => {
    let known = closures.get(state);
    if (known === undefined) {
      known = reachable([state], (s) => s.same).flatMap((s) => nodes.get(s) ?? []);
      closures.set(state, known);
    }
    return known;
  };
  const targets = (to: readonly PathState[]): Node[] => [...new Set(to.flatMap(closure))];
  for (const [state, node] of nodes) {
    if (state.sensitive) continue;
    for (const [key, to] of state.members) {
      const next = targets(to);
      if (next.length > 0) node.members.set(key, next);
    }
    for (const rule of state.rules) {
      const next = targets([rule.to]);
      if (next.length > 0) node.rules.push({ matches: rule.matches, to: next });
    }
  }
  return targets(starts);
}

function edgesOf(state: PathState): PathState[] {
  return [...[...state.members.values()].flat(), ...state.rules.map((rule) => rule.to), ...state.same];
}

/** Every state reachable from `starts` through `edges` (all transitions by default), `starts` included. */
function reachable(starts: readonly PathState[], edges: (state: PathState) => readonly PathState[] = edgesOf): PathState[] {
  const seen = new Set<PathState>(starts);
  const pending = [...starts];
  for (let state = pending.pop(); state !== undefined; state = pending.pop()) {
    for (const next of edges(state)) {
      if (seen.has(next)) continue;
      seen.add(next);
      pending.push(next);
    }
  }
  return [...seen];
}

/** The states of `states` from which a sensitive state can be reached (themselves included). */
function canReachSensitive(states: readonly PathState[]): Set<PathState> {
  const parents = new Map<PathState, PathState[]>();
  for (const state of states) {
    for (const next of edgesOf(state)) {
      const list = parents.get(next);
      if (list === undefined) parents.set(next, [state]);
      else list.push(state);
    }
  }
  return new Set(reachable(states.filter((state) => state.sensitive), (state) => parents.get(state) ?? []));
}

function isSensitive(nodes: readonly Node[]): boolean {
  return nodes.some((node) => node.sensitive);
}

/** The nodes after one key; empty when no sensitive node lies at or under that key. */
function step(nodes: readonly Node[], key: string): readonly Node[] {
  let next: Node[] | undefined;
  for (const node of nodes) {
    const members = node.members.get(key);
    if (members !== undefined) (next ??= []).push(...members);
    for (const rule of node.rules) if (rule.matches(key)) (next ??= []).push(...rule.to);
  }
  if (next === undefined) return [];
  return next.length > 1 ? [...new Set(next)] : next;
}

/** `value` redacted below `nodes` (none of which is sensitive itself): a frozen copy, or `value` when nothing changed. */
function redactNode(value: unknown, nodes: readonly Node[]): unknown {
  const isArray = Array.isArray(value);
  if (!isArray && !isPlainObject(value)) return value;
  const container = value as Record<string, unknown>;
  let changes: Map<string, unknown> | undefined;
  for (const key of keysToVisit(container, isArray, nodes)) {
    const next = step(nodes, key);
    if (next.length === 0) continue;
    const child = container[key];
    const redacted = isSensitive(next) ? REDACTED : redactNode(child, next);
    if (redacted !== child) (changes ??= new Map()).set(key, redacted);
  }
  if (changes === undefined) return value;
  const found = changes;
  if (isArray) return Object.freeze((value as unknown[]).map((item, index) => (found.has(String(index)) ? found.get(String(index)) : item)));
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(container)) setMember(copy, key, found.has(key) ? found.get(key) : container[key]);
  return Object.freeze(copy);
}

/**
 * The keys of `container` a sensitive path can go through: every key when a rule may
 * match one, else only the exact keys the nodes name that `container` has, so a large
 * object beside a few named secrets is not walked key by key.
 */
function keysToVisit(container: Record<string, unknown>, isArray: boolean, nodes: readonly Node[]): Iterable<string> {
  if (nodes.some((node) => node.rules.length > 0)) return Object.keys(container);
  const keys = new Set<string>();
  for (const node of nodes) {
    for (const key of node.members.keys()) {
      const present = isArray ? isIndex(key) && Number(key) < (container as unknown as unknown[]).length : Object.hasOwn(container, key);
      if (present) keys.add(key);
    }
  }
  return keys;
}
