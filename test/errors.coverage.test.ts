// The error classes with the inputs the main suite never builds: no issues, no failures,
// a root path, a thrown non-error, nothing pinned.
import { describe, expect, it } from 'vitest';
import { ReloadError, SynchronizeError, ValidationError, isTxConfigError } from '../src/index.js';

describe('error edge cases', () => {
  it('builds a ValidationError with no issues', () => {
    const error = new ValidationError([]);
    expect(error.code).toBe('ERR_VALIDATION');
    expect(error.issues).toEqual([]);
    expect(error.message.length).toBeGreaterThan(0);
  });

  it('builds a ValidationError whose first issue is at the root', () => {
    const error = new ValidationError([{ path: '', message: 'must be object' }]);
    expect(error.issues[0]?.path).toBe('');
    expect(isTxConfigError(error)).toBe(true);
  });

  it('builds a ReloadError with no failures and no cause', () => {
    const error = new ReloadError('ERR_PREPARE', []);
    expect(error.failures).toEqual([]);
    expect(error.cause).toBeUndefined();
    expect(error.issues).toEqual([]);
  });

  it('keeps a thrown non-error as the cause of a ReloadError', () => {
    const error = new ReloadError('ERR_PREPARE', [{ participant: 'p', phase: 'prepare', error: 'a string' }]);
    expect(error.cause).toBe('a string');
    expect(error.message).toContain('a string');
  });

  it('builds a SynchronizeError with nothing pinned', () => {
    const error = new SynchronizeError('ERR_SYNC_TIMEOUT', []);
    expect(error.code).toBe('ERR_SYNC_TIMEOUT');
    expect(error.pinnedGenerations).toEqual([]);
    expect(Object.isFrozen(error.pinnedGenerations)).toBe(true);
  });
});
