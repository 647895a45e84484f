import { describe, expect, it } from 'vitest';
import { ConfigFileError, ReloadError, type ReloadFailure, type ReloadResult, type Snapshot } from '../../src/index.js';
import { StatusRecorder } from '../../src/store/status-recorder.js';

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

  const live = {} as Snapshot<unknown, unknown>;
  const rejected = (error: ReloadError): ReloadResult<unknown, unknown> => ({ status: 'rejected', snapshot: live, error });
  const applied = (commitFailures: ReloadFailure[] = []): ReloadResult<unknown, unknown> => ({
    status: 'applied',
    snapshot: live,
    previous: null,
    patches: [],
    commitFailures,
    ...(commitFailures.length > 0 ? { error: new ReloadError('ERR_COMMIT', commitFailures) } : {}),
  });
  const unchanged: ReloadResult<unknown, unknown> = { status: 'unchanged', snapshot: live, previous: live, patches: [], commitFailures: [] };

  it('records the code of a txconfig error and the code of its cause', () => {
    const recorder = new StatusRecorder();
    const cause = new ConfigFileError('ERR_PARSE', 'c.json', 'bad');
    recorder.attempted();
    recorder.record(rejected(new ReloadError('ERR_LOAD', [{ participant: null, phase: 'load', error: cause }])));
    const { lastError, counters, lastReloadSuccessful, lastFailureAt, lastAttemptAt } = recorder.read(1, 'd', []);
    expect(lastError).toMatchObject({ code: 'ERR_LOAD', causeCode: 'ERR_PARSE' });
    expect(counters).toMatchObject({ attempted: 1, rejected: 1 });
    expect(lastReloadSuccessful).toBe(false);
    expect(lastFailureAt).toBeTypeOf('number');
    expect(lastAttemptAt).toBeTypeOf('number');
  });

  it('records a foreign cause of a commit failure with no cause code', () => {
    const recorder = new StatusRecorder();
    recorder.record(applied([{ participant: 'p', phase: 'commit', error: new Error('boom', { cause: new Error('deeper') }) }]));
    expect(recorder.read(1, 'd', []).lastError).toMatchObject({ code: 'ERR_COMMIT', causeCode: null });
    expect(recorder.read(1, 'd', []).counters).toMatchObject({ failed: 1 });
  });

  it('keeps the last error after a success, and returns frozen copies', () => {
    const recorder = new StatusRecorder();
    recorder.record(rejected(new ReloadError('ERR_PREPARE', [])));
    recorder.record(unchanged);
    recorder.record({ status: 'aborted', snapshot: live, error: new ReloadError('ERR_ABORTED', []) });
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

  it('stays unsuccessful after a commit failure until a reload whose hooks all succeed', () => {
    const recorder = new StatusRecorder();
    recorder.record(applied([{ participant: 'p', phase: 'commit', error: new Error('boom') }]));
    recorder.record(unchanged);
    expect(recorder.read(2, 'd', []).lastReloadSuccessful).toBe(false);
    expect(recorder.read(2, 'd', []).lastSuccessAt).toBeNull();
    recorder.record(applied());
    recorder.record(unchanged);
    expect(recorder.read(3, 'd', []).lastReloadSuccessful).toBe(true);
    expect(recorder.read(3, 'd', []).counters).toMatchObject({ applied: 1, failed: 1, unchanged: 2 });
  });

  it('reports an abort whose rollback failed as unsuccessful, a clean abort as nothing', () => {
    const recorder = new StatusRecorder();
    recorder.record(applied());
    recorder.record({ status: 'aborted', snapshot: live, error: new ReloadError('ERR_ABORTED', []) });
    expect(recorder.read(1, 'd', []).lastReloadSuccessful).toBe(true);
    recorder.record({ status: 'aborted', snapshot: live, error: new ReloadError('ERR_ROLLBACK', [{ participant: 'p', phase: 'rollback', error: new Error('stuck') }]) });
    const status = recorder.read(1, 'd', []);
    expect(status.lastReloadSuccessful).toBe(false);
    expect(status.lastError?.code).toBe('ERR_ROLLBACK');
    expect(status.counters.aborted).toBe(2);
  });
});
