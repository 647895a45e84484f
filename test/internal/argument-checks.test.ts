import { describe, expect, it } from 'vitest';
import { checkInteger, checkMilliseconds, checkNonEmptyString, describeValue } from '../../src/internal/argument-checks.js';

describe('argument checks', () => {
  it('name the argument and never echo a string, which may be a path or a secret', () => {
    let error: unknown;
    try {
      checkInteger('maxBytes', 'hunter2', 0);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toMatchObject({ name: 'ArgumentError', code: 'ERR_ARGUMENT', argument: 'maxBytes' });
    expect((error as Error).message).not.toContain('hunter2');
  });

  it.each<[unknown, string]>([
    [undefined, 'undefined'],
    [null, 'null'],
    [-1, '-1'],
    [Number.NaN, 'NaN'],
    [true, 'true'],
    ['', 'an empty string'],
    ['/etc/secret', 'a string'],
    [[1], 'an array'],
    [{ a: 1 }, 'an object'],
    [() => undefined, 'a function'],
    [10n, 'a bigint'],
  ])('describe %o as %s', (value, description) => {
    expect(describeValue(value)).toBe(description);
  });

  it('accept what they promise to accept', () => {
    expect(() => {
      checkInteger('retries', 0, 0);
      checkMilliseconds('debounceMs', 0.5);
      checkNonEmptyString('path', 'a');
    }).not.toThrow();
  });
});
