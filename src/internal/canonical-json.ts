import { createHash } from 'node:crypto';

// Canonical JSON text of every frozen object or array already serialised. A frozen node
// never changes, so its text never goes stale; unchanged subtrees shared between
// generations are therefore serialised once, not on every reload.
const cache = new WeakMap<object, string>();

/**
 * JSON text with object keys sorted by UTF-16 code unit order and no white space.
 * Properties whose value is `undefined` are left out, as `JSON.stringify` does.
 * Expects JSON data (the store checks it before it gets here).
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const known = cache.get(value);
  if (known !== undefined) return known;
  let text: string;
  if (Array.isArray(value)) {
    text = `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  } else {
    const record = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const item = record[key];
      if (item === undefined) continue;
      parts.push(`${JSON.stringify(key)}:${canonicalJson(item)}`);
    }
    text = `{${parts.join(',')}}`;
  }
  if (Object.isFrozen(value)) cache.set(value, text);
  return text;
}

/** SHA-256 (lowercase hex) of the canonical JSON of `value`. */
export function digestOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex');
}
