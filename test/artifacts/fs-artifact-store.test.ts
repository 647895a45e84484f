import { chmod, link, lstat, mkdir, readdir, readFile, stat, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { FsArtifactStore } from '../../src/artifacts/fs-artifact-store.js';
import { describeArtifactStoreContract, expectArtifactError, sha256Hex } from '../helpers/artifact-store-contract.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

describeArtifactStoreContract('FsArtifactStore', async (options) => {
  const dir = await makeTempDir();
  const store = await FsArtifactStore.open(join(dir, 'artifacts'), options);
  return {
    store,
    tamper: async (artifact, bytes) => {
      // Same inode, new bytes: what an editor or a stray process writing in place does.
      await truncate(artifact.path, 0);
      await writeFile(artifact.path, bytes);
    },
    removeBehindTheBack: (artifact) => unlink(artifact.path),
    modeOf: async (artifact) => (await lstat(artifact.path)).mode & 0o7777,
    bytesOf: (artifact) => readFile(artifact.path),
    cleanup: () => removeTempDir(dir),
  };
});

describe('FsArtifactStore', () => {
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
    it('creates the directory with mode 0o700 whatever the umask', async () => {
      const previous = process.umask(0o077);
      try {
        await FsArtifactStore.open(join(dir, 'nested'));
      } finally {
        process.umask(previous);
      }
      expect((await stat(join(dir, 'nested'))).mode & 0o777).toBe(0o700);
    });

    it('creates the directory with the mode it is given', async () => {
      const previous = process.umask(0o077);
      try {
        await FsArtifactStore.open(dir, { mode: 0o750 });
      } finally {
        process.umask(previous);
      }
      expect((await stat(dir)).mode & 0o777).toBe(0o750);
    });

    it('leaves the mode of an existing directory alone and reports its absolute path', async () => {
      await mkdir(dir);
      await chmod(dir, 0o755);
      const store = await FsArtifactStore.open(dir);
      expect((await stat(dir)).mode & 0o777).toBe(0o755);
      expect(store.dir).toBe(dir);
    });

    it('refuses a directory that is a symlink (ERR_ARTIFACT_UNSAFE_PATH)', async () => {
      await mkdir(join(root, 'real'));
      await symlink(join(root, 'real'), dir);
      await expectArtifactError(FsArtifactStore.open(dir), 'ERR_ARTIFACT_UNSAFE_PATH');
    });

    it('refuses a path that is a regular file (ERR_ARTIFACT_UNSAFE_PATH)', async () => {
      await writeFile(dir, 'not a directory');
      await expectArtifactError(FsArtifactStore.open(dir), 'ERR_ARTIFACT_UNSAFE_PATH');
    });

    it('removes leftover temporary files, symlinks named like them too, and nothing else', async () => {
      const first = await FsArtifactStore.open(dir);
      const a = await first.put('a', 'a');
      const outside = join(root, 'outside');
      await writeFile(outside, 'precious');
      await writeFile(join(dir, '.tmp-deadbeef'), 'half a wri');
      await symlink(outside, join(dir, '.tmp-link'));
      await writeFile(join(dir, 'notes.txt'), 'unknown file');
      await FsArtifactStore.open(dir);
      expect((await readdir(dir)).sort()).toEqual([`a-${a.digest}`, 'notes.txt'].sort());
      expect(await readFile(outside, 'utf8')).toBe('precious');
    });

    it('with removeUnkept removes earlier artifacts except those on the keep-list', async () => {
      const first = await FsArtifactStore.open(dir);
      const byName = await first.put('by-name', 'n');
      const byPath = await first.put('by-path', 'p');
      const byArtifact = await first.put('by-artifact', 'a');
      const stale = await first.put('stale', 's');
      await writeFile(join(dir, 'notes.txt'), 'unknown file');
      const second = await FsArtifactStore.open(dir, {
        keep: [`by-name-${byName.digest}`, byPath.path, byArtifact],
        removeUnkept: true,
      });
      expect((await second.list()).map((l) => l.name).sort()).toEqual(['by-artifact', 'by-name', 'by-path']);
      await expect(stat(stale.path)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('unknown file');
      // The keep-list stays a root for the life of the store.
      expect((await second.collect()).removed).toEqual([]);
    });

    it('without removeUnkept keeps every earlier artifact', async () => {
      const first = await FsArtifactStore.open(dir);
      const a = await first.put('a', 'a');
      const second = await FsArtifactStore.open(dir);
      expect(await second.list()).toEqual([a]);
    });

    it('refuses keep-list entries that are not artifacts of the directory (ERR_ARTIFACT_NAME)', async () => {
      const digest = sha256Hex('x');
      await expectArtifactError(FsArtifactStore.open(dir, { keep: ['runc-debug'] }), 'ERR_ARTIFACT_NAME');
      await expectArtifactError(FsArtifactStore.open(dir, { keep: [join(root, 'elsewhere', `x-${digest}`)] }), 'ERR_ARTIFACT_NAME');
    });
  });

  describe('put', () => {
    it('writes nothing for content already stored: same inode, same mtime, same ctime', async () => {
      const store = await FsArtifactStore.open(dir);
      const a = await store.put('x', 'content', { mode: 0o700 });
      const before = await stat(a.path);
      await sleep(20);
      const b = await store.put('x', 'content', { mode: 0o700 });
      const after = await stat(b.path);
      expect(b).toEqual(a);
      expect(after.ino).toBe(before.ino);
      expect(after.mtimeMs).toBe(before.mtimeMs);
      expect(after.ctimeMs).toBe(before.ctimeMs);
    });

    it('reuses a file another store instance (an earlier process) wrote', async () => {
      const a = await (await FsArtifactStore.open(dir)).put('x', 'content');
      const before = await stat(a.path);
      expect(await (await FsArtifactStore.open(dir)).put('x', 'content')).toEqual(a);
      expect((await stat(a.path)).ino).toBe(before.ino);
    });

    it('does not write through a symlink planted at the artifact path (ERR_ARTIFACT_UNSAFE_PATH)', async () => {
      const store = await FsArtifactStore.open(dir);
      const outside = join(root, 'outside');
      await writeFile(outside, 'precious');
      const before = await stat(outside);
      await symlink(outside, join(dir, `x-${sha256Hex('evil')}`));
      const error = await expectArtifactError(store.put('x', 'evil'), 'ERR_ARTIFACT_UNSAFE_PATH');
      expect(error.path).toBe(join(dir, `x-${sha256Hex('evil')}`));
      expect(await readFile(outside, 'utf8')).toBe('precious');
      expect((await stat(outside)).mtimeMs).toBe(before.mtimeMs);
      expect((await readdir(dir)).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
    });

    it('refuses a directory standing at the artifact path (ERR_ARTIFACT_UNSAFE_PATH)', async () => {
      const store = await FsArtifactStore.open(dir);
      await mkdir(join(dir, `x-${sha256Hex('c')}`));
      await expectArtifactError(store.put('x', 'c'), 'ERR_ARTIFACT_UNSAFE_PATH');
    });

    it('makes the file visible only with its final mode and full content', async () => {
      const seen: { mode: number; bytes: string }[] = [];
      const store = await FsArtifactStore.open(dir, {
        fs: {
          link: async (from, to) => {
            seen.push({ mode: (await lstat(from)).mode & 0o7777, bytes: await readFile(from, 'utf8') });
            await link(from, to);
          },
        },
      });
      await store.put('script', '#!/bin/sh\nexit 0\n', { mode: 0o700 });
      expect(seen).toEqual([{ mode: 0o700, bytes: '#!/bin/sh\nexit 0\n' }]);
    });
  });

  describe('verify and list', () => {
    it('refuses an artifact path replaced by a symlink to an identical file (ERR_ARTIFACT_UNSAFE_PATH)', async () => {
      const store = await FsArtifactStore.open(dir);
      const a = await store.put('x', 'content');
      const outside = join(root, 'outside');
      await writeFile(outside, 'content');
      await unlink(a.path);
      await symlink(outside, a.path);
      await expectArtifactError(store.verify(a), 'ERR_ARTIFACT_UNSAFE_PATH');
    });

    it('lists only regular files named <name>-<64 hex>: not temp files, symlinks, directories or unknown files', async () => {
      const store = await FsArtifactStore.open(dir);
      const a = await store.put('a', 'a');
      const digest = sha256Hex('zz');
      await writeFile(join(dir, '.tmp-123'), 'x');
      await writeFile(join(dir, 'notes.txt'), 'x');
      await writeFile(join(dir, `bad-${digest.toUpperCase()}`), 'x');
      await writeFile(join(dir, `-${digest}`), 'x');
      await symlink(a.path, join(dir, `link-${digest}`));
      await mkdir(join(dir, `dir-${digest}`));
      expect(await store.list()).toEqual([a]);
      const report = await store.collect();
      expect(report.removed).toEqual([a]);
      expect((await readdir(dir)).length).toBe(6);
    });
  });

  describe('collection', () => {
    it('does not lose the race: a put of content being deleted waits and writes the file anew', async () => {
      let releaseUnlink!: () => void;
      let unlinkStarted!: () => void;
      const started = new Promise<void>((resolve) => (unlinkStarted = resolve));
      const gate = new Promise<void>((resolve) => (releaseUnlink = resolve));
      const events: string[] = [];
      const store = await FsArtifactStore.open(dir, {
        fs: {
          unlink: async (path) => {
            if (path.includes('.tmp-')) return unlink(path);
            unlinkStarted();
            await gate;
            await unlink(path);
            events.push('unlinked');
          },
          link: async (from, to) => {
            await link(from, to);
            events.push('linked');
          },
        },
      });
      const a = await store.put('x', 'content');
      const collecting = store.collect();
      await started;
      // The collection has decided and is deleting; the file is still there.
      let putDone = false;
      const putting = store.put('x', 'content').then((artifact) => {
        putDone = true;
        return artifact;
      });
      const lease = store.lease(a, 'container c1');
      const verifying = store.verify(a);
      await sleep(30);
      expect(putDone).toBe(false);
      releaseUnlink();
      const report = await collecting;
      expect(report.removed).toEqual([a]);
      expect(await putting).toEqual(a);
      await verifying;
      // Written anew after the deletion, not reused just before it.
      expect(events).toEqual(['linked', 'unlinked', 'linked']);
      expect((await store.collect()).entries[0]?.roots).toEqual([{ kind: 'lease', detail: 'container c1' }]);
      lease.release();
    });

    it('reports a removal that failed as ERR_ARTIFACT_IO and still removes the others', async () => {
      const store = await FsArtifactStore.open(dir, {
        fs: {
          unlink: async (path) => {
            if (path.includes('/a-')) throw Object.assign(new Error('injected'), { code: 'EIO' });
            await unlink(path);
          },
        },
      });
      const a = await store.put('a', 'a');
      const b = await store.put('b', 'b');
      const error = await expectArtifactError(store.collect(), 'ERR_ARTIFACT_IO');
      expect(error.cause).toBeInstanceOf(Error);
      await store.verify(a);
      await expect(stat(b.path)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('counts a file that vanished before its removal as removed', async () => {
      const store = await FsArtifactStore.open(dir, {
        fs: {
          unlink: async (path) => {
            await unlink(path);
            if (!path.includes('.tmp-')) await unlink(path);
          },
        },
      });
      const a = await store.put('a', 'a');
      expect((await store.collect()).removed).toEqual([a]);
    });
  });
});
