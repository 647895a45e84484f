// FsArtifactStore end to end: the engine over the file backend, in real temporary
// directories, with faults injected only through the `fs` seam.
import { chmod, link, mkdir, readdir, readFile, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ArtifactStore } from '../../src/artifacts/artifact-store.js';
import { FsArtifactStore } from '../../src/artifacts/fs-artifact-store.js';
import { ArtifactError } from '../../src/errors.js';
import { sha256Hex } from '../../src/internal/sha256.js';
import { expectArgumentError, expectArtifactError } from '../helpers/artifact-errors.js';
import { rejection } from '../helpers/rejection.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';
import { errnoError } from '../helpers/errno-error.js';
import { raceAPutAgainstARemoval } from '../helpers/put-during-removal.js';

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

  it('is the artifact engine over a directory: paths are <dir>/<name>-<sha256>', async () => {
    const store = await FsArtifactStore.open(dir);
    expect(store).toBeInstanceOf(ArtifactStore);
    const a = await store.put('runc-debug', 'x');
    expect(a.path).toBe(join(dir, `runc-debug-${sha256Hex('x')}`));
    expect(await readFile(a.path, 'utf8')).toBe('x');
  });

  describe('open', () => {
    it('refuses a directory that is not a non-empty string (ERR_ARGUMENT) instead of opening the working directory', async () => {
      for (const given of ['', 5, undefined]) {
        expect(await rejection(FsArtifactStore.open(given as string))).toMatchObject({ code: 'ERR_ARGUMENT', argument: 'dir' });
      }
    });

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

    it('refuses a directory that is a symlink (ERR_ARTIFACT_UNSAFE_PATH)', async () => {
      await mkdir(join(root, 'real'));
      await symlink(join(root, 'real'), dir);
      await expectArtifactError(FsArtifactStore.open(dir), 'ERR_ARTIFACT_UNSAFE_PATH');
    });

    it('refuses a path that is a regular file (ERR_ARTIFACT_UNSAFE_PATH)', async () => {
      await writeFile(dir, 'not a directory');
      await expectArtifactError(FsArtifactStore.open(dir), 'ERR_ARTIFACT_UNSAFE_PATH');
    });

    it('reports a directory it cannot stat as ERR_ARTIFACT_IO', async () => {
      const error = await expectArtifactError(FsArtifactStore.open(dir, { fs: { lstat: () => Promise.reject(errnoError('EACCES')) } }), 'ERR_ARTIFACT_IO');
      expect(error.path).toBe(dir);
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

    it.each(['ENOENT', 'EISDIR', 'EPERM'])('leaves a temporary file alone when removing it fails with %s', async (code) => {
      await mkdir(dir);
      await writeFile(join(dir, '.tmp-leftover'), 'x');
      const store = await FsArtifactStore.open(dir, { fs: { unlink: () => Promise.reject(errnoError(code)) } });
      expect(store.dir).toBe(dir);
    });

    it('fails with ERR_ARTIFACT_IO when a temporary file cannot be removed for another reason', async () => {
      await mkdir(dir);
      await writeFile(join(dir, '.tmp-leftover'), 'x');
      await expectArtifactError(FsArtifactStore.open(dir, { fs: { unlink: () => Promise.reject(errnoError('EIO')) } }), 'ERR_ARTIFACT_IO');
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

    it('takes a relative keep-list path with a slash from the working directory', async () => {
      const first = await FsArtifactStore.open(dir);
      const a = await first.put('a', 'a');
      await first.put('stale', 's');
      const fromHere = relative(process.cwd(), a.path);
      expect(fromHere).toContain('/');
      const second = await FsArtifactStore.open(dir, { keep: [fromHere], removeUnkept: true });
      expect(await second.list()).toEqual([a]);
    });

    it('without removeUnkept keeps every earlier artifact', async () => {
      const first = await FsArtifactStore.open(dir);
      const a = await first.put('a', 'a');
      const second = await FsArtifactStore.open(dir);
      expect(await second.list()).toEqual([a]);
    });

    it('refuses keep-list entries that are not artifacts of the directory (ERR_ARTIFACT_NAME), before touching the disk', async () => {
      const digest = sha256Hex('x');
      await expectArtifactError(FsArtifactStore.open(dir, { keep: ['runc-debug'] }), 'ERR_ARTIFACT_NAME');
      await expectArtifactError(FsArtifactStore.open(dir, { keep: [join(root, 'elsewhere', `x-${digest}`)] }), 'ERR_ARTIFACT_NAME');
      await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('refuses a keep-list, or an entry, that is not even a string or an artifact (ERR_ARGUMENT), before touching the disk', async () => {
      expectArgumentError(await rejection(FsArtifactStore.open(dir, { keep: [42 as unknown as string] })), 'keep');
      expectArgumentError(await rejection(FsArtifactStore.open(dir, { keep: 7 as unknown as string[] })), 'keep');
      expectArgumentError(await rejection(FsArtifactStore.open(dir, { keep: null as unknown as string[] })), 'keep');
      await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
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
      await symlink(outside, join(dir, `x-${sha256Hex('evil')}`));
      const error = await expectArtifactError(store.put('x', 'evil'), 'ERR_ARTIFACT_UNSAFE_PATH');
      expect(error.path).toBe(join(dir, `x-${sha256Hex('evil')}`));
      expect(await readFile(outside, 'utf8')).toBe('precious');
    });
  });

  describe('list and collection', () => {
    it('lists and collects only regular files named <name>-<64 hex>: not temp files, symlinks, directories or unknown files', async () => {
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
      await raceAPutAgainstARemoval(store, { started, release: releaseUnlink, settleMs: 30 });
      // Written anew after the deletion, not reused just before it.
      expect(events).toEqual(['linked', 'unlinked', 'linked']);
    });

    it('reports a removal that failed as ERR_ARTIFACT_IO and still removes the others', async () => {
      const store = await FsArtifactStore.open(dir, {
        fs: {
          unlink: async (path) => {
            if (path.includes('/a-')) throw errnoError('EIO');
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

    it('runs every removal and reports several failures together as ERR_ARTIFACT_IO', async () => {
      let failRemovals = false;
      const store = await FsArtifactStore.open(dir, {
        fs: {
          unlink: async (path) => {
            if (failRemovals) throw errnoError('EBUSY');
            await unlink(path);
          },
        },
      });
      await store.put('a', 'x');
      await store.put('b', 'y');
      failRemovals = true;
      const error = await expectArtifactError(store.collect(), 'ERR_ARTIFACT_IO');
      expect(error).toBeInstanceOf(ArtifactError);
      expect(error.cause).toBeInstanceOf(AggregateError);
      expect((error.cause as AggregateError).errors).toHaveLength(2);
      expect((await store.list()).map((artifact) => artifact.name)).toEqual(['a', 'b']);
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
