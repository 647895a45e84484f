import { describe, expect, it } from 'vitest';
import { ConfigFileError, ReloadError } from '../../src/index.js';
import { StatusRecorder } from '../../src/store/status.js';

describe('StatusRecorder', () => {
  it('starts with nothing recorded', () => {
    const status = new StatusRecorder().read(0, '', []);
    expect(status).toMatchObject({
      generation: 0,
      digest: '',
      lastReloadSuccessful: false,
      lastAttemptAt: null,
      lastSuccessAt: null,
      lastFailureAt: null,
      lastError: null,
      pinnedGenerations: [],
      listenerErrors: 0,
    });
    expect(Object.values(status.counters).every((count) => count === 0)).toBe(true);
  });

  it('records the code of a txconfig error and the code of its cause', () => {
    const recorder = new StatusRecorder();
    const cause = new ConfigFileError('ERR_PARSE', 'c.json', 'bad');
    recorder.attempted();
    recorder.unsuccessful('rejected', new ReloadError('ERR_LOAD', [{ participant: null, phase: 'load', error: cause }]));
    const { lastError, counters, lastReloadSuccessful, lastFailureAt, lastAttemptAt } = recorder.read(1, 'd', []);
    expect(lastError).toMatchObject({ code: 'ERR_LOAD', causeCode: 'ERR_PARSE' });
    expect(counters).toMatchObject({ attempted: 1, rejected: 1 });
    expect(lastReloadSuccessful).toBe(false);
    expect(lastFailureAt).toBeTypeOf('number');
    expect(lastAttemptAt).toBeTypeOf('number');
  });

  it('records a foreign error as ERR_UNKNOWN with no cause code', () => {
    const recorder = new StatusRecorder();
    recorder.unsuccessful('failed', new Error('boom', { cause: new Error('deeper') }));
    expect(recorder.read(1, 'd', []).lastError).toMatchObject({ code: 'ERR_UNKNOWN', causeCode: null, message: 'boom' });
  });

  it('records a thrown non-error by its string form', () => {
    const recorder = new StatusRecorder();
    recorder.unsuccessful('failed', 'just a string');
    expect(recorder.read(1, 'd', []).lastError).toMatchObject({ code: 'ERR_UNKNOWN', causeCode: null, message: 'just a string' });
  });

  it('keeps the last error after a success, and returns frozen copies', () => {
    const recorder = new StatusRecorder();
    recorder.unsuccessful('rejected', new ReloadError('ERR_PREPARE', []));
    recorder.succeeded('unchanged');
    recorder.aborted();
    recorder.listenerFailed();
    const status = recorder.read(2, 'd', [1]);
    expect(status.lastReloadSuccessful).toBe(true);
    expect(status.lastError?.code).toBe('ERR_PREPARE');
    expect(status.counters).toMatchObject({ unchanged: 1, aborted: 1, rejected: 1 });
    expect(status.listenerErrors).toBe(1);
    expect(Object.isFrozen(status)).toBe(true);
    expect(Object.isFrozen(status.counters)).toBe(true);
    expect(Object.isFrozen(status.pinnedGenerations)).toBe(true);
  });
});
