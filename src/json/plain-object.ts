/**
 * Plain objects: what counts as one, and how to give one a member without ever reaching
 * a prototype setter.
 */

/** True for plain objects: created by `{}`, `JSON.parse` or `Object.create(null)`. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Sets an own, enumerable member of a fresh plain object. Plain assignment (much faster)
 * when `key` is not a property of `Object.prototype`: then no setter and no read-only
 * property can be reached, even when the prototype was changed or frozen. Keys like
 * `__proto__`, `constructor` or `toString` go through defineProperty, so a key named
 * `__proto__` stays a plain key and never sets a prototype.
 */
export function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key in Object.prototype) Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** The keys that can pollute prototypes, refused with `ERR_UNSAFE_KEY` in every input. */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * True when `key` is one of the {@link UNSAFE_KEYS}. For the walks that visit every key
 * of a candidate on the hot reload path: the members of UNSAFE_KEYS are 9 and 11
 * characters long (a test holds them to it), so almost every key costs one comparison of
 * lengths, less than hashing it into the set.
 */
export function isUnsafeKey(key: string): boolean {
  const length = key.length;
  return (length === 9 || length === 11) && UNSAFE_KEYS.has(key);
}
