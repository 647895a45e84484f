/**
 * The argument checks of the sources and triggers: each throws an `ArgumentError`
 * (`ERR_ARGUMENT`) that names the argument or option as the caller wrote it. Internal.
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

/** @throws {ArgumentError} unless `value` is a finite number of milliseconds `>= 0`. */
export function checkMilliseconds(argument: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ArgumentError(argument, `must be a finite number of milliseconds >= 0, got ${describeValue(value)}`);
  }
}

/** @throws {ArgumentError} unless `value` is a function. */
export function checkFunction(argument: string, value: unknown): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw new ArgumentError(argument, `must be a function, got ${describeValue(value)}`);
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
