// reloadOnSignal's default outcome handler, which logs instead of calling back.
import { describe, expect, it } from 'vitest';
import { reloadOnSignal, type ReloadRequestOutcome } from '../../src/index.js';

describe('reloadOnSignal without onOutcome', () => {
  it.each<ReloadRequestOutcome>([{ status: 'applied' }, { status: 'rejected', error: new Error('bad file') }])(
    'logs a $status outcome and keeps handling signals',
    async (outcome) => {
      const requests: number[] = [];
      const store = {
        requestReload: (): Promise<ReloadRequestOutcome> => {
          requests.push(requests.length);
          return Promise.resolve(outcome);
        },
      };
      using stop = reloadOnSignal(store, 'SIGUSR2', () => ({}));
      process.emit('SIGUSR2', 'SIGUSR2');
      process.emit('SIGUSR2', 'SIGUSR2');
      await new Promise((resolve) => setImmediate(resolve));
      expect(requests).toHaveLength(2);
      stop();
      process.emit('SIGUSR2', 'SIGUSR2');
      expect(requests).toHaveLength(2);
    },
  );
});
