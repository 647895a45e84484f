import { createHash } from 'node:crypto';
import { isCheckedJson } from './checked-json.js';

// Canonical JSON text of every checked node (a snapshot's) already serialised, up to
// CACHED_TEXT_LIMIT characters. A checked node is frozen all the way down, so its text
// never goes stale; unchanged subtrees shared between generations are therefore
// serialised once, not on every reload. A node that is merely frozen is not enough: its
// children may still change.
const cache = new WeakMap<object, string>();

/**
 * Texts longer than this are not cached. The nodes on the path to a changed leaf are new
 * in every generation; caching the text of the big ones (the root is the whole config)
 * would keep a full copy of the config's text alive per retained generation, which
 * defeats structural sharing. Rebuilding a big node's text from its children's cached
 * texts is a concatenation, cheap next to hashing it.
 */
export const CACHED_TEXT_LIMIT = 16 * 1024;

/**
 * JSON text with object keys sorted by UTF-16 code unit order and no white space.
 * Properties whose value is `undefined` are left out, as `JSON.stringify` does.
 * Expects JSON data (the store checks it before it gets here).
 */
export function canonicalJson(value: unknown): string {
  const text = smallText(value);
  if (text !== undefined) return text;
  const chunks: string[] = [];
  write(value, (chunk) => chunks.push(chunk));
  return chunks.join('');
}

/**
 * SHA-256 (lowercase hex) of the canonical JSON of `value`. The text of a big node is
 * fed to the hash in pieces (its children's cached texts) and never built whole: hashing
 * a freshly concatenated string costs twice as much as hashing its pieces.
 */
export function digestOf(value: unknown): string {
  const hash = createHash('sha256');
  write(value, (chunk) => hash.update(chunk, 'utf8'));
  return hash.digest('hex');
}

// Checked nodes whose text is known to exceed CACHED_TEXT_LIMIT: written in pieces.
const big = new WeakSet<object>();

/** Emits the canonical JSON of `value`, in pieces. */
function write(value: unknown, emit: (chunk: string) => void): void {
  const text = smallText(value);
  if (text !== undefined) {
    emit(text);
    return;
  }
  if (Array.isArray(value)) {
    emit('[');
    for (let index = 0; index < value.length; index++) {
      if (index > 0) emit(',');
      write(value[index], emit);
    }
    emit(']');
    return;
  }
  const record = value as Record<string, unknown>;
  let separator = '{';
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined) continue;
    emit(`${separator}${JSON.stringify(key)}:`);
    separator = ',';
    write(item, emit);
  }
  emit(separator === '{' ? '{}' : '}');
}

/**
 * The canonical JSON of `value` when it is at most CACHED_TEXT_LIMIT characters (cached
 * when the node is checked); `undefined` for a bigger object or array.
 */
function smallText(value: unknown): string | undefined {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const known = cache.get(value);
  if (known !== undefined) return known;
  const cacheable = isCheckedJson(value);
  if (cacheable && big.has(value)) return undefined;
  const parts: string[] = [];
  let length = 0;
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) {
      const part = smallText(item);
      if (part === undefined || (length += part.length + 1) > CACHED_TEXT_LIMIT) return tooBig(value, cacheable);
      parts.push(part);
    }
  } else {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record).sort()) {
      const item = record[key];
      if (item === undefined) continue;
      const part = smallText(item);
      if (part === undefined) return tooBig(value, cacheable);
      const member = `${JSON.stringify(key)}:${part}`;
      if ((length += member.length + 1) > CACHED_TEXT_LIMIT) return tooBig(value, cacheable);
      parts.push(member);
    }
  }
  const text = Array.isArray(value) ? `[${parts.join(',')}]` : `{${parts.join(',')}}`;
  if (cacheable) cache.set(value, text);
  return text;
}

/** Remembers that a checked node is too big to cache; returns `undefined`, the "too big" answer of smallText. */
function tooBig(value: object, cacheable: boolean): string | undefined {
  if (cacheable) big.add(value);
  return undefined;
}
