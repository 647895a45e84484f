/**
 * The tokens of JSON5 (https://spec.json5.org/, 1.0.0): white space and comments,
 * strings, numbers, unquoted keys and literals, read from a position in a text. The
 * structure (objects, arrays, keys) is parse-json5-object.ts's.
 *
 * Internal to the JSON5 reader.
 */
import { ParseError } from '../../errors.js';
import { positionAt } from '../text-position.js';

// Character codes, named so the scanner reads as the grammar.
const TAB = 0x09;
const LF = 0x0a;
const VT = 0x0b;
const FF = 0x0c;
const CR = 0x0d;
const SPACE = 0x20;
const DOUBLE_QUOTE = 0x22;
const DOLLAR = 0x24;
const SINGLE_QUOTE = 0x27;
const STAR = 0x2a;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const ZERO = 0x30;
const NINE = 0x39;
const BACKSLASH = 0x5c;
const UNDERSCORE = 0x5f;
const LINE_SEPARATOR = 0x2028;
const PARAGRAPH_SEPARATOR = 0x2029;

const SINGLE_ESCAPES: Readonly<Record<string, string>> = {
  "'": "'",
  '"': '"',
  '\\': '\\',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

// ECMAScript 5.1 §7.6: IdentifierStart then IdentifierParts, by Unicode category.
const IDENTIFIER = /^[\p{Lu}\p{Ll}\p{Lt}\p{Lm}\p{Lo}\p{Nl}$_][\p{Lu}\p{Ll}\p{Lt}\p{Lm}\p{Lo}\p{Nl}$_\p{Mn}\p{Mc}\p{Nd}\p{Pc}\u200C\u200D]*$/u;
// An identifier name, escapes included; the name is checked again once they are decoded.
const IDENTIFIER_NAME = /(?:[\p{Lu}\p{Ll}\p{Lt}\p{Lm}\p{Lo}\p{Nl}$_]|\\u[0-9a-fA-F]{4})(?:[\p{Lu}\p{Ll}\p{Lt}\p{Lm}\p{Lo}\p{Nl}$_\p{Mn}\p{Mc}\p{Nd}\p{Pc}\u200C\u200D]|\\u[0-9a-fA-F]{4})*/uy;

/** Reads JSON5 tokens from a text; every method reads at {@link Json5Scanner.pos} and moves it past what it read. */
export class Json5Scanner {
  readonly text: string;
  readonly #source: string;
  /** Index (UTF-16 code units) of the next unread character; never past the end. */
  pos = 0;

  /** @param source - names the text in errors */
  constructor(text: string, source: string) {
    this.text = text;
    this.#source = source;
  }

  /** An unquoted key: an ECMAScript 5.1 IdentifierName, `\u` escapes decoded. */
  identifier(): string {
    const text = this.text;
    const start = this.pos;
    let i = start;
    // The common case, plain ASCII, without a regular expression.
    for (;;) {
      const c = text.charCodeAt(i);
      if (isAsciiLetter(c) || c === DOLLAR || c === UNDERSCORE || (i > start && isDigit(c))) i++;
      else break;
    }
    const stop = text.charCodeAt(i);
    if (i > start && stop !== BACKSLASH && !(stop >= 0x80)) {
      this.pos = i;
      return text.slice(start, i);
    }
    IDENTIFIER_NAME.lastIndex = start;
    const match = IDENTIFIER_NAME.exec(text);
    if (match === null) {
      if (Number.isNaN(text.charCodeAt(start))) throw this.error('unexpected end of input');
      throw this.error(`expected a key (a string or an identifier), found ${describeChar(text, start)}`);
    }
    const name = match[0];
    this.pos = start + name.length;
    if (!name.includes('\\')) return name;
    const decoded = name.replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    // An escape must stand for a character the identifier could hold unescaped.
    if (!IDENTIFIER.test(decoded)) {
      throw this.error('an escape in an unquoted key stands for a character no identifier may hold', start);
    }
    return decoded;
  }
  /** A string, a number or a literal. */
  scalar(): unknown {
    const c = this.code();
    if (c === DOUBLE_QUOTE || c === SINGLE_QUOTE) return this.string();
    if (c === MINUS || c === PLUS || c === DOT || isDigit(c)) return this.#number();
    if (this.text.startsWith('Infinity', this.pos) || this.text.startsWith('NaN', this.pos)) return this.#number();
    if (this.text.startsWith('true', this.pos)) return this.#literal(4, true);
    if (this.text.startsWith('false', this.pos)) return this.#literal(5, false);
    if (this.text.startsWith('null', this.pos)) return this.#literal(4, null);
    if (Number.isNaN(c)) throw this.error('unexpected end of input');
    throw this.error(`unexpected character ${describeChar(this.text, this.pos)}`);
  }
  #literal<T>(length: number, value: T): T {
    this.pos += length;
    return value;
  }
  #number(): number {
    const text = this.text;
    const start = this.pos;
    let i = start;
    const sign = text.charCodeAt(i);
    if (sign === PLUS || sign === MINUS) i++;
    if (text.startsWith('Infinity', i) || text.startsWith('NaN', i)) {
      // JSON5 has them; JSON data does not: the digest of a config serialises it as JSON,
      // where both would silently become null.
      throw this.error('Infinity and NaN are not JSON data: write a finite number', start);
    }
    let value: number;
    const c = text.charCodeAt(i);
    if (c === ZERO && (text.charCodeAt(i + 1) | 0x20) === 0x78 /* x */) {
      i += 2;
      const digitsStart = i;
      while (isHexDigit(text.charCodeAt(i))) i++;
      if (i === digitsStart) throw this.error('expected a hexadecimal digit', i);
      value = Number.parseInt(text.slice(digitsStart, i), 16);
      if (sign === MINUS) value = -value;
    } else {
      let digits = 0;
      if (c === ZERO) {
        i++;
        digits = 1;
        if (isDigit(text.charCodeAt(i))) throw this.error('a number may not start with 0', i);
      } else {
        while (isDigit(text.charCodeAt(i))) {
          i++;
          digits++;
        }
      }
      if (text.charCodeAt(i) === DOT) {
        i++;
        while (isDigit(text.charCodeAt(i))) {
          i++;
          digits++;
        }
      }
      if (digits === 0) throw this.error('expected a digit', i);
      const e = text.charCodeAt(i);
      if (e === 0x65 || e === 0x45) {
        i++;
        const expSign = text.charCodeAt(i);
        if (expSign === PLUS || expSign === MINUS) i++;
        if (!isDigit(text.charCodeAt(i))) throw this.error('expected a digit in the exponent', i);
        while (isDigit(text.charCodeAt(i))) i++;
      }
      value = Number(text.slice(start, i));
    }
    if (!Number.isFinite(value)) throw this.error('number out of range', start);
    this.pos = i;
    return value;
  }
  /** A single- or double-quoted string. */
  string(): string {
    const text = this.text;
    const quote = text.charCodeAt(this.pos);
    let i = this.pos + 1;
    let out = '';
    let chunkStart = i;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === quote) break;
      if (Number.isNaN(c)) throw this.error('unterminated string', i);
      if (c === LF || c === CR) throw this.error('unterminated string (a line break inside a string must be escaped)', i);
      if (c !== BACKSLASH) {
        i++;
        continue;
      }
      out += text.slice(chunkStart, i);
      i = this.#escape(i, (decoded) => {
        out += decoded;
      });
      chunkStart = i;
    }
    out += text.slice(chunkStart, i);
    this.pos = i + 1;
    return out;
  }
  /** Decodes the escape at `i` (its backslash) into `emit`; returns the index after it. */
  #escape(i: number, emit: (decoded: string) => void): number {
    const text = this.text;
    const escape = text.charAt(i + 1);
    const single = Object.hasOwn(SINGLE_ESCAPES, escape) ? SINGLE_ESCAPES[escape] : undefined;
    if (single !== undefined) {
      emit(single);
      return i + 2;
    }
    const code = escape.charCodeAt(0);
    if (escape === '0') {
      if (isDigit(text.charCodeAt(i + 2))) throw this.error('invalid escape: \\0 followed by a digit', i);
      emit('\0');
      return i + 2;
    }
    if (isDigit(code)) throw this.error('invalid escape: octal escapes are not JSON5', i);
    if (escape === 'x' || escape === 'u') {
      const length = escape === 'x' ? 2 : 4;
      const hex = text.slice(i + 2, i + 2 + length);
      if (!(escape === 'x' ? /^[0-9a-fA-F]{2}$/ : /^[0-9a-fA-F]{4}$/).test(hex)) throw this.error(`invalid \\${escape} escape`, i);
      emit(String.fromCharCode(Number.parseInt(hex, 16)));
      return i + 2 + length;
    }
    // A line continuation: the backslash and the line break stand for nothing.
    if (code === CR) return text.charCodeAt(i + 2) === LF ? i + 3 : i + 2;
    if (code === LF || code === LINE_SEPARATOR || code === PARAGRAPH_SEPARATOR) return i + 2;
    if (escape === '') throw this.error('unterminated string', i + 1);
    // Any other character stands for itself (`\/`, `\a`); a surrogate pair's second half
    // is read with the text that follows.
    emit(escape);
    return i + 2;
  }
  /** Skips white space (JSON5's, Unicode's Zs included) and comments. */
  skipVoid(): void {
    const text = this.text;
    let i = this.pos;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === SPACE || c === LF || c === CR || c === TAB || c === VT || c === FF) {
        i++;
      } else if (c === SLASH) {
        const next = text.charCodeAt(i + 1);
        if (next === SLASH) {
          i += 2;
          while (i < text.length && !isLineTerminator(text.charCodeAt(i))) i++;
        } else if (next === STAR) {
          const end = text.indexOf('*/', i + 2);
          if (end < 0) throw this.error('unterminated comment', i);
          i = end + 2;
        } else {
          break;
        }
      } else if (c >= 0x80 && isUnicodeSpace(c)) {
        i++;
      } else {
        break;
      }
    }
    this.pos = i;
  }
  /** The code unit at #pos, or NaN at the end. */
  code(): number {
    return this.text.charCodeAt(this.pos);
  }
  /** A ParseError at `index` (default: here). */
  error(message: string, index = this.pos): ParseError {
    const { line, column } = positionAt(this.text, index);
    return new ParseError(this.#source, message, line, column);
  }
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

function isAsciiLetter(c: number): boolean {
  return (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
}

function isLineTerminator(c: number): boolean {
  return c === LF || c === CR || c === LINE_SEPARATOR || c === PARAGRAPH_SEPARATOR;
}

/** JSON5's white space beyond ASCII: NBSP, BOM, the line and paragraph separators, and Unicode Zs. */
function isUnicodeSpace(c: number): boolean {
  return (
    c === 0xa0 ||
    c === 0xfeff ||
    c === LINE_SEPARATOR ||
    c === PARAGRAPH_SEPARATOR ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

function describeChar(text: string, index: number): string {
  return JSON.stringify(String.fromCodePoint(text.codePointAt(index) ?? 0));
}
