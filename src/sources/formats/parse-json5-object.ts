/**
 * A JSON5 parser for config files, ours rather than the `json5` package's: it refuses
 * duplicate keys (the package keeps the last one silently), refuses keys that can reach a
 * prototype, bounds nesting without recursion, reports every error with its line and
 * column, and can find the position of a value for `explain`. It is also about nine times
 * faster than the package (docs/formats.md). JSON5 is the grammar of https://spec.json5.org/
 * (1.0.0): ECMAScript 5.1 literals, comments, trailing commas, unquoted keys.
 *
 * Internal: parse-config-format.ts is the entry point.
 */
import { UnsafeKeyError } from '../../errors.js';
import { toPointer } from '../../json/json-pointer.js';
import { UNSAFE_KEYS, setMember } from '../../json/plain-object.js';
import { Json5Scanner } from './json5-scanner.js';
import { positionAt } from '../text-position.js';

/** Options of {@link parseJson5Object}. */
export interface Json5ParseOptions {
  /** Names the text in errors (a file path). */
  readonly source: string;
  /** Containers (objects and arrays) that may be open at once; the root object counts 1. */
  readonly maxDepth: number;
}

// The characters of the structure; the tokens are json5-scanner.ts's.
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** An open object or array; `key` is the member being parsed (objects only). */
type Frame = ObjectFrame | { readonly kind: 'array'; readonly value: unknown[] };
interface ObjectFrame {
  readonly kind: 'object';
  readonly value: Record<string, unknown>;
  key: string;
}

/**
 * Parses `text` as one JSON5 object.
 *
 * Iterative (an explicit stack), so depth is bounded by `maxDepth`, not by the call stack.
 * Members are set with {@link setMember}, so no setter on `Object.prototype` ever runs.
 *
 * @throws {ParseError} `ERR_PARSE`: not JSON5, empty, root not an object, duplicate key,
 *   `Infinity`/`NaN` or a number out of range, nesting deeper than `maxDepth`.
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY`: a `__proto__`, `constructor` or `prototype` key.
 */
export function parseJson5Object(text: string, options: Json5ParseOptions): Record<string, unknown> {
  return new Json5Parser(text, options, undefined).parse() as Record<string, unknown>;
}

/**
 * The index (UTF-16 code units) of the first character of the value at `keys` (object
 * keys, array indices as decimal strings) in a JSON5 or JSON text, or `undefined` when
 * the text does not hold it or does not parse. Parses only up to that value.
 */
export function locateInJson5(text: string, keys: readonly string[]): number | undefined {
  const parser = new Json5Parser(text, { source: '', maxDepth: Math.max(keys.length + 1, 256) }, keys);
  try {
    parser.parse();
  } catch {
    // An invalid text holds no value to point at; the caller asked lazily and must not fail.
    return undefined;
  }
  return parser.found;
}

class Json5Parser {
  readonly #scan: Json5Scanner;
  readonly #source: string;
  readonly #maxDepth: number;
  /** Locate mode: the path whose value's index to find, and stop at. */
  readonly #target: readonly string[] | undefined;
  /** Locate mode: where the target's value starts, once reached. */
  found: number | undefined;
  /** The containers open at the scanner's position, root first; its length is the current depth. */
  readonly #stack: Frame[] = [];

  constructor(text: string, options: Json5ParseOptions, target: readonly string[] | undefined) {
    this.#scan = new Json5Scanner(text, options.source);
    this.#source = options.source;
    this.#maxDepth = options.maxDepth;
    this.#target = target;
  }

  parse(): unknown {
    this.#scan.skipVoid();
    if (this.#scan.pos >= this.#scan.text.length) throw this.#scan.error('unexpected end of input: the document is empty');
    if (this.#scan.code() !== OPEN_BRACE) throw this.#scan.error('the top-level value must be a JSON5 object');
    if (this.#target?.length === 0) {
      this.found = this.#scan.pos;
      return undefined;
    }
    const root = this.#parseTree();
    if (this.found !== undefined) return undefined;
    this.#scan.skipVoid();
    if (this.#scan.pos < this.#scan.text.length) throw this.#scan.error('unexpected data after the top-level object');
    return root;
  }

  /** Parses one value, containers included, without recursion. */
  #parseTree(): unknown {
    for (;;) {
      // Expecting a value at #pos.
      this.#scan.skipVoid();
      if (this.#isAtTarget()) {
        this.found = this.#scan.pos;
        return undefined;
      }
      let value: unknown;
      const c = this.#scan.code();
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (this.#stack.length >= this.#maxDepth) throw this.#scan.error(`nesting deeper than ${this.#maxDepth} levels`);
        this.#scan.pos++;
        this.#scan.skipVoid();
        if (c === OPEN_BRACE) {
          const frame: ObjectFrame = { kind: 'object', value: {}, key: '' };
          this.#stack.push(frame);
          if (this.#scan.code() !== CLOSE_BRACE) {
            this.#parseKey(frame);
            continue;
          }
        } else {
          this.#stack.push({ kind: 'array', value: [] });
          if (this.#scan.code() !== CLOSE_BRACKET) continue;
        }
        this.#scan.pos++;
        value = this.#stack.pop()?.value;
      } else {
        value = this.#scan.scalar();
      }

      // A value is complete: store it, then close every container that ends here.
      for (;;) {
        const top = this.#stack.at(-1);
        if (top === undefined) return value;
        if (top.kind === 'object') setMember(top.value, top.key, value);
        else top.value.push(value);
        this.#scan.skipVoid();
        const next = this.#scan.code();
        const close = top.kind === 'object' ? CLOSE_BRACE : CLOSE_BRACKET;
        if (next === COMMA) {
          this.#scan.pos++;
          this.#scan.skipVoid();
          // JSON5 allows one trailing comma before the closing bracket.
          if (this.#scan.code() !== close) {
            if (top.kind === 'object') this.#parseKey(top);
            break;
          }
        } else if (next !== close) {
          throw this.#scan.error(top.kind === 'object' ? "expected ',' or '}'" : "expected ',' or ']'");
        }
        this.#scan.pos++;
        this.#stack.pop();
        value = top.value;
      }
    }
  }

  /** In locate mode: whether the value about to be parsed is the one at the target path. */
  #isAtTarget(): boolean {
    const target = this.#target;
    if (target?.length !== this.#stack.length) return false;
    for (let i = 0; i < target.length; i++) {
      const frame = this.#stack[i] as Frame;
      const token = frame.kind === 'object' ? frame.key : String(frame.value.length);
      if (token !== target[i]) return false;
    }
    return true;
  }

  /** Reads `key :` into `frame.key`, refusing unsafe and duplicate keys. */
  #parseKey(frame: ObjectFrame): void {
    const at = this.#scan.pos;
    const c = this.#scan.code();
    const key = c === DOUBLE_QUOTE || c === SINGLE_QUOTE ? this.#scan.string() : this.#scan.identifier();
    if (UNSAFE_KEYS.has(key)) {
      const { line, column } = positionAt(this.#scan.text, at);
      throw new UnsafeKeyError(this.#source, key, this.#pointer(), line, column);
    }
    if (Object.hasOwn(frame.value, key)) {
      throw this.#scan.error(`duplicate key ${JSON.stringify(key)} in ${this.#pointer() || '/'}`, at);
    }
    frame.key = key;
    this.#scan.skipVoid();
    if (this.#scan.code() !== COLON) throw this.#scan.error("expected ':' after a key");
    this.#scan.pos++;
  }









  /** JSON Pointer of the innermost open container. */
  #pointer(): string {
    const keys: string[] = [];
    // Each frame's child position is its current key (object) or its next index (array).
    for (let i = 0; i < this.#stack.length - 1; i++) {
      const frame = this.#stack[i] as Frame;
      keys.push(frame.kind === 'object' ? frame.key : String(frame.value.length));
    }
    return toPointer(keys);
  }

}
