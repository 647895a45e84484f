// The file backend on its own, in real temporary directories; faults only through its
// FileSystem seam. What it shares with every backend is the contract suite.
import { link, lstat, mkdir, readdir, readFile, stat, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { FsArtifactBackend } from '../../src/artifacts/fs-artifact-backend.js';
import { defaultFileSystem, type FileSystem, resolveFileSystem } from '../../src/file-system.js';
import { describeArtifactBackendContract, fileOf } from '../helpers/artifact-backend-contract.js';
import { expectArtifactError } from '../helpers/artifact-errors.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';
import { errnoError } from '../helpers/errno-error.js';

describeArtifactBackendContract('FsArtifactBackend', async () => {
  const dir = await makeTempDir();
  const backend = new FsArtifactBackend(join(dir, 'artifacts'), defaultFileSystem);
  await backend.open(0o700);
  return {
    backend,
    tamper: async (fileName, bytes) => {
      // Same inode, new bytes: what an editor or a stray process writing in place does.
      await truncate(backend.locate(fileName), 0);
      await writeFile(backend.locate(fileName), bytes);
    },
    removeBehindTheBack: (fileName) => unlink(backend.locate(fileName)),
    modeOf: async (fileName) => (await lstat(backend.locate(fileName))).mode & 0o7777,
    bytesOf: (fileName) => readFile(backend.locate(fileName)),
    cleanup: () => removeTempDir(dir),
  };
});

describe('FsArtifactBackend', () => {
  let root: string;
  let dir: string;
  beforeEach(async () => {
    root = await makeTempDir();
    dir = join(root, 'artifacts');
  });
  afterEach(async () => {
    await removeTempDir(root);
  });

  async function opened(fs: Partial<FileSystem> = {}): Promise<FsArtifactBackend> {
    const backend = new FsArtifactBackend(dir, resolveFileSystem(fs));
    await backend.open(0o700);
    return backend;
  }

  async function write(backend: FsArtifactBackend, name: string, content: string, mode = 0o600): Promise<ReturnType<typeof fileOf>> {
    const f = fileOf(name, content);
    await backend.writeIfAbsent(f.fileName, f.bytes, { mode, digest: f.digest });
    return f;
  }

  it('locates a file name in its directory', async () => {
    const backend = await opened();
    expect(backend.locate('x')).toBe(join(dir, 'x'));
  });

  describe('list', () => {
    it('lists regular files, unknown ones too, but no temporary files, symlinks or directories', async () => {
      const backend = await opened();
      const a = await write(backend, 'a', 'a');
      await writeFile(join(dir, '.tmp-123'), 'x');
      await writeFile(join(dir, 'notes.txt'), 'xy');
      await symlink(backend.locate(a.fileName), join(dir, `link-${a.digest}`));
      await mkdir(join(dir, `dir-${a.digest}`));
      expect((await backend.list()).slice().sort((x, y) => x.fileName.localeCompare(y.fileName))).toEqual([
        { fileName: a.fileName, size: 1 },
        { fileName: 'notes.txt', size: 2 },
      ]);
    });

    it('skips a file removed between readdir and lstat', async () => {
      let vanish = false;
      const backend = await opened({
        lstat: async (path) => {
          if (vanish && path !== dir) throw errnoError('ENOENT');
          return lstat(path);
        },
      });
      await write(backend, 'a', 'x');
      vanish = true;
      expect(await backend.list()).toEqual([]);
    });

    it('reports an lstat failure as ERR_ARTIFACT_IO, with or without an errno code', async () => {
      let failure: Error | undefined;
      const backend = await opened({
        lstat: async (path) => {
          if (failure !== undefined && path !== dir) throw failure;
          return lstat(path);
        },
      });
      await write(backend, 'a', 'x');
      failure = errnoError('EIO');
      const error = await expectArtifactError(backend.list(), 'ERR_ARTIFACT_IO');
      expect(error.path).toBe(dir);
      failure = Object.assign(new Error('odd'), { code: 5 });
      await expectArtifactError(backend.list(), 'ERR_ARTIFACT_IO');
    });
  });

  describe('writeIfAbsent', () => {
    it('does not write through a symlink planted at the path (ERR_ARTIFACT_UNSAFE_PATH), nor leave a temporary file', async () => {
      const backend = await opened();
      const outside = join(root, 'outside');
      await writeFile(outside, 'precious');
      const before = await stat(outside);
      const f = fileOf('x', 'evil');
      await symlink(outside, backend.locate(f.fileName));
      const error = await expectArtifactError(backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o600, digest: f.digest }), 'ERR_ARTIFACT_UNSAFE_PATH');
      expect(error.path).toBe(backend.locate(f.fileName));
      expect(await readFile(outside, 'utf8')).toBe('precious');
      expect((await stat(outside)).mtimeMs).toBe(before.mtimeMs);
      expect((await readdir(dir)).filter((name) => name.startsWith('.tmp-'))).toEqual([]);
    });

    it('refuses a directory standing at the path (ERR_ARTIFACT_UNSAFE_PATH)', async () => {
      const backend = await opened();
      const f = fileOf('x', 'c');
      await mkdir(backend.locate(f.fileName));
      await expectArtifactError(backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o600, digest: f.digest }), 'ERR_ARTIFACT_UNSAFE_PATH');
    });

    it('makes the file visible only with its final mode and full content', async () => {
      const seen: { mode: number; bytes: string }[] = [];
      const backend = await opened({
        link: async (from, to) => {
          seen.push({ mode: (await lstat(from)).mode & 0o7777, bytes: await readFile(from, 'utf8') });
          await link(from, to);
        },
      });
      await write(backend, 'script', '#!/bin/sh\nexit 0\n', 0o700);
      expect(seen).toEqual([{ mode: 0o700, bytes: '#!/bin/sh\nexit 0\n' }]);
    });

    it('reports a failed write as ERR_ARTIFACT_IO even when the temporary file cannot be removed', async () => {
      const backend = await opened({ write: () => Promise.reject(errnoError('ENOSPC')), unlink: () => Promise.reject(errnoError('EIO')) });
      const f = fileOf('a', 'x');
      const error = await expectArtifactError(backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o600, digest: f.digest }), 'ERR_ARTIFACT_IO');
      expect(error.cause).toMatchObject({ code: 'ENOSPC' });
    });
  });

  describe('check', () => {
    it('refuses a path replaced by a symlink to an identical file (ERR_ARTIFACT_UNSAFE_PATH)', async () => {
      const backend = await opened();
      const f = await write(backend, 'x', 'content');
      const outside = join(root, 'outside');
      await writeFile(outside, 'content');
      await unlink(backend.locate(f.fileName));
      await symlink(outside, backend.locate(f.fileName));
      await expectArtifactError(backend.check(f.fileName, { digest: f.digest, size: f.size }), 'ERR_ARTIFACT_UNSAFE_PATH');
    });

    it('reports a file that vanishes between lstat and open as ERR_ARTIFACT_INTEGRITY', async () => {
      let vanish = false;
      const backend = await opened({
        open: async (path, flags, mode) => {
          if (vanish) throw errnoError('ENOENT');
          return defaultFileSystem.open(path, flags, mode);
        },
      });
      const f = await write(backend, 'a', 'x');
      vanish = true;
      await expectArtifactError(backend.check(f.fileName, { digest: f.digest, size: f.size }), 'ERR_ARTIFACT_INTEGRITY');
    });
  });

  describe('remove', () => {
    it('removes a symlink standing at the path, never its target', async () => {
      const backend = await opened();
      const outside = join(root, 'outside');
      await writeFile(outside, 'precious');
      const f = fileOf('x', 'x');
      await symlink(outside, backend.locate(f.fileName));
      await backend.remove(f.fileName);
      expect(await readdir(dir)).toEqual([]);
      expect(await readFile(outside, 'utf8')).toBe('precious');
    });

    it('passes on a failure other than a missing file', async () => {
      const backend = await opened({ unlink: () => Promise.reject(errnoError('EBUSY')) });
      await expect(backend.remove(fileOf('x', 'x').fileName)).rejects.toMatchObject({ code: 'EBUSY' });
    });
  });
});
