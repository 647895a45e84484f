/**
 * Line and column of an index in a text, as the JSON reader reports them: 1-based, lines
 * ended by CRLF, LF or CR, columns counted in characters (a surrogate pair is one).
 */

/** A 1-based line and column. */
export interface TextPosition {
  readonly line: number;
  readonly column: number;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * The position of `index` (UTF-16 code units) in `text`. Linear in `index`: call it for an
 * error or a lookup, never per value.
 */
export function positionAt(text: string, index: number): TextPosition {
  const end = Math.max(0, Math.min(index, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === LF || (c === CR && text.charCodeAt(i + 1) !== LF)) {
      line++;
      lineStart = i + 1;
    }
  }
  let column = 1;
  for (let i = lineStart; i < end; i++) {
    const c = text.charCodeAt(i);
    // The second half of a surrogate pair is the same character as the first.
    if (c >= 0xdc00 && c <= 0xdfff && i > lineStart && isHighSurrogate(text.charCodeAt(i - 1))) continue;
    column++;
  }
  return { line, column };
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
