/**
 * YAML tags and scalars, the YAML 1.2 core schema way, written out here rather than taken
 * from the parser: which tags a config may carry (the core ones only, so no tag ever makes
 * an object, a function, a date or bytes), and what a scalar's text stands for (null,
 * a boolean, a number that JSON can hold, or text).
 *
 * Internal to the YAML reader.
 */

/** The prefix of the standard tags (the `!!` handle). */
export const CORE_TAG_PREFIX = 'tag:yaml.org,2002:';

/** The non-specific tag `!`: a scalar is text, a collection is what it is. */
export const NON_SPECIFIC_TAG = '!';

/** What a scalar's text stands for, or why it cannot be read. */
export type ScalarResult = { readonly value: unknown } | { readonly problem: string };

/** How a scalar is read: by its plain form, or by an explicit core tag. */
export type ScalarKind = 'plain' | 'str' | 'null' | 'bool' | 'int' | 'float';

const SCALAR_KINDS: ReadonlySet<string> = new Set(['str', 'null', 'bool', 'int', 'float']);

// YAML 1.2.2 §10.3.2, the core schema's regular expressions.
const NULL = /^(?:null|Null|NULL|~|)$/;
const TRUE = /^(?:true|True|TRUE)$/;
const FALSE = /^(?:false|False|FALSE)$/;
const DECIMAL_INT = /^[-+]?[0-9]+$/;
const OCTAL_INT = /^0o[0-7]+$/;
const HEX_INT = /^0x[0-9a-fA-F]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const INFINITY = /^[-+]?\.(?:inf|Inf|INF)$/;
const NOT_A_NUMBER = /^\.(?:nan|NaN|NAN)$/;
const MAY_NOT_BE_TEXT = /^[-+.0-9~nNtTfF]/;

/**
 * The full name of a tag as written (`!!str`, `!<tag:yaml.org,2002:str>`, `!local`,
 * `!e!name`), with the document's `%TAG` handles; `!` stays `!`.
 */
export function resolveTag(written: string, handles: ReadonlyMap<string, string>): string {
  if (written === NON_SPECIFIC_TAG) return written;
  if (written.startsWith('!<') && written.endsWith('>')) return decodeTag(written.slice(2, -1));
  const match = /^(!(?:[0-9A-Za-z-]*!)?)(.*)$/s.exec(written);
  if (match === null) return written;
  const handle = match[1] as string;
  const defaultPrefix = handle === '!!' ? CORE_TAG_PREFIX : handle === '!' ? '!' : undefined;
  const prefix = handles.get(handle) ?? defaultPrefix;
  return prefix === undefined ? written : decodeTag(prefix + (match[2] as string));
}

/** How a scalar with the tag `tag` (full name, or none) is read; `undefined` for a tag we refuse. */
export function scalarKindOfTag(tag: string | undefined, plain: boolean): ScalarKind | undefined {
  if (tag === undefined) return plain ? 'plain' : 'str';
  if (tag === NON_SPECIFIC_TAG) return 'str';
  if (!tag.startsWith(CORE_TAG_PREFIX)) return undefined;
  const name = tag.slice(CORE_TAG_PREFIX.length);
  return SCALAR_KINDS.has(name) ? (name as ScalarKind) : undefined;
}

/** Whether a collection may carry the tag `tag` (full name): `!`, or `!!map` / `!!seq` on its own kind. */
export function isCollectionTag(tag: string, kind: 'map' | 'seq'): boolean {
  return tag === NON_SPECIFIC_TAG || tag === CORE_TAG_PREFIX + kind;
}

/** What the scalar text `text` stands for, read as `kind`. */
export function resolveScalar(text: string, kind: ScalarKind): ScalarResult {
  switch (kind) {
    case 'str':
      return { value: text };
    case 'null':
      return NULL.test(text) ? { value: null } : { problem: `${JSON.stringify(text)} is not null` };
    case 'bool':
      return TRUE.test(text) ? { value: true } : FALSE.test(text) ? { value: false } : { problem: `${JSON.stringify(text)} is not a boolean` };
    case 'int':
      return resolveInteger(text) ?? { problem: `${JSON.stringify(text)} is not an integer` };
    case 'float':
      return resolveInteger(text) ?? resolveFloat(text) ?? { problem: `${JSON.stringify(text)} is not a number` };
    case 'plain':
      // Most plain scalars are text: one look at the first character rules out every
      // other type for them (null, booleans and numbers start with one of these).
      if (text !== '' && !MAY_NOT_BE_TEXT.test(text)) return { value: text };
      if (NULL.test(text)) return { value: null };
      if (TRUE.test(text)) return { value: true };
      if (FALSE.test(text)) return { value: false };
      return resolveInteger(text) ?? resolveFloat(text) ?? { value: text };
  }
}

function resolveInteger(text: string): ScalarResult | undefined {
  let value: number;
  if (DECIMAL_INT.test(text)) value = Number(text);
  else if (OCTAL_INT.test(text)) value = Number.parseInt(text.slice(2), 8);
  else if (HEX_INT.test(text)) value = Number.parseInt(text.slice(2), 16);
  else return undefined;
  // A JavaScript number holds integers exactly up to 2^53 - 1; past it, 9007199254740993
  // would silently become ...992. Text keeps every digit.
  if (!Number.isSafeInteger(value)) return { problem: `the integer ${text} is beyond what a JavaScript number holds exactly (2^53 - 1): quote it to keep it as text` };
  return { value };
}

function resolveFloat(text: string): ScalarResult | undefined {
  if (INFINITY.test(text) || NOT_A_NUMBER.test(text)) return { problem: `${text} is not JSON data: write a finite number` };
  if (!FLOAT.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? { value } : { problem: `the number ${text} is out of range` };
}

/** A tag's URI escapes decoded (`%21` is `!`); left as written when they do not decode. */
function decodeTag(tag: string): string {
  if (!tag.includes('%')) return tag;
  try {
    return decodeURIComponent(tag);
  } catch {
    // Not UTF-8 escapes: the tag cannot name a core type, and the error shows it as written.
    return tag;
  }
}
