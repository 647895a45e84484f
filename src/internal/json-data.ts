import { ValidationError } from '../errors.js';

/** A JSON Pointer (RFC 6901) for a path of keys. */
export function toPointer(path: readonly (string | number)[]): string {
  return path.map((key) => `/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** True for plain objects: created by `{}`, `JSON.parse` or `Object.create(null)`. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Throws a ValidationError for a value that is not JSON data. */
export function notJson(path: readonly (string | number)[], what: string): never {
  throw new ValidationError([{ path: toPointer(path), message: `${what} is not JSON data`, keyword: 'json' }]);
}

/**
 * A deep, mutable copy of JSON data, for validators that write defaults into what they
 * check. Refuses anything JSON cannot carry (functions, class instances, cycles,
 * non-finite numbers) with a ValidationError naming the path; drops `undefined` members.
 */
export function copyJson(value: unknown, path: (string | number)[] = [], seen = new Set<object>()): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) notJson(path, String(value));
      return value;
    case 'object': {
      if (value === null) return null;
      if (seen.has(value)) notJson(path, 'a cycle');
      seen.add(value);
      let out: unknown;
      if (Array.isArray(value)) {
        out = value.map((item: unknown, index) => {
          path.push(index);
          const copy = copyJson(item, path, seen);
          path.pop();
          return copy;
        });
      } else if (isPlainObject(value)) {
        const record: Record<string, unknown> = {};
        for (const key of Object.keys(value)) {
          const item = value[key];
          if (item === undefined) continue;
          path.push(key);
          // defineProperty, not assignment: a "__proto__" own key stays a plain key.
          Object.defineProperty(record, key, { value: copyJson(item, path, seen), enumerable: true, writable: true, configurable: true });
          path.pop();
        }
        out = record;
      } else {
        notJson(path, `an instance of ${(value).constructor.name || 'a class'}`);
      }
      seen.delete(value);
      return out;
    }
    default:
      return notJson(path, `a ${typeof value}`);
  }
}
