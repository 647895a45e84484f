/**
 * A strict RFC 8259 JSON parser for config files: positions in errors, a nesting limit
 * instead of a stack overflow, and refusal of keys that can reach a prototype.
 *
 * Internal: the public entry points are in read-config-file.ts.
 */
import { ParseError, UnsafeKeyError } from '../errors.js';
import { escapeKey } from '../json/json-pointer.js';
import { UNSAFE_KEYS } from '../json/plain-object.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { checkParsed, fastJsonObject, parseOrUndefined } from './fast-json-object.js';
import { positionAt } from './text-position.js';

/** Options of {@link parseJsonObject}. */
export interface JsonParseOptions {
  /** Names the text in errors (a file path). */
  readonly source: string;
  /** Containers (objects and arrays) that may be open at once; the root object counts 1. */
  readonly maxDepth: number;
}

// Character codes, named so the scanner reads as the grammar.
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const STAR = 0x2a;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/** An open object or array; `key` is the member being parsed (objects only). */
type Frame = ObjectFrame | { readonly kind: 'array'; readonly value: unknown[] };
interface ObjectFrame {
  readonly kind: 'object';
  readonly value: Record<string, unknown>;
  key: string;
}

/**
 * Parses `text` as one JSON object.
 *
 * Iterative (an explicit stack), so depth is bounded by `maxDepth`, not by the call stack.
 * Objects are plain objects whose members are created with `Object.defineProperty`, so no
 * setter on `Object.prototype` ever runs; unsafe keys are refused before anything is built
 * with them. Duplicate keys are refused.
 *
 * @throws {ParseError} `ERR_PARSE`: not JSON, empty, root not an object, duplicate key,
 *   number out of range, or nesting deeper than `maxDepth`.
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY`: a `__proto__`, `constructor` or `prototype` key.
 */
export function parseJsonObject(text: string, options: JsonParseOptions): Record<string, unknown> {
  return fastJsonObject(text, options.maxDepth) ?? parseWithPositions(text, options);
}

/**
 * Texts longer than this (UTF-16 code units) are parsed in two turns of the event loop:
 * `JSON.parse` of 1 MB takes a few milliseconds, and the checks after it as long again.
 */
export const TWO_TURN_TEXT = 1 << 20;

/**
 * {@link parseJsonObject}, giving the event loop a turn between `JSON.parse` and the
 * checks when the text is long ({@link TWO_TURN_TEXT}): the same result, the same errors.
 * @throws as {@link parseJsonObject}
 */
export async function parseJsonObjectInTurns(text: string, options: JsonParseOptions): Promise<Record<string, unknown>> {
  if (text.length <= TWO_TURN_TEXT) return parseJsonObject(text, options);
  const parsed = parseOrUndefined(text);
  await nextTurn();
  return checkParsed(parsed, text, options.maxDepth) ?? parseWithPositions(text, options);
}

/**
 * The full parser alone, without the fast path: what {@link parseJsonObject} falls back
 * to for any text the fast path cannot vouch for, and what it must agree with.
 * @throws as {@link parseJsonObject}
 */
export function parseWithPositions(text: string, options: JsonParseOptions): Record<string, unknown> {
  return new Parser(text, options).parse();
}

class Parser {
  readonly #text: string;
  readonly #source: string;
  readonly #maxDepth: number;
  /** Index (UTF-16 code units) of the next unread character; never past the end. */
  #pos = 0;
  /** The containers open at #pos, root first; its length is the current depth. */
  readonly #stack: Frame[] = [];

  constructor(text: string, options: JsonParseOptions) {
    this.#text = text;
    this.#source = options.source;
    this.#maxDepth = options.maxDepth;
  }

  parse(): Record<string, unknown> {
    this.#skipWhitespace();
    if (this.#pos >= this.#text.length) throw this.#error('unexpected end of input: the document is empty');
    if (this.#code() !== OPEN_BRACE) throw this.#error('the top-level value must be a JSON object');
    const root = this.#parseTree();
    this.#skipWhitespace();
    if (this.#pos < this.#text.length) throw this.#error('unexpected data after the top-level object');
    return root as Record<string, unknown>;
  }

  /** Parses one value, containers included, without recursion. */
  #parseTree(): unknown {
    for (;;) {
      // Expecting a value at #pos.
      this.#skipWhitespace();
      let value: unknown;
      const c = this.#code();
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (this.#stack.length >= this.#maxDepth) throw this.#error(`nesting deeper than ${this.#maxDepth} levels`);
        this.#pos++;
        this.#skipWhitespace();
        if (c === OPEN_BRACE) {
          const frame: ObjectFrame = { kind: 'object', value: {}, key: '' };
          this.#stack.push(frame);
          if (this.#code() !== CLOSE_BRACE) {
            this.#parseKey(frame);
            continue;
          }
        } else {
          this.#stack.push({ kind: 'array', value: [] });
          if (this.#code() !== CLOSE_BRACKET) continue;
        }
        this.#pos++;
        value = this.#stack.pop()?.value;
      } else {
        value = this.#parseScalar();
      }

      // A value is complete: store it, then close every container that ends here.
      for (;;) {
        const top = this.#stack.at(-1);
        if (top === undefined) return value;
        if (top.kind === 'object') {
          Object.defineProperty(top.value, top.key, { value, writable: true, enumerable: true, configurable: true });
        } else {
          top.value.push(value);
        }
        this.#skipWhitespace();
        const next = this.#code();
        if (next === COMMA) {
          this.#pos++;
          if (top.kind === 'object') {
            this.#skipWhitespace();
            this.#parseKey(top);
          }
          break;
        }
        if (next === (top.kind === 'object' ? CLOSE_BRACE : CLOSE_BRACKET)) {
          this.#pos++;
          this.#stack.pop();
          value = top.value;
          continue;
        }
        throw this.#error(top.kind === 'object' ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    }
  }

  /** Reads `"key" :` into `frame.key`, refusing unsafe and duplicate keys. */
  #parseKey(frame: ObjectFrame): void {
    const at = this.#pos;
    if (this.#code() !== QUOTE) throw this.#error('expected a string key');
    const key = this.#parseString();
    if (UNSAFE_KEYS.has(key)) {
      const { line, column } = positionAt(this.#text, at);
      throw new UnsafeKeyError(this.#source, key, this.#pointer(), line, column);
    }
    if (Object.hasOwn(frame.value, key)) {
      throw this.#error(`duplicate key ${JSON.stringify(key)} in ${this.#pointer() || '/'}`, at);
    }
    frame.key = key;
    this.#skipWhitespace();
    if (this.#code() !== COLON) throw this.#error("expected ':' after a key");
    this.#pos++;
  }

  #parseScalar(): unknown {
    const c = this.#code();
    if (c === QUOTE) return this.#parseString();
    if (c === MINUS || (c >= ZERO && c <= NINE)) return this.#parseNumber();
    if (this.#text.startsWith('true', this.#pos)) return this.#literal(4, true);
    if (this.#text.startsWith('false', this.#pos)) return this.#literal(5, false);
    if (this.#text.startsWith('null', this.#pos)) return this.#literal(4, null);
    if (Number.isNaN(c)) throw this.#error('unexpected end of input');
    throw this.#error(`unexpected character ${describeChar(this.#text, this.#pos)}`);
  }

  #literal<T>(length: number, value: T): T {
    this.#pos += length;
    return value;
  }

  #parseNumber(): number {
    const text = this.#text;
    const start = this.#pos;
    let i = start;
    if (text.charCodeAt(i) === MINUS) i++;
    if (text.charCodeAt(i) === ZERO) {
      i++;
    } else if (isDigit(text.charCodeAt(i))) {
      while (isDigit(text.charCodeAt(i))) i++;
    } else {
      throw this.#error('expected a digit', i);
    }
    if (text.charCodeAt(i) === DOT) {
      i++;
      if (!isDigit(text.charCodeAt(i))) throw this.#error('expected a digit after the decimal point', i);
      while (isDigit(text.charCodeAt(i))) i++;
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const sign = text.charCodeAt(i);
      if (sign === 0x2b || sign === MINUS) i++;
      if (!isDigit(text.charCodeAt(i))) throw this.#error('expected a digit in the exponent', i);
      while (isDigit(text.charCodeAt(i))) i++;
    }
    const value = Number(text.slice(start, i));
    // JSON has no Infinity: a literal like 1e400 would silently become one (and then
    // `null` when the config is serialised for its digest). RFC 8259 §6 allows a limit.
    if (!Number.isFinite(value)) throw this.#error('number out of range', start);
    this.#pos = i;
    return value;
  }

  #parseString(): string {
    const text = this.#text;
    let i = this.#pos + 1;
    let out = '';
    let chunkStart = i;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) break;
      if (Number.isNaN(c)) throw this.#error('unterminated string', i);
      if (c < SPACE) throw this.#error('control character in a string (escape it)', i);
      if (c !== BACKSLASH) {
        i++;
        continue;
      }
      out += text.slice(chunkStart, i);
      const escape = text.charAt(i + 1);
      if (escape === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.#error('invalid \\u escape', i);
        out += String.fromCharCode(Number.parseInt(hex, 16));
        i += 6;
      } else {
        const decoded = Object.hasOwn(ESCAPES, escape) ? ESCAPES[escape] : undefined;
        if (decoded === undefined) throw this.#error('invalid escape', i);
        out += decoded;
        i += 2;
      }
      chunkStart = i;
    }
    out += text.slice(chunkStart, i);
    this.#pos = i + 1;
    return out;
  }

  #skipWhitespace(): void {
    const text = this.#text;
    let i = this.#pos;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c !== SPACE && c !== LF && c !== CR && c !== TAB) break;
      i++;
    }
    this.#pos = i;
  }

  /** The code unit at #pos, or NaN at the end. */
  #code(): number {
    return this.#text.charCodeAt(this.#pos);
  }

  /** JSON Pointer (RFC 6901) of the innermost open container. */
  #pointer(): string {
    let pointer = '';
    // Each frame's child position is its current key (object) or its next index (array).
    for (let i = 0; i < this.#stack.length - 1; i++) {
      const frame = this.#stack[i];
      if (frame === undefined) break;
      const token = frame.kind === 'object' ? frame.key : String(frame.value.length);
      pointer += `/${escapeKey(token)}`;
    }
    return pointer;
  }

  #error(message: string, index = this.#pos): ParseError {
    const { line, column } = positionAt(this.#text, index);
    return new ParseError(this.#source, withCommentHint(this.#text, index, message), line, column);
  }
}

/**
 * `message`, and when the text has a comment at `index`, why a comment fails: config files
 * are often JSON with comments, and "expected ',' or '}'" alone does not say so.
 */
function withCommentHint(text: string, index: number, message: string): string {
  if (text.charCodeAt(index) !== SLASH) return message;
  const next = text.charCodeAt(index + 1);
  if (next !== SLASH && next !== STAR) return message;
  return `${message}, found a comment: JSON has no comments (a .json5 file may have them)`;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function describeChar(text: string, index: number): string {
  const char = String.fromCodePoint(text.codePointAt(index) ?? 0);
  return JSON.stringify(char);
}
