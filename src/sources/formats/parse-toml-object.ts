/**
 * TOML config files, read by smol-toml (TOML 1.0): it refuses duplicate keys and tables
 * defined twice (with their line and column), builds objects without prototypes (a
 * `__proto__` key stays inert), bounds inline nesting, and refuses integers a JavaScript
 * number cannot hold exactly. Its result is then copied into plain JSON data with our own
 * checks: no prototype keys, finite numbers, the nesting limit (dotted keys and tables
 * included), dates and times as the ISO 8601 text they were written as.
 *
 * smol-toml reports no position for a value, so neither do errors found in the copy: they
 * name the value's JSON Pointer instead (docs/formats.md).
 *
 * Internal: parse-config-format.ts is the entry point.
 */
import { ParseError, UnsafeKeyError } from '../../errors.js';
import { toPointer } from '../../json/json-pointer.js';
import { UNSAFE_KEYS, setMember } from '../../json/plain-object.js';
import type { ParserPackage } from './parser-loader.js';
import { causeWithoutText } from './parser-cause.js';

/** The part of smol-toml the TOML reader calls. */
export interface TomlParser {
  parse(text: string, options: { readonly maxDepth: number }): unknown;
}

/** smol-toml, as the TOML reader uses it. */
export const SMOL_TOML: ParserPackage<TomlParser> = {
  name: 'smol-toml',
  feature: 'reading TOML files',
  check: (module) => (typeof (module as Partial<TomlParser> | null)?.parse === 'function' ? (module as TomlParser) : 'the installed smol-toml has no parse function'),
};

/** Options of {@link parseTomlObject}. */
export interface TomlParseOptions {
  /** Names the text in errors (a file path). */
  readonly source: string;
  /** Containers (tables and arrays) that may be open at once; the root table counts 1. */
  readonly maxDepth: number;
}

/**
 * What smol-toml makes of `text`.
 * @throws {ParseError} `ERR_PARSE` at smol-toml's line and column; `cause` is its error without the lines it quotes
 */
export function tomlValueOf(toml: TomlParser, text: string, options: TomlParseOptions): unknown {
  try {
    return toml.parse(text, { maxDepth: options.maxDepth });
  } catch (error) {
    const { line, column } = error as { line?: unknown; column?: unknown };
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    const known = typeof line === 'number' && typeof column === 'number' && line >= 1 && column >= 1;
    const reason = message.replace(/^Invalid TOML document: /, '');
    throw new ParseError(options.source, `not TOML: ${reason}`, known ? line : 1, known ? column : 1, { cause: causeWithoutText(error, reason) });
  }
}

/**
 * Copies what smol-toml made of a text into plain JSON data.
 *
 * @throws {ParseError} `ERR_PARSE` at line 1, column 1, naming the value's pointer:
 *   `inf` or `nan`, nesting deeper than `maxDepth`, a value of a kind TOML does not have.
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY`, without a position: a `__proto__`,
 *   `constructor` or `prototype` key.
 */
export function tomlToJson(parsed: unknown, options: TomlParseOptions): Record<string, unknown> {
  if (!isTable(parsed)) throw new ParseError(options.source, 'the TOML parser returned no table', 1, 1);
  return copyTable(parsed, [], options);
}

function copyTable(table: object, path: string[], options: TomlParseOptions): Record<string, unknown> {
  if (path.length >= options.maxDepth) throw nestingError(path, options);
  const copy: Record<string, unknown> = {};
  const members = table as Record<string, unknown>;
  // for-in is twice as fast as Object.entries here; the own-key check keeps out anything
  // enumerable on a prototype (smol-toml's tables have none).
  for (const key in members) {
    if (!Object.hasOwn(members, key)) continue;
    if (UNSAFE_KEYS.has(key)) throw new UnsafeKeyError(options.source, key, toPointer(path));
    path.push(key);
    setMember(copy, key, copyValue(members[key], path, options));
    path.pop();
  }
  return copy;
}

function copyValue(value: unknown, path: string[], options: TomlParseOptions): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new ParseError(options.source, `the value at ${toPointer(path)} is ${String(value)}: JSON data has no inf or nan`, 1, 1);
      return value;
    default:
  }
  if (Array.isArray(value)) {
    if (path.length >= options.maxDepth) throw nestingError(path, options);
    const items: unknown[] = new Array(value.length);
    for (let index = 0; index < value.length; index++) {
      path.push(String(index));
      items[index] = copyValue(value[index], path, options);
      path.pop();
    }
    return items;
  }
  // smol-toml's TomlDate: its toISOString keeps the form written (a local date stays
  // `1979-05-27`, an offset keeps its offset), to the millisecond.
  if (value instanceof Date) return value.toISOString();
  if (isTable(value)) return copyTable(value, path, options);
  throw new ParseError(options.source, `the value at ${toPointer(path)} is not JSON data (${typeof value})`, 1, 1);
}

/** A table as smol-toml makes it: an object without a prototype (or a plain one). */
function isTable(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === null || prototype === Object.prototype;
}

function nestingError(path: readonly string[], options: TomlParseOptions): ParseError {
  const pointer = toPointer(path);
  const shown = pointer.length > 100 ? `${pointer.slice(0, 100)}…` : pointer;
  return new ParseError(options.source, `nesting deeper than ${options.maxDepth} levels at ${shown}`, 1, 1);
}
