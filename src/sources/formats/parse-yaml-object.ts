/**
 * YAML config files: js-yaml (5 or later) reads the text into a flat list of events with
 * their offsets, and the value is built here from those events, without recursion. So
 * js-yaml never constructs a value: no tag of its can run, and every rule is ours —
 * YAML 1.2 core schema only, unique keys, no prototype keys, a nesting limit, aliases
 * bounded, merge keys `<<` merged, positions in every error (docs/formats.md).
 *
 * Internal: parse-config-format.ts is the entry point.
 */
import { ParseError, UnsafeKeyError } from '../../errors.js';
import { toPointer } from '../../json/json-pointer.js';
import { UNSAFE_KEYS, isPlainObject, setMember } from '../../json/plain-object.js';
import type { ParserPackage } from './parser-loader.js';
import { positionAt } from '../text-position.js';
import { isCollectionTag, resolveScalar, resolveTag, scalarKindOfTag } from './yaml-scalar.js';
import { causeWithoutText } from './parser-cause.js';
import {
  ALIAS,
  DOCUMENT,
  MAPPING,
  PLAIN,
  POP,
  SCALAR,
  SEQUENCE,
  checkYamlEvents,
  nodeStart,
  type CollectionEvent,
  type DocumentEvent,
  type ScalarEvent,
  type YamlEvent,
  type YamlEvents,
} from './yaml-events.js';

/** js-yaml, as the YAML reader uses it. */
export const JS_YAML: ParserPackage<YamlEvents> = { name: 'js-yaml', feature: 'reading YAML files', check: checkYamlEvents };

/** Options of {@link parseYamlObject}. */
export interface YamlParseOptions {
  /** Names the text in errors (a file path). */
  readonly source: string;
  /** Collections (mappings and sequences) that may be open at once; the root counts 1. */
  readonly maxDepth: number;
}

/**
 * Values that aliases may add to a document beyond those it writes out, when that is more
 * than the events it has: a billion-laughs document (ten aliases of ten aliases of …)
 * would add 10^9.
 */
export const ALIAS_VALUE_FLOOR = 100_000;

/**
 * The events of `text`, from js-yaml.
 * @throws {ParseError} `ERR_PARSE`; `cause` is js-yaml's error without the lines it quotes
 */
export function yamlEventsOf(yaml: YamlEvents, text: string, options: YamlParseOptions): readonly YamlEvent[] {
  // One level more than ours, so that ours, checked while building (aliases included), is
  // the one that reports; js-yaml's own limit counts one level more still.
  const limit = options.maxDepth + 2;
  try {
    return yaml.parseEvents(text, { maxDepth: limit });
  } catch (error) {
    // js-yaml parses collections by recursion: nesting past the stack, under a limit the
    // caller set very high, ends as a RangeError.
    if (error instanceof RangeError) throw new ParseError(options.source, 'nested too deeply for the YAML parser', 1, 1, { cause: error });
    const position = yamlErrorPosition(text, error);
    const reason = (error as { reason?: unknown }).reason;
    const message = typeof reason === 'string' ? reason : error instanceof Error ? error.message : String(error);
    const ours = message.includes(`maxDepth (${limit})`) ? `nesting deeper than ${options.maxDepth} levels` : `not YAML: ${message}`;
    throw new ParseError(options.source, ours, position.line, position.column, { cause: causeWithoutText(error, message.split('\n')[0] ?? '') });
  }
}

/**
 * Builds the config of a YAML text from its events.
 *
 * @throws {ParseError} `ERR_PARSE` with `line` and `column`: not YAML, empty, more than
 *   one document, root not a mapping, duplicate key, a key that is not a scalar, a tag
 *   outside the core schema, a number JSON cannot hold, nesting deeper than `maxDepth`,
 *   an alias to nothing or to its own container, aliases that add too many values.
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY`: a `__proto__`, `constructor` or `prototype` key.
 */
export function parseYamlObject(yaml: YamlEvents, text: string, events: readonly YamlEvent[], options: YamlParseOptions): Record<string, unknown> {
  return new YamlBuilder(yaml, text, options, Math.max(ALIAS_VALUE_FLOOR, events.length)).build(events);
}

/** A finished value, with what an alias to it would cost. */
interface Built {
  readonly value: unknown;
  /** Values in it, itself included. */
  readonly size: number;
  /** Collections from it to its deepest leaf (a scalar: 0). */
  readonly height: number;
}

interface MapFrame {
  readonly kind: 'map';
  readonly value: Record<string, unknown>;
  readonly start: number;
  readonly anchor: string | undefined;
  /** The key whose value comes next, or `undefined` when a key comes next. */
  key: string | undefined;
  /** Whether that key is the merge key `<<`. */
  isMergeKey: boolean;
  hasMergeKey: boolean;
  /** The mappings to merge in, in order, when the mapping ends: its own keys win. */
  readonly merges: Record<string, unknown>[];
  size: number;
  height: number;
}

interface SeqFrame {
  readonly kind: 'seq';
  readonly value: unknown[];
  readonly start: number;
  readonly anchor: string | undefined;
  size: number;
  height: number;
}

type Frame = MapFrame | SeqFrame;

class YamlBuilder {
  readonly #yaml: YamlEvents;
  readonly #text: string;
  readonly #source: string;
  readonly #maxDepth: number;
  /** Most values aliases may add; see {@link ALIAS_VALUE_FLOOR}. */
  readonly #aliasBudget: number;
  /** Values aliases added so far; never more than #aliasBudget. */
  #aliasValues = 0;
  /** The collections open, root first; its length is the current depth. */
  readonly #stack: Frame[] = [];
  /** Each anchor's latest finished node. An anchor still open is on #stack instead. */
  readonly #anchors = new Map<string, Built>();
  /** The document's `%TAG` handles. */
  readonly #handles = new Map<string, string>();
  #root: Record<string, unknown> | undefined;
  #documents = 0;

  constructor(yaml: YamlEvents, text: string, options: YamlParseOptions, aliasBudget: number) {
    this.#yaml = yaml;
    this.#text = text;
    this.#source = options.source;
    this.#maxDepth = options.maxDepth;
    this.#aliasBudget = aliasBudget;
  }

  build(events: readonly YamlEvent[]): Record<string, unknown> {
    for (let index = 0; index < events.length; index++) {
      const event = events[index] as YamlEvent;
      switch (event.type) {
        case DOCUMENT:
          this.#document(event.directives, events, index);
          break;
        case SCALAR:
          this.#onScalar(event);
          break;
        case MAPPING:
        case SEQUENCE:
          this.#open(event);
          break;
        case ALIAS:
          this.#alias(this.#text.slice(event.anchorStart, event.anchorEnd), event.anchorStart - 1);
          break;
        case POP:
          this.#close();
          break;
      }
    }
    if (this.#root === undefined) throw this.#error('the document is empty: the top-level value must be a mapping', 0);
    return this.#root;
  }

  #document(directives: DocumentEvent['directives'], events: readonly YamlEvent[], index: number): void {
    if (++this.#documents > 1) {
      const next = events.slice(index + 1).find((event) => nodeStart(event) >= 0);
      throw this.#error('more than one document: a config file holds one', next === undefined ? this.#text.length : nodeStart(next));
    }
    for (const directive of directives) {
      if (directive.kind === 'tag') this.#handles.set(directive.handle, directive.prefix);
      // YAML 1.1 reads yes/no/on/off as booleans and 010 as octal; reading its documents
      // by 1.2's rules would change their values without a word.
      else if (directive.version !== '1.2') throw this.#error(`%YAML ${directive.version}: only YAML 1.2 documents are read (remove the directive)`, 0);
    }
  }

  #onScalar(event: ScalarEvent): void {
    const top = this.#stack.at(-1);
    if (top?.kind === 'map' && top.key === undefined) {
      this.#key(top, event);
      return;
    }
    const at = nodeStart(event);
    const text = this.#yaml.getScalarValue(this.#text, event);
    const kind = scalarKindOfTag(this.#tagOf(event), event.style === PLAIN);
    if (kind === undefined) throw this.#unsupportedTag(event);
    const result = resolveScalar(text, kind);
    if ('problem' in result) throw this.#error(result.problem, at);
    this.#finish({ value: result.value, size: 1, height: 0 }, this.#anchorOf(event), at);
  }

  /** A mapping key: its text as written, whatever its plain type (`404:` is `"404"`). */
  #key(frame: MapFrame, event: ScalarEvent): void {
    const at = nodeStart(event);
    const key = this.#yaml.getScalarValue(this.#text, event);
    if (event.tagStart >= 0 && scalarKindOfTag(this.#tagOf(event), false) === undefined) throw this.#unsupportedTag(event);
    if (key === '<<' && event.style === PLAIN && event.tagStart < 0) {
      if (frame.hasMergeKey) throw this.#error(`duplicate merge key << in ${this.#pointer() || '/'}`, at);
      frame.hasMergeKey = true;
      frame.isMergeKey = true;
    } else {
      if (UNSAFE_KEYS.has(key)) {
        const { line, column } = positionAt(this.#text, at);
        throw new UnsafeKeyError(this.#source, key, this.#pointer(), line, column);
      }
      if (Object.hasOwn(frame.value, key)) throw this.#error(`duplicate key ${JSON.stringify(key)} in ${this.#pointer() || '/'}`, at);
    }
    frame.key = key;
    const anchor = this.#anchorOf(event);
    if (anchor !== undefined) this.#anchors.set(anchor, { value: key, size: 1, height: 0 });
  }

  #open(event: CollectionEvent): void {
    const kind = event.type === MAPPING ? 'map' : 'seq';
    const top = this.#stack.at(-1);
    if (top?.kind === 'map' && top.key === undefined) throw this.#error(`a mapping key must be a scalar, not a ${kind === 'map' ? 'mapping' : 'sequence'}`, event.start);
    if (this.#stack.length >= this.#maxDepth) throw this.#error(`nesting deeper than ${this.#maxDepth} levels`, event.start);
    const tag = this.#tagOf(event);
    if (tag !== undefined && !isCollectionTag(tag, kind)) throw this.#unsupportedTag(event);
    const anchor = this.#anchorOf(event);
    const start = nodeStart(event);
    this.#stack.push(
      kind === 'map'
        ? { kind, value: {}, start, anchor, key: undefined, isMergeKey: false, hasMergeKey: false, merges: [], size: 1, height: 1 }
        : { kind, value: [], start, anchor, size: 1, height: 1 },
    );
  }

  #close(): void {
    const frame = this.#stack.pop();
    // The POP of the document itself: nothing to finish.
    if (frame === undefined) return;
    if (frame.kind === 'map') {
      for (const source of frame.merges) {
        for (const key of Object.keys(source)) if (!Object.hasOwn(frame.value, key)) setMember(frame.value, key, source[key]);
      }
    }
    this.#finish({ value: frame.value, size: frame.size, height: frame.height }, frame.anchor, frame.start);
  }

  #alias(name: string, at: number): void {
    const top = this.#stack.at(-1);
    if (top?.kind === 'map' && top.key === undefined) throw this.#error('a mapping key must be a scalar, not an alias', at);
    if (this.#stack.some((frame) => frame.anchor === name)) throw this.#error(`the alias *${name} refers to a node that contains it`, at);
    const target = this.#anchors.get(name);
    if (target === undefined) throw this.#error(`the alias *${name} refers to no anchor before it`, at);
    this.#aliasValues += target.size;
    if (this.#aliasValues > this.#aliasBudget) {
      throw this.#error(`aliases add more than ${this.#aliasBudget} values to the document (an alias bomb?)`, at);
    }
    if (this.#stack.length + target.height > this.#maxDepth) throw this.#error(`nesting deeper than ${this.#maxDepth} levels (through the alias *${name})`, at);
    // Each use is a copy of its own: the config is a tree, never a graph that shares nodes.
    const value = target.height === 0 ? target.value : structuredClone(target.value);
    this.#finish({ value, size: target.size, height: target.height }, undefined, at);
  }

  /** A node is complete: record its anchor, then give it to its container (or make it the root). */
  #finish(built: Built, anchor: string | undefined, at: number): void {
    if (anchor !== undefined) this.#anchors.set(anchor, built);
    const top = this.#stack.at(-1);
    if (top === undefined) {
      if (!isPlainObject(built.value)) throw this.#error('the top-level value must be a mapping', at);
      this.#root = built.value;
      return;
    }
    if (top.kind === 'seq') {
      top.value.push(built.value);
    } else if (top.isMergeKey) {
      this.#merge(top, built.value, at);
      top.isMergeKey = false;
    } else {
      setMember(top.value, top.key as string, built.value);
    }
    if (top.kind === 'map') top.key = undefined;
    top.size += built.size;
    top.height = Math.max(top.height, built.height + 1);
  }

  #merge(frame: MapFrame, value: unknown, at: number): void {
    const sources = Array.isArray(value) ? value : [value];
    if (!sources.every(isPlainObject)) throw this.#error('the value of a merge key << must be a mapping or a sequence of mappings', at);
    frame.merges.push(...sources);
  }

  #tagOf(event: ScalarEvent | CollectionEvent): string | undefined {
    return event.tagStart < 0 ? undefined : resolveTag(this.#text.slice(event.tagStart, event.tagEnd), this.#handles);
  }

  #anchorOf(event: ScalarEvent | CollectionEvent): string | undefined {
    return event.anchorStart < 0 ? undefined : this.#text.slice(event.anchorStart, event.anchorEnd);
  }

  #unsupportedTag(event: ScalarEvent | CollectionEvent): ParseError {
    const written = this.#text.slice(event.tagStart, event.tagEnd);
    return this.#error(`the tag ${written} is not read: only the YAML 1.2 core tags (!!str, !!int, !!float, !!bool, !!null, !!map, !!seq)`, event.tagStart);
  }

  /** JSON Pointer of the innermost open collection. */
  #pointer(): string {
    const keys: string[] = [];
    for (let i = 0; i < this.#stack.length - 1; i++) {
      const frame = this.#stack[i] as Frame;
      keys.push(frame.kind === 'map' ? (frame.key ?? '') : String(frame.value.length));
    }
    return toPointer(keys);
  }

  #error(message: string, at: number): ParseError {
    const { line, column } = positionAt(this.#text, at);
    return new ParseError(this.#source, message, line, column);
  }
}

/** Where js-yaml's error points, or line 1, column 1. */
function yamlErrorPosition(text: string, error: unknown): { line: number; column: number } {
  const position = (error as { mark?: { position?: unknown } } | null)?.mark?.position;
  return typeof position === 'number' && position >= 0 ? positionAt(text, position) : { line: 1, column: 1 };
}
