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
