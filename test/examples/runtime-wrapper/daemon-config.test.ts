import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { parseDaemonConfig, readDaemonConfig, resolveRuntimePaths } from '../../../examples/runtime-wrapper/daemon-config.js';
import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.js';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('txconfig-daemon-config-');
});
afterEach(async () => {
  await removeTempDir(dir);
});

const config = {
  'default-runtime': 'runc',
  runtimes: {
    here: { path: './fake-runc', runtimeArgs: ['--x'] },
    below: { path: 'bin/runc' },
    up: { path: '../runc' },
    absolute: { path: '/usr/bin/crun' },
  },
};

describe('the daemon config file', () => {
  it('takes relative runtime paths from the config file’s directory, and leaves absolute ones', async () => {
    const path = join(dir, 'daemon.json');
    await writeFile(path, JSON.stringify(config));
    const expected = {
      'default-runtime': 'runc',
      runtimes: {
        here: { path: join(dir, 'fake-runc'), runtimeArgs: ['--x'] },
        below: { path: join(dir, 'bin', 'runc') },
        up: { path: join(dir, '..', 'runc') },
        absolute: { path: '/usr/bin/crun' },
      },
    };
    await expect(readDaemonConfig(path)).resolves.toEqual(expected);
    expect(parseDaemonConfig(new TextEncoder().encode(JSON.stringify(config)), path)).toEqual(expected);
  });

  it('leaves what is not the expected shape for the schema to reject', () => {
    const odd = { runtimes: { empty: { path: '' }, number: { path: 3 }, list: ['x'], none: null } };
    expect(resolveRuntimePaths(odd, '/etc/rw')).toEqual(odd);
    expect(resolveRuntimePaths({ runtimes: [] }, '/etc/rw')).toEqual({ runtimes: [] });
    expect(resolveRuntimePaths({}, '/etc/rw')).toEqual({});
  });

  it('does not change the object it was given', () => {
    const given = structuredClone(config);
    resolveRuntimePaths(given, '/etc/rw');
    expect(given).toEqual(config);
  });

  it('refuses bytes that are not UTF-8 and text that is not JSON', () => {
    expect(() => parseDaemonConfig(Uint8Array.of(0x7b, 0xff, 0x7d), join(dir, 'daemon.json'))).toThrow(TypeError);
    expect(() => parseDaemonConfig(new TextEncoder().encode('{'), join(dir, 'daemon.json'))).toThrow(expect.objectContaining({ code: 'ERR_PARSE' }));
  });
});
