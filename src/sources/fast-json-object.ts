/**
 * The fast path of config parsing: V8's `JSON.parse`, then the checks of the full parser
 * that a parsed value can still answer, and nothing else. It only ever *accepts*: for
 * any text it cannot vouch for (invalid JSON, a root that is not an object, nesting past
 * the limit, an unsafe key, a number out of range, a duplicate key) it returns
 * `undefined`, and the full parser (parse-json-object.ts) parses the text again and
 * reports the problem with its line and column. So every error, and every check the full
 * parser makes, stays exactly as it was; a valid file costs about 1.5x `JSON.parse`
 * instead of about 5x.
 *
 * Why the result equals the full parser's: both follow RFC 8259 (`JSON.parse` is
 * ECMA-404, the same grammar), both build plain objects by defining data properties (no
 * setter runs; `__proto__` would be an own key, and is refused here anyway), both turn
 * number text into a Number the same way, and both accept lone surrogates in `\u`
 * escapes. What `JSON.parse` does not check is checked on the result (depth, unsafe
 * keys, non-finite numbers) or on the text (duplicate keys, {@link keyBound}).
 */

import { UNSAFE_KEYS } from '../json/plain-object.js';

// Taken once: a host application that replaces JSON.parse later cannot change what we parse with.
const jsonParse = JSON.parse;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/**
 * `text` parsed as one JSON object, or `undefined` when the full parser must decide.
 * @param maxDepth - containers that may be open at once; the root object counts 1
 */
export function fastJsonObject(text: string, maxDepth: number): Record<string, unknown> | undefined {
  return checkParsed(parseOrUndefined(text), text, maxDepth);
}

/** `JSON.parse(text)`, or `undefined` when it throws. The first half of {@link fastJsonObject}. */
export function parseOrUndefined(text: string): unknown {
  try {
    return jsonParse(text);
  } catch {
    // Invalid JSON, or nesting deep enough to exhaust JSON.parse's stack: the full parser
    // finds the position and the reason.
    return undefined;
  }
}

/**
 * The second half of {@link fastJsonObject}: `value` (what {@link parseOrUndefined} made
 * of `text`) when it passes every check the full parser makes, else `undefined`.
 */
export function checkParsed(value: unknown, text: string, maxDepth: number): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const members = countMembers(value, maxDepth);
  // JSON.parse keeps the last of duplicate keys: the parsed objects then hold fewer
  // members than the text names keys. keyBound is cheap and exact for most texts; when it
  // counts more (a string starting with a colon, as in ":8080"), the exact count decides.
  if (members === undefined || (members !== keyBound(text) && members !== countKeys(text))) return undefined;
  return value as Record<string, unknown>;
}

/**
 * The members of every object in `root` (parsed JSON), or `undefined` when a container
 * is nested deeper than `maxDepth`, a key is unsafe or a number is not finite.
 */
function countMembers(root: object, maxDepth: number): number | undefined {
  let members = 0;
  // Containers still to visit, each followed by its depth; depth first, without recursion.
  const stack: unknown[] = [root, 1];
  while (stack.length > 0) {
    const depth = stack.pop() as number;
    const container = stack.pop() as object;
    if (depth > maxDepth) return undefined;
    if (Array.isArray(container)) {
      for (const item of container as unknown[]) {
        if (typeof item === 'object' && item !== null) stack.push(item, depth + 1);
        else if (typeof item === 'number' && !Number.isFinite(item)) return undefined;
      }
      continue;
    }
    const record = container as Record<string, unknown>;
    const keys = Object.keys(record);
    members += keys.length;
    for (const key of keys) {
      if (UNSAFE_KEYS.has(key)) return undefined;
      const item = record[key];
      if (typeof item === 'object' && item !== null) stack.push(item, depth + 1);
      else if (typeof item === 'number' && !Number.isFinite(item)) return undefined;
    }
  }
  return members;
}

/**
 * At least the number of object keys valid JSON `text` names, and exactly that number
 * unless a string starts with a colon (`":8080"`) or holds an escaped quote before one
 * (`"a\\":b"`). It counts the colons whose previous character, white space skipped, is a
 * quote: every key ends with its closing quote, optional white space and its colon, so no
 * key is missed; the only other colons so preceded are inside strings. Counting more is
 * safe (the exact {@link countKeys} then decides); counting fewer never happens, so
 * equal counts prove there was no duplicate key. One `indexOf` per colon: much cheaper
 * than a walk over every string.
 */
export function keyBound(text: string): number {
  let keys = 0;
  for (let colon = text.indexOf(':'); colon !== -1; colon = text.indexOf(':', colon + 1)) {
    let before = colon - 1;
    let code = text.charCodeAt(before);
    while (code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09) code = text.charCodeAt(--before);
    if (code === QUOTE) keys++;
  }
  return keys;
}

/**
 * Exactly the number of object keys valid JSON `text` names: string tokens followed,
 * after white space, by a colon (in valid JSON a quote outside a string opens one, and
 * only a key is followed by a colon). Strings are skipped with `indexOf`, escaped quotes
 * found by counting the backslashes before them.
 */
export function countKeys(text: string): number {
  let keys = 0;
  for (let open = text.indexOf('"'); open !== -1; ) {
    let close = text.indexOf('"', open + 1);
    while (close !== -1 && isEscaped(text, close)) close = text.indexOf('"', close + 1);
    if (close === -1) return -1;
    let next = close + 1;
    let code = text.charCodeAt(next);
    while (code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09) code = text.charCodeAt(++next);
    if (code === COLON) keys++;
    open = text.indexOf('"', next);
  }
  return keys;
}

/** True when the quote at `index` is escaped: an odd number of backslashes before it. */
function isEscaped(text: string, index: number): boolean {
  let backslashes = 0;
  for (let i = index - 1; text.charCodeAt(i) === BACKSLASH; i--) backslashes++;
  return (backslashes & 1) === 1;
}
