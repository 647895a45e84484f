// FsArtifactStore failure paths reached through its `fs` seam: files that vanish or
// cannot be read between two calls, temporary files that cannot be removed at open,
// artifacts from elsewhere, and collections whose removals fail.
import { lstat, mkdir, open, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactError, FsArtifactStore } from '../../src/index.js';
import { expectArtifactError } from '../helpers/artifact-store-contract.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected`), { code });
}

describe('FsArtifactStore through its fs seam', () => {
  let root: string;
  let dir: string;
  beforeEach(async () => {
    root = await makeTempDir();
    dir = join(root, 'artifacts');
  });
  afterEach(async () => {
    await removeTempDir(root);
  });

  describe('open', () => {
    it('reports a directory it cannot stat as ERR_ARTIFACT_IO', async () => {
      await expectArtifactError(FsArtifactStore.open(dir, { fs: { lstat: () => Promise.reject(errno('EACCES')) } }), 'ERR_ARTIFACT_IO');
    });

    it('accepts a directory another process created between its lstat and its mkdir', async () => {
      const store = await FsArtifactStore.open(dir, {
        fs: {
          mkdir: async (path, options) => {
            await mkdir(path, options);
            return undefined; // as mkdir -p reports a directory that already existed
          },
        },
      });
      expect(await store.list()).toEqual([]);
    });

    it.each(['ENOENT', 'EISDIR', 'EPERM'])('leaves a temporary file alone when removing it fails with %s', async (code) => {
      await mkdir(dir);
      await writeFile(join(dir, '.tmp-leftover'), 'x');
      const store = await FsArtifactStore.open(dir, { fs: { unlink: () => Promise.reject(errno(code)) } });
      expect(store.dir).toBe(dir);
    });

    it('fails with ERR_ARTIFACT_IO when a temporary file cannot be removed for another reason', async () => {
      await mkdir(dir);
      await writeFile(join(dir, '.tmp-leftover'), 'x');
      await expectArtifactError(FsArtifactStore.open(dir, { fs: { unlink: () => Promise.reject(errno('EIO')) } }), 'ERR_ARTIFACT_IO');
    });
  });

  describe('list', () => {
    it('skips an artifact removed between readdir and lstat', async () => {
      let vanish = false;
      const store = await FsArtifactStore.open(dir, {
        fs: {
          lstat: async (path) => {
            if (vanish && path !== dir) throw errno('ENOENT');
            return lstat(path);
          },
        },
      });
      await store.put('a', 'x');
      vanish = true;
      expect(await store.list()).toEqual([]);
    });

    it('reports an lstat failure as ERR_ARTIFACT_IO, with or without an errno code', async () => {
      let failure: Error | undefined;
      const store = await FsArtifactStore.open(dir, {
        fs: {
          lstat: async (path) => {
            if (failure !== undefined && path !== dir) throw failure;
            return lstat(path);
          },
        },
      });
      await store.put('a', 'x');
      failure = errno('EIO');
      await expectArtifactError(store.list(), 'ERR_ARTIFACT_IO');
      failure = Object.assign(new Error('odd'), { code: 5 });
      await expectArtifactError(store.list(), 'ERR_ARTIFACT_IO');
    });
  });

  describe('verify, lease and put', () => {
    it('refuses an artifact whose name and digest are not an artifact file name', async () => {
      const store = await FsArtifactStore.open(dir);
      const forged = { name: '../x', digest: 'nope', path: join(dir, '../x-nope'), size: 1 };
      await expectArtifactError(store.verify(forged), 'ERR_ARTIFACT_UNSAFE_PATH');
      expect(() => store.lease(forged, 'h')).toThrow(ArtifactError);
    });

    it('reports an artifact that vanishes between lstat and open as ERR_ARTIFACT_INTEGRITY', async () => {
      let vanish = false;
      const store = await FsArtifactStore.open(dir, {
        fs: {
          open: async (path, flags, mode) => {
            if (vanish) throw errno('ENOENT');
            return open(path, flags, mode);
          },
        },
      });
      const artifact = await store.put('a', 'x');
      vanish = true;
      await expectArtifactError(store.verify(artifact), 'ERR_ARTIFACT_INTEGRITY');
    });

    it('reports a failed write as ERR_ARTIFACT_IO even when the temporary file cannot be removed', async () => {
      const store = await FsArtifactStore.open(dir, {
        fs: { write: () => Promise.reject(errno('ENOSPC')), unlink: () => Promise.reject(errno('EIO')) },
      });
      await expectArtifactError(store.put('a', 'x'), 'ERR_ARTIFACT_IO');
    });
  });

  describe('collect', () => {
    it('runs every removal and reports several failures together as ERR_ARTIFACT_IO', async () => {
      let failRemovals = false;
      const store = await FsArtifactStore.open(dir, {
        fs: {
          unlink: async (path) => {
            if (failRemovals) throw errno('EBUSY');
            await unlink(path);
          },
        },
      });
      await store.put('a', 'x');
      await store.put('b', 'y');
      failRemovals = true;
      const error = await store.collect().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ArtifactError);
      expect(error).toMatchObject({ code: 'ERR_ARTIFACT_IO' });
      expect((error as ArtifactError).cause).toBeInstanceOf(AggregateError);
      expect(((error as ArtifactError).cause as AggregateError).errors).toHaveLength(2);
      expect((await store.list()).map((artifact) => artifact.name)).toEqual(['a', 'b']);
    });
  });
});
