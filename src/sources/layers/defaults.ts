/**
 * The `defaults()` layer: a constant object, copied and frozen once, at the bottom of a
 * stack. It never conflicts: defaults exist to be overridden.
 */
import { ArgumentError, UnsafeKeyError, hasErrorCode } from '../../errors.js';
import { copyJson } from '../../json/checked-json.js';
import { parsePointer } from '../../json/json-pointer.js';
import { isPlainObject } from '../../json/plain-object.js';
import { describeValue } from '../../internal/argument-checks.js';
import type { ConfigSource, SourceReading } from '../../store/config-source.js';
import { valueAt } from '../../json/value-at.js';

// The sources defaults() made: layered() exempts them from conflicts.
const defaultSources = new WeakSet<ConfigSource>();

/** True for a source made by {@link defaults}. Internal. */
export function isDefaults(source: ConfigSource): boolean {
  return defaultSources.has(source);
}

/**
 * A layer of constant defaults, usually the lowest of a `layered()` stack. The value is
 * copied (later changes to it do nothing) and frozen; its nodes are shared by every
 * snapshot that keeps them. Exempt from `conflicts: 'reject'`.
 *
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `value` when it is not a plain object of JSON data
 * @throws {UnsafeKeyError} `ERR_UNSAFE_KEY` for a `__proto__`, `constructor` or `prototype` key
 * @example
 * ```ts
 * layered([defaults({ server: { port: 8080 } }), file('/etc/app/config.json')]);
 * ```
 */
export function defaults(value: Record<string, unknown>): ConfigSource {
  if (!isPlainObject(value)) throw new ArgumentError('value', `must be a plain object, got ${describeValue(value)}`);
  let frozen: Record<string, unknown>;
  try {
    frozen = copyJson(value, { freeze: true }) as Record<string, unknown>;
  } catch (error) {
    // The copy refuses unsafe keys as a value given to reload() would be; name this input.
    if (hasErrorCode(error, 'ERR_UNSAFE_KEY')) {
      // An UnsafeKeyError of any installed copy of txconfig: its data, not its class.
      const { key, pointer } = error as unknown as { readonly key: string; readonly pointer: string };
      throw new UnsafeKeyError('defaults()', key, pointer);
    }
    throw new ArgumentError('value', 'must be JSON data', { cause: error });
  }
  const reading: SourceReading = {
    value: frozen,
    origins: {
      explain: (pointer) => {
        const keys = parsePointer(pointer);
        return keys !== undefined && valueAt(frozen, keys).kind === 'found' ? { layer: 'defaults', origin: {}, shadowed: [] } : undefined;
      },
    },
  };
  const source: ConfigSource = {
    name: 'defaults',
    read: () => Promise.resolve(reading),
  };
  defaultSources.add(source);
  return source;
}
