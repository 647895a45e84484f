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

/** Options of {@link copyJson}. */
export interface CopyJsonOptions {
  /** Freeze every copied object and array (for snapshots). Default: a mutable copy (for validators). */
  readonly freeze?: boolean;
  /** Where `value` sits in the whole config, for error paths. Restored before returning. */
  readonly path?: (string | number)[];
}

/**
 * A deep copy of JSON data: mutable for validators that write defaults into what they
 * check, frozen for snapshots. Refuses anything JSON cannot carry (functions, class
 * instances, cycles, non-finite numbers) with a ValidationError naming the path; drops
 * `undefined` members.
 */
export function copyJson(value: unknown, options: CopyJsonOptions = {}): unknown {
  return copy(value, options.freeze === true, options.path ?? [], new Set());
}

function copy(value: unknown, freeze: boolean, path: (string | number)[], ancestors: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : notJson(path, String(value));
    case 'object': {
      if (value === null) return null;
      if (ancestors.has(value)) notJson(path, 'a cycle');
      let out: unknown[] | Record<string, unknown>;
      ancestors.add(value);
      if (Array.isArray(value)) {
        out = [];
        for (let index = 0; index < value.length; index++) {
          path.push(index);
          out.push(copy(value[index], freeze, path, ancestors));
          path.pop();
        }
      } else if (isPlainObject(value)) {
        out = {};
        for (const key of Object.keys(value)) {
          const item = value[key];
          if (item === undefined) continue;
          path.push(key);
          defineMember(out, key, copy(item, freeze, path, ancestors));
          path.pop();
        }
      } else {
        return notJson(path, `an instance of ${value.constructor.name || 'a class'}`);
      }
      ancestors.delete(value);
      return freeze ? Object.freeze(out) : out;
    }
    default:
      return notJson(path, `a ${typeof value}`);
  }
}

/**
 * Sets an own, enumerable member with defineProperty, not assignment: a key named
 * "__proto__" stays a plain key and can never reach a prototype setter.
 */
export function defineMember(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
