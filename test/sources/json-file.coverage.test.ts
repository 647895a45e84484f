// readConfigFile's classification of what is not a regular file and of unusual open
// failures, through its `fs` seam.
import { describe, expect, it } from 'vitest';
import { ConfigFileError, readConfigFile, type ConfigFileStats, type ConfigFileSystem } from '../../src/index.js';
import { rejection } from '../helpers/rejection.js';

type Kind = 'directory' | 'fifo' | 'socket' | 'character device' | 'block device' | 'unknown';

function statsOf(kind: Kind): ConfigFileStats {
  return {
    size: 0,
    isFile: () => false,
    isDirectory: () => kind === 'directory',
    isFIFO: () => kind === 'fifo',
    isSocket: () => kind === 'socket',
    isCharacterDevice: () => kind === 'character device',
    isBlockDevice: () => kind === 'block device',
  };
}

function fakeFs(overrides: Partial<ConfigFileSystem>): ConfigFileSystem {
  return {
    open: () => Promise.resolve(3),
    fstat: () => Promise.resolve(statsOf('unknown')),
    read: () => Promise.reject(new Error('must not read')),
    close: () => Promise.resolve(),
    ...overrides,
  };
}

describe('readConfigFile: file types and open failures', () => {
  it.each<Kind>(['directory', 'fifo', 'socket', 'character device', 'block device', 'unknown'])(
    'refuses a %s as ERR_FILE_TYPE without reading',
    async (kind) => {
      const error = await rejection(readConfigFile('/config.json', { fs: fakeFs({ fstat: () => Promise.resolve(statsOf(kind)) }) }));
      expect(error).toBeInstanceOf(ConfigFileError);
      expect(error).toMatchObject({ code: 'ERR_FILE_TYPE', path: '/config.json' });
    },
  );

  it('reports ENXIO from open (a socket or device) as ERR_FILE_TYPE', async () => {
    const cause = Object.assign(new Error('ENXIO'), { code: 'ENXIO' });
    const error = await rejection(readConfigFile('/config.json', { fs: fakeFs({ open: () => Promise.reject(cause) }) }));
    expect(error).toMatchObject({ code: 'ERR_FILE_TYPE', cause });
  });

  it('reports an open failure without an errno code as ERR_FILE_ACCESS, keeping the cause', async () => {
    const cause = new Error('no code at all');
    const error = await rejection(readConfigFile('/config.json', { fs: fakeFs({ open: () => Promise.reject(cause) }) }));
    expect(error).toMatchObject({ code: 'ERR_FILE_ACCESS', cause });
  });
});
