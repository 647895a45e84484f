/** A Node-style system error with `code` (`EIO`, `ENOSPC`, …), for faults injected through a seam. */
export function errnoError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected`), { code });
}
