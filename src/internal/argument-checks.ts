/**
 * The argument checks of every public function and method: each throws an
 * `ArgumentError` (`ERR_ARGUMENT`) that names the argument or option as the caller wrote
 * it, before anything runs. One module, so every API refuses a bad argument alike.
 * Internal.
 */
import { ArgumentError } from '../errors.js';

/** @throws {ArgumentError} unless `value` is a non-empty string. */
export function checkNonEmptyString(argument: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '') throw new ArgumentError(argument, `must be a non-empty string, got ${describeValue(value)}`);
}

/** @throws {ArgumentError} unless `value` is a safe integer `>= min`. */
export function checkInteger(argument: string, value: unknown, min: number): asserts value is number {
  if (!Number.isSafeInteger(value) || (value as number) < min) throw new ArgumentError(argument, `must be an integer >= ${min}, got ${describeValue(value)}`);
}

/**
 * The longest delay a Node timer honours: 2^31 - 1 ms, about 24.8 days. A longer one is
 * run after 1 ms instead (with a warning), so a timeout that large would fire at once.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * @throws {ArgumentError} unless `value` is a number of milliseconds from 0 to
 *   {@link MAX_TIMER_MS}, or `Infinity` when `infinity` is allowed (`NaN` never is).
 */
export function checkMilliseconds(argument: string, value: unknown, options: { readonly infinity?: boolean } = {}): asserts value is number {
  if (options.infinity === true && value === Number.POSITIVE_INFINITY) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) {
    const range = `0 to ${MAX_TIMER_MS} (about 24.8 days)${options.infinity === true ? ', or Infinity' : ''}`;
    throw new ArgumentError(argument, `must be a number of milliseconds from ${range}, got ${describeValue(value)}`);
  }
}

/** @throws {ArgumentError} unless `value` is a function. */
export function checkFunction(argument: string, value: unknown): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw new ArgumentError(argument, `must be a function, got ${describeValue(value)}`);
}

/** @throws {ArgumentError} unless `value` is `undefined` or a boolean. */
export function checkOptionalBoolean(argument: string, value: unknown): asserts value is boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') throw new ArgumentError(argument, `must be a boolean when given, got ${describeValue(value)}`);
}

/** @throws {ArgumentError} unless `value` is `undefined` or an `AbortSignal`. */
export function checkOptionalSignal(argument: string, value: unknown): asserts value is AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) throw new ArgumentError(argument, `must be an AbortSignal when given, got ${describeValue(value)}`);
}

/** @throws {ArgumentError} unless `value` is `undefined` or a function. */
export function checkOptionalFunction(argument: string, value: unknown): asserts value is ((...args: never[]) => unknown) | undefined {
  if (value !== undefined) checkFunction(argument, value);
}

/**
 * What a bad argument was, for the message: numbers and the like as they are, anything
 * else by its type only, so no path or secret given by mistake ends up in a log.
 */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === '') return 'an empty string';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
