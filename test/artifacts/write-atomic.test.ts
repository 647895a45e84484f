import { lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { artifactFileName, isArtifactName } from '../../src/artifacts/artifact-name.js';
import { checkExisting, isTempFileName, TEMP_PREFIX, writeAtomic } from '../../src/artifacts/write-atomic.js';
import { ArtifactError } from '../../src/errors.js';
import { defaultFileSystem, type FileSystem } from '../../src/file-system.js';
import { sha256Hex } from '../../src/internal/sha256.js';
import { expectArtifactError } from '../helpers/artifact-errors.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

const CONTENT = Buffer.from('#!/bin/sh\nexec /usr/bin/runc "$@"\n');
const DIGEST = sha256Hex(CONTENT);
const FILE = `runc-${DIGEST}`;

function injected(step: string): Error {
  return Object.assign(new Error(`injected failure at ${step}`), { code: 'EIO' });
}

describe('writeAtomic', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  const tempFiles = async (): Promise<string[]> => (await readdir(dir)).filter((f) => f.startsWith('.tmp-'));

  it('creates the file with the bytes and the mode, and leaves no temporary file', async () => {
    const result = await writeAtomic(dir, FILE, CONTENT, { mode: 0o700, digest: DIGEST });
    expect(result).toEqual({ created: true });
    expect(await readFile(join(dir, FILE))).toEqual(CONTENT);
    expect((await stat(join(dir, FILE))).mode & 0o7777).toBe(0o700);
    expect(await readdir(dir)).toEqual([FILE]);
  });

  /** The default fs functions, recording each call's name (`open(dir)` for the directory). */
  function tracedFs(calls: string[]): FileSystem {
    return Object.fromEntries(
      Object.entries(defaultFileSystem).map(([key, fn]) => [
        key,
        (...args: unknown[]) => {
          const first = args[0];
          calls.push(typeof first === 'string' && first === dir ? `${key}(dir)` : key);
          return (fn as (...a: unknown[]) => unknown)(...args);
        },
      ]),
    ) as unknown as FileSystem;
  }

  it('looks for an existing file, then runs open, write, fchmod, fsync, close, link, unlink, then fsyncs the directory', async () => {
    const calls: string[] = [];
    await writeAtomic(dir, FILE, CONTENT, { mode: 0o600, digest: DIGEST, fs: tracedFs(calls) });
    expect(calls).toEqual(['lstat', 'open', 'write', 'fchmod', 'fsync', 'close', 'link', 'unlink', 'open(dir)', 'fsync', 'close']);
  });

  it('reuses an identical existing file by reading it: no temporary file, no write', async () => {
    await writeAtomic(dir, FILE, CONTENT, { mode: 0o600, digest: DIGEST });
    const calls: string[] = [];
    const result = await writeAtomic(dir, FILE, CONTENT, { mode: 0o600, digest: DIGEST, fs: tracedFs(calls) });
    expect(result).toEqual({ created: false });
    expect(calls).toEqual(['lstat', 'open', 'fstat', 'read', 'fsync', 'close', 'open(dir)', 'fsync', 'close']);
  });

  it('falls back to reusing the file when one appears between the first look and the link (EEXIST)', async () => {
    await writeAtomic(dir, FILE, CONTENT, { mode: 0o600, digest: DIGEST });
    const calls: string[] = [];
    const traced = tracedFs(calls);
    // The first look sees nothing, as if the file were written right after it.
    let looked = false;
    const racing: FileSystem = {
      ...traced,
      lstat: (path) => {
        if (looked) return traced.lstat(path);
        looked = true;
        calls.push('lstat (sees nothing)');
        return Promise.reject(Object.assign(new Error('ENOENT'), { code: 'ENOENT' }));
      },
    };
    const result = await writeAtomic(dir, FILE, CONTENT, { mode: 0o600, digest: DIGEST, fs: racing });
    expect(result).toEqual({ created: false });
    expect(calls.slice(0, 7)).toEqual(['lstat (sees nothing)', 'open', 'write', 'fchmod', 'fsync', 'close', 'link']);
    expect(await tempFiles()).toEqual([]);
  });

  it('reuses an identical existing file without writing: same inode, same mtime', async () => {
    await writeAtomic(dir, FILE, CONTENT, { mode: 0o600, digest: DIGEST });
    const before = await stat(join(dir, FILE));
    await new Promise((resolve) => setTimeout(resolve, 15));
    const result = await writeAtomic(dir, FILE, CONTENT, { mode: 0o600, digest: DIGEST });
    const after = await stat(join(dir, FILE));
    expect(result).toEqual({ created: false });
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    expect(await tempFiles()).toEqual([]);
  });

  it('leaves a different existing file alone and reports ERR_ARTIFACT_INTEGRITY', async () => {
    await writeFile(join(dir, FILE), 'something else', { mode: 0o600 });
    const error = await expectArtifactError(writeAtomic(dir, FILE, CONTENT, { mode: 0o600, digest: DIGEST }), 'ERR_ARTIFACT_INTEGRITY');
    expect(error.path).toBe(join(dir, FILE));
    expect(error.digest).toBe(DIGEST);
    expect(await readFile(join(dir, FILE), 'utf8')).toBe('something else');
    expect(await tempFiles()).toEqual([]);
  });

  it('does not follow a symlink at the final path: ERR_ARTIFACT_UNSAFE_PATH, target untouched', async () => {
    const target = join(dir, 'target');
    await writeFile(target, CONTENT);
    await symlink(target, join(dir, FILE));
    const before = await stat(target);
    await expectArtifactError(writeAtomic(dir, FILE, CONTENT, { mode: 0o600, digest: DIGEST }), 'ERR_ARTIFACT_UNSAFE_PATH');
    expect((await lstat(join(dir, FILE))).isSymbolicLink()).toBe(true);
    expect((await stat(target)).mtimeMs).toBe(before.mtimeMs);
    expect(await tempFiles()).toEqual([]);
  });

  it('does not write through a symlink planted at a would-be temporary path; writes under another name', async () => {
    const target = join(dir, 'target');
    await writeFile(target, 'precious');
    await symlink(target, join(dir, '.tmp-planted'));
    const suffixes = ['planted', 'fresh'];
    const result = await writeAtomic(dir, FILE, CONTENT, { mode: 0o600, digest: DIGEST, tempSuffix: () => suffixes.shift() ?? 'x' });
    expect(result).toEqual({ created: true });
    expect(await readFile(target, 'utf8')).toBe('precious');
    expect((await lstat(join(dir, '.tmp-planted'))).isSymbolicLink()).toBe(true);
    expect(await readFile(join(dir, FILE))).toEqual(CONTENT);
  });

  it('gives up with ERR_ARTIFACT_IO when every temporary name is taken', async () => {
    await writeFile(join(dir, '.tmp-same'), 'x');
    const error = await expectArtifactError(writeAtomic(dir, FILE, CONTENT, { mode: 0o600, digest: DIGEST, tempSuffix: () => 'same' }), 'ERR_ARTIFACT_IO');
    expect(error.cause).toMatchObject({ code: 'EEXIST' });
  });

  it('applies the mode before the file becomes visible', async () => {
    let modeAtLink = -1;
    const fs: FileSystem = {
      ...defaultFileSystem,
      link: async (from, to) => {
        modeAtLink = (await lstat(from)).mode & 0o7777;
        await defaultFileSystem.link(from, to);
      },
    };
    await writeAtomic(dir, FILE, CONTENT, { mode: 0o700, digest: DIGEST, fs });
    expect(modeAtLink).toBe(0o700);
  });

  // Each step fails once; the cleanup's own calls succeed.
  const steps: { step: string; key: keyof FileSystem; when?: (path: string) => boolean; finalExists: boolean }[] = [
    { step: 'open the temporary file', key: 'open', when: (path) => path !== dir, finalExists: false },
    { step: 'write', key: 'write', finalExists: false },
    { step: 'fchmod', key: 'fchmod', finalExists: false },
    { step: 'fsync the file', key: 'fsync', finalExists: false },
    { step: 'close', key: 'close', finalExists: false },
    { step: 'link', key: 'link', finalExists: false },
    { step: 'unlink the temporary file', key: 'unlink', finalExists: true },
    { step: 'open the directory', key: 'open', when: (path) => path === dir, finalExists: true },
  ];

  it.each(steps)('a failure to $step is ERR_ARTIFACT_IO with the cause, and leaves no temporary or partial file', async ({ key, when, finalExists }) => {
    const error = injected(key);
    const fs = failOnce(key, when ?? (() => true), error);
    const thrown = await expectArtifactError(writeAtomic(dir, FILE, CONTENT, { mode: 0o600, digest: DIGEST, fs }), 'ERR_ARTIFACT_IO');
    expect(thrown.cause).toBe(error);
    expect(await tempFiles()).toEqual([]);
    expect(await readdir(dir)).toEqual(finalExists ? [FILE] : []);
    if (finalExists) expect(await readFile(join(dir, FILE))).toEqual(CONTENT);
  });

  it('a failure to fsync the directory is ERR_ARTIFACT_IO and leaves the complete file', async () => {
    const error = injected('fsync dir');
    let fsyncs = 0;
    const fs: FileSystem = {
      ...defaultFileSystem,
      fsync: (fd) => (++fsyncs === 2 ? Promise.reject(error) : defaultFileSystem.fsync(fd)),
    };
    const thrown = await expectArtifactError(writeAtomic(dir, FILE, CONTENT, { mode: 0o600, digest: DIGEST, fs }), 'ERR_ARTIFACT_IO');
    expect(thrown.cause).toBe(error);
    expect(await readdir(dir)).toEqual([FILE]);
    expect(await readFile(join(dir, FILE))).toEqual(CONTENT);
  });

  it('a failure to read an existing file is ERR_ARTIFACT_IO and leaves it alone', async () => {
    await writeAtomic(dir, FILE, CONTENT, { mode: 0o600, digest: DIGEST });
    const error = injected('read');
    const fs: FileSystem = { ...defaultFileSystem, read: () => Promise.reject(error) };
    const thrown = await expectArtifactError(writeAtomic(dir, FILE, CONTENT, { mode: 0o600, digest: DIGEST, fs }), 'ERR_ARTIFACT_IO');
    expect(thrown.cause).toBe(error);
    expect(await readdir(dir)).toEqual([FILE]);
  });
});

describe('temporary file names', () => {
  it('recognises temporary file names, which no valid artifact name can produce', () => {
    expect(isTempFileName(`${TEMP_PREFIX}abc`)).toBe(true);
    expect(isTempFileName(artifactFileName('tmp', DIGEST))).toBe(false);
    expect(isArtifactName(`${TEMP_PREFIX}abc`)).toBe(false);
  });
});

describe('checkExisting', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('reports a missing file as ERR_ARTIFACT_INTEGRITY and a directory as ERR_ARTIFACT_UNSAFE_PATH', async () => {
    await expectArtifactError(checkExisting(defaultFileSystem, join(dir, FILE), DIGEST), 'ERR_ARTIFACT_INTEGRITY');
    await mkdir(join(dir, FILE));
    await expectArtifactError(checkExisting(defaultFileSystem, join(dir, FILE), DIGEST), 'ERR_ARTIFACT_UNSAFE_PATH');
  });

  it.each(['lstat', 'open'] as const)('reports a failure to %s the file, other than a missing one, as ERR_ARTIFACT_IO with the cause', async (key) => {
    await writeFile(join(dir, FILE), CONTENT);
    const error = injected(key);
    const fs: FileSystem = { ...defaultFileSystem, [key]: () => Promise.reject(error) };
    const thrown = await expectArtifactError(checkExisting(fs, join(dir, FILE), DIGEST), 'ERR_ARTIFACT_IO');
    expect(thrown.cause).toBe(error);
  });

  it('refuses a file that became a symlink between lstat and open (ERR_ARTIFACT_UNSAFE_PATH)', async () => {
    await writeFile(join(dir, FILE), CONTENT);
    const eloop = Object.assign(new Error('symlink'), { code: 'ELOOP' });
    const fs: FileSystem = { ...defaultFileSystem, open: () => Promise.reject(eloop) };
    const error = await expectArtifactError(checkExisting(fs, join(dir, FILE), DIGEST), 'ERR_ARTIFACT_UNSAFE_PATH');
    expect(error).toBeInstanceOf(ArtifactError);
  });
});

// The default functions, with `key` failing the first time its first argument satisfies
// `when` (descriptor functions always qualify). `close` really closes first, so no descriptor leaks.
function failOnce(key: keyof FileSystem, when: (path: string) => boolean, error: Error): FileSystem {
  let armed = true;
  const real = (defaultFileSystem as unknown as Record<keyof FileSystem, (...args: unknown[]) => Promise<unknown>>)[key];
  const failing = async (...args: unknown[]): Promise<unknown> => {
    const first = args[0];
    if (armed && (typeof first !== 'string' || when(first))) {
      armed = false;
      if (key === 'close') await real(...args);
      throw error;
    }
    return real(...args);
  };
  return { ...defaultFileSystem, [key]: failing };
}
