/**
 * JSON Pointers (RFC 6901): the one place keys are escaped (`~` as `~0`, `/` as `~1`).
 * Every path txconfig reports (validation issues, changes, sensitive paths) is one.
 */

/** The JSON Pointer of a path of keys from the root; `''` is the root itself. */
export function toPointer(path: readonly (string | number)[]): string {
  let pointer = '';
  for (const key of path) pointer += `/${escapeKey(String(key))}`;
  return pointer;
}

/** One key, escaped for a JSON Pointer. */
export function escapeKey(key: string): string {
  return key.includes('~') || key.includes('/') ? key.replace(/~/g, '~0').replace(/\//g, '~1') : key;
}

/**
 * The keys of a JSON Pointer, unescaped; `undefined` when `pointer` is not one (it must be
 * `''` or start with `/`, and `~` must be followed by `0` or `1`).
 */
export function parsePointer(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  const keys = pointer.slice(1).split('/');
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index] as string;
    if (!key.includes('~')) continue;
    if (/~(?![01])/.test(key)) return undefined;
    keys[index] = key.replace(/~1/g, '/').replace(/~0/g, '~');
  }
  return keys;
}

/** True when `pointer` or one of the pointers above it is in `paths` (`''` is above every one). */
export function isAtOrUnder(pointer: string, paths: ReadonlySet<string>): boolean {
  if (paths.has('') || paths.has(pointer)) return true;
  // Each prefix that ends before a `/` is a pointer above this one, escaped as it is.
  for (let end = pointer.indexOf('/', 1); end > 0; end = pointer.indexOf('/', end + 1)) if (paths.has(pointer.slice(0, end))) return true;
  return false;
}
