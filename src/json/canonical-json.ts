import { hash } from 'node:crypto';
import { isCheckedJson } from './checked-json.js';

/**
 * Objects and arrays whose canonical JSON is longer than this many bytes of UTF-8 are
 * *large*: {@link digestOf} hashes them as a tree, naming each large child by its own
 * digest. Anything up to this size is hashed as its canonical JSON text.
 */
export const INLINE_LIMIT = 256;

// The ref of every checked node met by digestOf: its canonical text when it is small, or
// `#` and its digest when it is large. A checked node is frozen all the way down, so
// neither ever goes stale; a node that is merely frozen is not enough (its children may
// still change), so nothing else is cached. Large nodes keep 65 characters here, never
// their text: a retained generation costs the texts of its small nodes, as many digests
// as it has large ones, and nothing of the nodes it shares with other generations.
const refs = new WeakMap<object, string>();

// Wide checked objects (more than WIDE members): their keys, sorted, the encoding of each
// member (`"key":ref`) and the digest of each run of RUN members, so that a copy that
// differs in a few members is encoded without sorting and encoding all the others again,
// and hashed by re-hashing only the runs that changed ({@link deriveDigest}). Costs three
// arrays per retained wide node; the strings are shared.
const entries = new WeakMap<object, Entries>();

interface Entries {
  readonly keys: readonly string[];
  readonly parts: readonly string[];
  readonly runs: readonly string[];
}

/**
 * Objects with more members than this are *wide*: encoded as the digests of runs of
 * {@link RUN} members, not member by member. Any such object is large.
 */
export const WIDE = 64;

/** Members in a run of a wide object. */
export const RUN = 64;

/**
 * JSON text with object keys sorted by UTF-16 code unit order and no white space.
 * Properties whose value is `undefined` are left out and `undefined` array items are
 * written `null`, as `JSON.stringify` does. Expects JSON data (the store checks it before
 * it gets here).
 */
export function canonicalJson(value: unknown): string {
  const chunks: string[] = [];
  write(value, chunks);
  return chunks.join('');
}

/**
 * The digest of a config: a SHA-256 tree hash of its canonical JSON, lowercase hex
 * (docs/decisions.md gives the definition and a reference implementation). For a value
 * whose canonical JSON is at most {@link INLINE_LIMIT} bytes it is the SHA-256 of that
 * text; a larger object or array is hashed with each large child replaced by `#` and the
 * child's digest. Key order never matters.
 *
 * Checked nodes (a snapshot's) remember their digest, so a config that shares all but
 * one path with the previous one costs hashing the large nodes on that path, each in
 * proportion to its number of members, whatever the size of the config.
 */
export function digestOf(value: unknown): string {
  const ref = refOf(value);
  return isDigestRef(ref) ? ref.slice(1) : sha256(ref);
}

/**
 * How a parent's encoding names `value`: its canonical JSON when `value` is not large,
 * `#` and its digest when it is. Cached for checked nodes.
 */
function refOf(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const known = refs.get(value);
  if (known !== undefined) return known;
  // Built from the children's refs: the text itself when every child is small, the
  // tree encoding (which then is what gets hashed) when one is large.
  const parts: string[] = [];
  let hasLargeChild = false;
  let encoding: string;
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) {
      const ref = refOf(item);
      hasLargeChild ||= isDigestRef(ref);
      parts.push(ref);
    }
    encoding = `[${parts.join(',')}]`;
  } else {
    const record = value as Record<string, unknown>;
    const keys: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const item = record[key];
      if (item === undefined) continue;
      const ref = refOf(item);
      hasLargeChild ||= isDigestRef(ref);
      keys.push(key);
      parts.push(`${JSON.stringify(key)}:${ref}`);
    }
    if (keys.length > WIDE) {
      const runs = runDigests(parts, 0, []);
      if (isCheckedJson(value)) entries.set(value, { keys, parts, runs });
      const ref = `#${sha256(wideEncoding(runs))}`;
      if (isCheckedJson(value)) refs.set(value, ref);
      return ref;
    }
    encoding = `{${parts.join(',')}}`;
  }
  // A parent is longer than any child, so a large child makes it large; otherwise
  // `encoding` is its text. UTF-8 takes at least one byte per UTF-16 code unit and at
  // most three, so only a text of 86 to 256 code units needs counting.
  const large =
    hasLargeChild ||
    encoding.length > INLINE_LIMIT ||
    (encoding.length * 3 > INLINE_LIMIT && Buffer.byteLength(encoding, 'utf8') > INLINE_LIMIT);
  const ref = large ? `#${sha256(encoding)}` : encoding;
  if (isCheckedJson(value)) refs.set(value, ref);
  return ref;
}

/**
 * Computes and remembers the digest of `node`, a checked object that equals `previous`
 * (a checked object) except for the members named in `changed` (set to other values,
 * added or removed): when `previous` is wide and its entries are known, from those
 * entries, in proportion to the changed members and one join and hash of the encoding,
 * without sorting or encoding the unchanged ones. The result is the one {@link digestOf}
 * gives; `changed` must name every member that differs (extra names cost a little).
 */
export function deriveDigest(node: Readonly<Record<string, unknown>>, previous: Readonly<Record<string, unknown>>, changed: Iterable<string>): void {
  const before = entries.get(previous);
  if (before === undefined || !isCheckedJson(node) || refs.has(node)) return;
  const keys = before.keys.slice();
  const parts = before.parts.slice();
  // Runs to hash again: those holding a member set in place, and every run from the first
  // member added or removed on (the runs after it shift).
  const touched = new Set<number>();
  let shiftedFrom = Infinity;
  for (const key of changed) {
    const item = Object.hasOwn(node, key) ? node[key] : undefined;
    const at = sortedIndex(keys, key);
    const present = keys[at] === key;
    if (item === undefined) {
      if (present) {
        keys.splice(at, 1);
        parts.splice(at, 1);
        shiftedFrom = Math.min(shiftedFrom, at);
      }
      continue;
    }
    const part = `${JSON.stringify(key)}:${refOf(item)}`;
    if (present) {
      parts[at] = part;
      touched.add(Math.floor(at / RUN));
    } else {
      keys.splice(at, 0, key);
      parts.splice(at, 0, part);
      shiftedFrom = Math.min(shiftedFrom, at);
    }
  }
  // A member fewer can leave a node no longer wide: then it is encoded as any node is.
  if (keys.length <= WIDE) return;
  // Runs from the first shift on are hashed again; before it, only the runs touched (a
  // shift moves members at or after its index only, so those indexes are exact).
  const firstShifted = shiftedFrom === Infinity ? before.runs.length : Math.floor(shiftedFrom / RUN);
  const runs = runDigests(parts, firstShifted, before.runs.slice(0, firstShifted));
  for (const run of touched) if (run < firstShifted) runs[run] = sha256(parts.slice(run * RUN, (run + 1) * RUN).join(','));
  entries.set(node, { keys, parts, runs });
  refs.set(node, `#${sha256(wideEncoding(runs))}`);
}

/** The digests of the runs of `parts` from run `from` on, into `runs` (which holds the ones before). */
function runDigests(parts: readonly string[], from: number, runs: string[]): string[] {
  runs.length = Math.min(runs.length, from);
  for (let start = from * RUN; start < parts.length; start += RUN) runs.push(sha256(parts.slice(start, start + RUN).join(',')));
  return runs;
}

/** The encoding of a wide object: the digests of its runs. */
function wideEncoding(runs: readonly string[]): string {
  return `{#${runs.join(',#')}}`;
}

/** Where `key` is, or would go, in `keys` (sorted by UTF-16 code units, as `Array.prototype.sort` sorts). */
function sortedIndex(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((keys[middle] as string) < key) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** True for the ref of a large node: `#` cannot start JSON text. */
function isDigestRef(ref: string): boolean {
  return ref.charCodeAt(0) === 0x23;
}

/** SHA-256 of `text` as UTF-8, lowercase hex. The one-shot `hash` costs half of a `createHash` for the small pieces most nodes are. */
function sha256(text: string): string {
  return hash('sha256', text, 'hex');
}

/** Pushes the canonical JSON of `value`, in pieces, reusing the cached text of small checked nodes. */
function write(value: unknown, chunks: string[]): void {
  if (value === undefined) {
    chunks.push('null');
    return;
  }
  if (value === null || typeof value !== 'object') {
    chunks.push(JSON.stringify(value));
    return;
  }
  const known = refs.get(value);
  if (known !== undefined && !isDigestRef(known)) {
    chunks.push(known);
    return;
  }
  if (Array.isArray(value)) {
    chunks.push('[');
    for (let index = 0; index < value.length; index++) {
      if (index > 0) chunks.push(',');
      write(value[index], chunks);
    }
    chunks.push(']');
    return;
  }
  const record = value as Record<string, unknown>;
  let separator = '{';
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined) continue;
    chunks.push(`${separator}${JSON.stringify(key)}:`);
    separator = ',';
    write(item, chunks);
  }
  chunks.push(separator === '{' ? '{}' : '}');
}
