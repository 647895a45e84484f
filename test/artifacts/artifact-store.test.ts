// The engine, once, over the memory backend (whose map the test holds): names, digests,
// modes, reuse, leases, the keep-list, collection, the race between puts and deletions,
// and how backend failures reach the caller. What each backend must do on its own is the
// contract suite, test/helpers/artifact-backend-contract.ts.
import { setTimeout as sleep } from 'node:timers/promises';

import { describe, expect, it } from 'vitest';

import type { ArtifactBackend } from '../../src/artifacts/artifact-backend.js';
import { ArtifactStore } from '../../src/artifacts/artifact-store.js';
import type { ExternalRoot } from '../../src/artifacts/gc-report.js';
import { MemoryArtifactBackend } from '../../src/artifacts/memory-artifact-backend.js';
import { ArtifactError } from '../../src/errors.js';
import { sha256Hex } from '../../src/internal/sha256.js';
import { artifactGate, backendWith, memoryStoreWithBackdoor } from '../helpers/artifact-backdoor.js';
import { expectArgumentError, expectArtifactError, expectArtifactErrorSync } from '../helpers/artifact-errors.js';
import { rejection, thrownBy } from '../helpers/rejection.js';
import { errnoError } from '../helpers/errno-error.js';
import { raceAPutAgainstARemoval } from '../helpers/put-during-removal.js';

const create = memoryStoreWithBackdoor;

describe('ArtifactStore', () => {
  describe('put', () => {
    it('returns the name, the lowercase hex SHA-256, a path naming both, and the UTF-8 size', async () => {
      const { store } = create();
      const a = await store.put('runc-debug', 'héllo\n');
      expect(a.name).toBe('runc-debug');
      expect(a.digest).toBe(sha256Hex('héllo\n'));
      expect(a.digest).toMatch(/^[0-9a-f]{64}$/);
      expect(a.path).toBe(`memory:runc-debug-${a.digest}`);
      expect(a.size).toBe(7);
      expect(Object.isFrozen(a)).toBe(true);
    });

    it('digests with SHA-256 as 64 lowercase hex characters', async () => {
      const { store } = create();
      expect((await store.put('x', '')).digest).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
      expect((await store.put('x', new TextEncoder().encode('abc'))).digest).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    });

    it('returns the same artifact for the same content, given as a string or as bytes', async () => {
      const { store } = create();
      const a = await store.put('x', 'same');
      const b = await store.put('x', new TextEncoder().encode('same'));
      expect(b).toEqual(a);
      expect(await store.list()).toHaveLength(1);
    });

    it('gives the same name with different content a different path, and keeps both', async () => {
      const { store } = create();
      const a = await store.put('x', 'one');
      const b = await store.put('x', 'two');
      expect(b.path).not.toBe(a.path);
      expect((await store.list()).map((l) => l.path).sort()).toEqual([a.path, b.path].sort());
    });

    it('stores empty content', async () => {
      const { store } = create();
      const a = await store.put('empty', '');
      expect(a.size).toBe(0);
      await store.verify(a);
    });

    it('stores the bytes as they were at the call, even if the caller changes its array afterwards', async () => {
      const { store, backdoor } = create();
      const bytes = new TextEncoder().encode('original');
      const pending = store.put('copy', bytes);
      bytes.fill(0x41);
      const a = await pending;
      expect(new TextDecoder().decode(backdoor.inspect(a)?.bytes)).toBe('original');
      await store.verify(a);
    });

    it('applies the mode, 0o600 by default', async () => {
      const { store, backdoor } = create();
      const script = await store.put('script', '#!/bin/sh\n', { mode: 0o700 });
      const plain = await store.put('plain', 'data');
      expect(backdoor.inspect(script)?.mode).toBe(0o700);
      expect(backdoor.inspect(plain)?.mode).toBe(0o600);
    });

    it.each([
      ['empty', ''],
      ['a slash', 'a/b'],
      ['a backslash', 'a\\b'],
      ['dot-dot', '..'],
      ['dot-dot inside', 'a..b'],
      ['a leading dot', '.hidden'],
      ['NUL', 'a\u0000b'],
      ['a newline', 'a\nb'],
      ['DEL', 'a\u007fb'],
      ['over 100 bytes', 'é'.repeat(51)],
    ])('refuses a name with %s (ERR_ARTIFACT_NAME) and stores nothing', async (_what, name) => {
      const { store } = create();
      await expectArtifactError(store.put(name, 'content'), 'ERR_ARTIFACT_NAME');
      expect(await store.list()).toEqual([]);
    });

    it('accepts a name of exactly 100 bytes', async () => {
      const { store } = create();
      const a = await store.put('é'.repeat(50), 'content');
      await store.verify(a);
    });

    it('refuses content that is neither a string nor a Uint8Array (ERR_ARGUMENT) and stores nothing', async () => {
      const { store } = create();
      const refused: unknown[] = [undefined, null, 42, {}, ['a']];
      for (const content of refused) {
        expectArgumentError(await rejection(store.put('x', content as string)), 'content');
      }
      expect(await store.list()).toEqual([]);
    });

    it('refuses a backend without the five methods of the contract (ERR_ARGUMENT), naming the one missing', () => {
      expectArgumentError(thrownBy(() => new ArtifactStore(null as unknown as ArtifactBackend)), 'backend');
      expectArgumentError(thrownBy(() => new ArtifactStore({} as ArtifactBackend)), 'backend.locate');
      const withoutRemove = { locate: String, list: () => Promise.resolve([]), writeIfAbsent: () => Promise.resolve({ created: true }), check: () => Promise.resolve() };
      expectArgumentError(thrownBy(() => new ArtifactStore(withoutRemove as unknown as ArtifactBackend)), 'backend.remove');
    });

    it('refuses a lease holder that is not a non-empty string, and collect options of the wrong type (ERR_ARGUMENT)', async () => {
      const { store } = create();
      const a = await store.put('x', 'content');
      expectArgumentError(thrownBy(() => store.lease(a, '')), 'holder');
      expectArgumentError(thrownBy(() => store.lease(a, 5 as unknown as string)), 'holder');
      expectArgumentError(await rejection(store.collect({ roots: 5 as unknown as () => [] })), 'roots');
      expectArgumentError(await rejection(store.collect({ dryRun: 'x' as unknown as boolean })), 'dryRun');
      expect(await store.list()).toEqual([a]);
    });

    it('refuses modes outside 0..0o7777 (ERR_ARGUMENT) and stores nothing', async () => {
      const { store } = create();
      for (const mode of [-1, 0o10000, 1.5, Number.NaN, '755' as unknown as number]) {
        expectArgumentError(await rejection(store.put('x', 'content', { mode })), 'mode');
      }
      expect(await store.list()).toEqual([]);
      expect((await store.put('x', 'content', { mode: 0o7777 })).size).toBe(7);
    });

    it('refuses to reuse a stored file whose bytes were changed, or truncated (ERR_ARTIFACT_INTEGRITY)', async () => {
      const { store, backdoor } = create();
      const changed = await store.put('x', 'genuine');
      const truncated = await store.put('y', 'genuine content');
      backdoor.tamper(changed, 'GENUINE');
      backdoor.tamper(truncated, 'genuine');
      await expectArtifactError(store.put('x', 'genuine'), 'ERR_ARTIFACT_INTEGRITY');
      await expectArtifactError(store.put('y', 'genuine content'), 'ERR_ARTIFACT_INTEGRITY');
    });

    it('refuses to reuse a stored file with another mode (ERR_ARTIFACT_INTEGRITY)', async () => {
      const { store } = create();
      await store.put('x', 'content', { mode: 0o700 });
      await expectArtifactError(store.put('x', 'content', { mode: 0o600 }), 'ERR_ARTIFACT_INTEGRITY');
    });

    it('returns one artifact, stored once, for many concurrent puts of the same content', async () => {
      const { store } = create();
      const results = await Promise.all(Array.from({ length: 20 }, () => store.put('same', 'concurrent')));
      expect(new Set(results.map((r) => r.path)).size).toBe(1);
      expect(await store.list()).toHaveLength(1);
      await store.verify(results[0]!);
    });

    it('stores every one of many concurrent puts of different content', async () => {
      const { store } = create();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(`n${i % 3}`, `content ${i}`)));
      expect(await store.list()).toHaveLength(20);
      await Promise.all(results.map((r) => store.verify(r)));
    });

    it('asks the backend only for the checked file name, with the digest and mode', async () => {
      const calls: unknown[] = [];
      const inner = new MemoryArtifactBackend();
      const store = new ArtifactStore(
        backendWith(inner, {
          writeIfAbsent: (fileName, bytes, options) => {
            calls.push({ fileName, size: bytes.byteLength, ...options });
            return inner.writeIfAbsent(fileName, bytes, options);
          },
        }),
      );
      const a = await store.put('runc', 'abc', { mode: 0o750 });
      expect(calls).toEqual([{ fileName: `runc-${a.digest}`, size: 3, mode: 0o750, digest: a.digest }]);
    });
  });

  describe('verify', () => {
    it('accepts an intact artifact', async () => {
      const { store } = create();
      await store.verify(await store.put('x', 'intact'));
    });

    it('reports changed, truncated and missing artifacts as ERR_ARTIFACT_INTEGRITY', async () => {
      const { store, backdoor } = create();
      const changed = await store.put('a', 'aaaa');
      const truncated = await store.put('b', 'bbbb');
      const missing = await store.put('c', 'cccc');
      backdoor.tamper(changed, 'AAAA');
      backdoor.tamper(truncated, 'bb');
      backdoor.tamper(missing, undefined);
      await expectArtifactError(store.verify(changed), 'ERR_ARTIFACT_INTEGRITY');
      await expectArtifactError(store.verify(truncated), 'ERR_ARTIFACT_INTEGRITY');
      await expectArtifactError(store.verify(missing), 'ERR_ARTIFACT_INTEGRITY');
    });

    it('refuses an artifact whose path is not the one its name and digest give (ERR_ARTIFACT_UNSAFE_PATH)', async () => {
      const { store } = create();
      const a = await store.put('x', 'content');
      const forged = { ...a, path: `${a.path}-elsewhere` };
      await expectArtifactError(store.verify(forged), 'ERR_ARTIFACT_UNSAFE_PATH');
      expectArtifactErrorSync(() => store.lease(forged, 'someone'), 'ERR_ARTIFACT_UNSAFE_PATH');
    });

    it('refuses an artifact whose name and digest are not an artifact file name (ERR_ARTIFACT_UNSAFE_PATH)', async () => {
      const { store } = create();
      const forged = { name: '../x', digest: 'nope', path: 'memory:../x-nope', size: 1 };
      await expectArtifactError(store.verify(forged), 'ERR_ARTIFACT_UNSAFE_PATH');
      expectArtifactErrorSync(() => store.lease(forged, 'h'), 'ERR_ARTIFACT_UNSAFE_PATH');
    });
  });

  describe('leases and collection', () => {
    it('removes artifacts no root holds and reports each one', async () => {
      const { store } = create();
      const a = await store.put('a', 'a');
      const b = await store.put('b', 'b');
      const report = await store.collect();
      expect(report.dryRun).toBe(false);
      expect(report.removed.map((r) => r.path).sort()).toEqual([a.path, b.path].sort());
      expect(report.entries.map((e) => e.action)).toEqual(['removed', 'removed']);
      expect(await store.list()).toEqual([]);
    });

    it('keeps a leased artifact until the lease is released', async () => {
      const { store } = create();
      const a = await store.put('a', 'a');
      const lease = store.lease(a, 'container c1');
      const first = await store.collect();
      expect(first.entries).toEqual([{ artifact: a, roots: [{ kind: 'lease', detail: 'container c1' }], action: 'kept' }]);
      await store.verify(a);
      lease.release();
      expect(lease.released).toBe(true);
      const second = await store.collect();
      expect(second.removed).toEqual([a]);
    });

    it('keeps an artifact while any of its leases is held; releasing twice does nothing', async () => {
      const { store } = create();
      const a = await store.put('a', 'a');
      const one = store.lease(a, 'one');
      const two = store.lease(a, 'two');
      one.release();
      one.release();
      expect((await store.collect()).entries[0]?.roots).toEqual([{ kind: 'lease', detail: 'two' }]);
      two.release();
      expect((await store.collect()).removed).toHaveLength(1);
    });

    it('releases a lease when a `using` block ends', async () => {
      const { store } = create();
      const a = await store.put('a', 'a');
      {
        using lease = store.lease(a, 'scoped');
        expect((await store.collect()).removed).toEqual([]);
        expect(lease.released).toBe(false);
      }
      expect((await store.collect()).removed).toEqual([a]);
    });

    it('in a dry run removes nothing and reports every artifact with its roots', async () => {
      const { store } = create({ keep: [`kept-${sha256Hex('k')}`] });
      const leased = await store.put('leased', 'l');
      const kept = await store.put('kept', 'k');
      const live = await store.put('live', 'v');
      const garbage = await store.put('garbage', 'g');
      store.lease(leased, 'container c1');
      const roots = (): ExternalRoot[] => [{ artifact: live, root: { kind: 'live', detail: 'generation 4' } }];
      const report = await store.collect({ dryRun: true, roots });
      expect(report.dryRun).toBe(true);
      const byName = new Map(report.entries.map((e) => [e.artifact.name, e]));
      expect(byName.get('leased')).toEqual({ artifact: leased, roots: [{ kind: 'lease', detail: 'container c1' }], action: 'kept' });
      expect(byName.get('kept')).toEqual({ artifact: kept, roots: [{ kind: 'keep', detail: 'keep-list' }], action: 'kept' });
      expect(byName.get('live')).toEqual({ artifact: live, roots: [{ kind: 'live', detail: 'generation 4' }], action: 'kept' });
      expect(byName.get('garbage')).toEqual({ artifact: garbage, roots: [], action: 'would-remove' });
      expect(report.removed).toEqual([garbage]);
      expect(await store.list()).toHaveLength(4);
      await store.verify(garbage);
    });

    it('asks for external roots again right before each deletion', async () => {
      const { store } = create();
      const a = await store.put('a', 'a');
      const b = await store.put('b', 'b');
      let calls = 0;
      // b becomes live only after the first look: the collection must notice.
      const roots = (): ExternalRoot[] => (++calls > 1 ? [{ artifact: b, root: { kind: 'transaction', detail: 'txn 7' } }] : []);
      const report = await store.collect({ roots });
      expect(calls).toBeGreaterThan(1);
      expect(report.removed).toEqual([a]);
      expect(report.entries.find((e) => e.artifact.path === b.path)).toEqual({ artifact: b, roots: [{ kind: 'transaction', detail: 'txn 7' }], action: 'kept' });
      await store.verify(b);
    });

    it('never removes what a put running during the collection wrote', async () => {
      const { store } = create();
      const old = await store.put('old', 'old');
      const [report, fresh] = await Promise.all([store.collect(), store.put('fresh', 'fresh')]);
      expect(report.removed.map((r) => r.path)).not.toContain(fresh.path);
      await store.verify(fresh);
      expect(report.removed.map((r) => r.path)).toContain(old.path);
    });

    it('lets a lease on a removed artifact be detected by verify, and a put recreate the file under it', async () => {
      const { store } = create();
      const a = await store.put('a', 'content');
      await store.collect();
      const lease = store.lease(a, 'late holder');
      await expectArtifactError(store.verify(a), 'ERR_ARTIFACT_INTEGRITY');
      expect(await store.put('a', 'content')).toEqual(a);
      await store.verify(a);
      expect((await store.collect()).removed).toEqual([]);
      lease.release();
    });

    it('runs collections one at a time and both report consistently', async () => {
      const { store } = create();
      await store.put('a', 'a');
      const [one, two] = await Promise.all([store.collect(), store.collect()]);
      expect(one.removed).toHaveLength(1);
      expect(two.entries).toEqual([]);
    });

    it('does not lose the race: a put of content being deleted waits for the removal and writes the file anew', async () => {
      const inner = new MemoryArtifactBackend();
      const removing = artifactGate();
      const hold = artifactGate();
      const events: string[] = [];
      const backend = backendWith(inner, {
        remove: async (fileName) => {
          removing.open();
          await hold.promise;
          await inner.remove(fileName);
          events.push('removed');
        },
        writeIfAbsent: async (fileName, bytes, options) => {
          const result = await inner.writeIfAbsent(fileName, bytes, options);
          events.push(result.created ? 'created' : 'reused');
          return result;
        },
      });
      const store = new ArtifactStore(backend);
      await raceAPutAgainstARemoval(store, { started: removing.promise, release: hold.open, settleMs: 10 });
      // Written anew after the removal, not reused just before it.
      expect(events).toEqual(['created', 'removed', 'created']);
    });

    it('never starts a check of a file while removing it, in whatever turn the collection decides', async () => {
      const checksDuringRemoval: number[] = [];
      // Start verify 0, 1, 2, … microtask turns after the listing resolves, so that one run
      // lands the collection's mark between verify's wait and its check.
      for (let turns = 0; turns < 30; turns++) {
        const inner = new MemoryArtifactBackend();
        const hold = artifactGate();
        let removing = false;
        const backend = backendWith(inner, {
          remove: async (fileName) => {
            removing = true;
            await hold.promise;
            await inner.remove(fileName);
            removing = false;
          },
          check: (fileName, options) => {
            if (removing) checksDuringRemoval.push(turns);
            return inner.check(fileName, options);
          },
        });
        const store = new ArtifactStore(backend);
        const a = await store.put('x', 'content');
        const collecting = store.collect();
        for (let turn = 0; turn < turns; turn++) await Promise.resolve();
        // Either outcome is right: intact before the removal, missing after it.
        const verifying = store.verify(a).then(
          () => 'intact',
          (error: unknown) => (error instanceof ArtifactError ? error.code : error),
        );
        await sleep(1);
        hold.open();
        expect((await collecting).removed).toEqual([a]);
        expect(['intact', 'ERR_ARTIFACT_INTEGRITY']).toContain(await verifying);
      }
      expect(checksDuringRemoval).toEqual([]);
    });
  });

  describe('the keep-list', () => {
    it('keeps artifacts on the keep-list for the life of the store', async () => {
      const { store } = create({ keep: [`kept-${sha256Hex('k')}`] });
      const kept = await store.put('kept', 'k');
      await store.collect();
      await store.collect();
      await store.verify(kept);
    });

    it('accepts file names, paths the store hands out, and artifacts of the store', async () => {
      const digest = sha256Hex('k');
      const { store } = create({ keep: [`a-${digest}`, `memory:b-${digest}`, { name: 'c', digest, path: `memory:c-${digest}`, size: 1 }] });
      const kept = await Promise.all(['a', 'b', 'c'].map((name) => store.put(name, 'k')));
      const gone = await store.put('d', 'k');
      expect((await store.collect()).removed).toEqual([gone]);
      for (const artifact of kept) await store.verify(artifact);
    });

    it('refuses a string or artifact that is not an artifact of this store (ERR_ARTIFACT_NAME): a typo must not become a deletion', () => {
      const digest = sha256Hex('k');
      const backend = new MemoryArtifactBackend();
      for (const entry of ['runc-debug', `../x-${digest}`, `/tmp/x-${digest}`, { name: 'x', digest, path: `/tmp/x-${digest}`, size: 1 }]) {
        const error = expectArtifactErrorSync(() => new ArtifactStore(backend, { keep: [entry] }), 'ERR_ARTIFACT_NAME');
        expect(error.path).toBe(typeof entry === 'string' ? entry : entry.path);
      }
    });

    it('refuses a keep-list, or an entry, that is not even a string or an artifact (ERR_ARGUMENT)', () => {
      const backend = new MemoryArtifactBackend();
      for (const keep of [[42], [null], [{ name: 'x' }], 'a-file-name', 7, null]) {
        expectArgumentError(thrownBy(() => new ArtifactStore(backend, { keep: keep as unknown as string[] })), 'keep');
      }
    });
  });

  describe('backend failures', () => {
    const inner = (): MemoryArtifactBackend => new MemoryArtifactBackend();
    const failing = (method: keyof ArtifactBackend, error: Error): ArtifactBackend => {
      const backend = inner();
      return backendWith(backend, { [method]: () => Promise.reject(error) });
    };

    it('reports a failed write as ERR_ARTIFACT_IO with the path, the digest and the failure as cause', async () => {
      const cause = errnoError('ENOSPC');
      const store = new ArtifactStore(failing('writeIfAbsent', cause));
      const error = await expectArtifactError(store.put('x', 'content'), 'ERR_ARTIFACT_IO');
      expect(error).toMatchObject({ path: `memory:x-${sha256Hex('content')}`, digest: sha256Hex('content'), cause });
    });

    it('passes an artifact error of the backend through as it is', async () => {
      const refused = new ArtifactError('ERR_ARTIFACT_UNSAFE_PATH', 'a symlink', { path: 'memory:x' });
      const store = new ArtifactStore(failing('writeIfAbsent', refused));
      expect(await rejection(store.put('x', 'content'))).toBe(refused);
    });

    it('reports a failed check as ERR_ARTIFACT_IO', async () => {
      const backend = inner();
      const a = await new ArtifactStore(backend).put('x', 'content');
      const cause = new Error('odd failure without a code');
      const error = await expectArtifactError(new ArtifactStore(backendWith(backend, { check: () => Promise.reject(cause) })).verify(a), 'ERR_ARTIFACT_IO');
      expect(error).toMatchObject({ path: a.path, digest: a.digest, cause });
    });

    it('reports a failed listing as ERR_ARTIFACT_IO, from list and from collect', async () => {
      const store = new ArtifactStore(failing('list', errnoError('EIO')));
      await expectArtifactError(store.list(), 'ERR_ARTIFACT_IO');
      await expectArtifactError(store.collect(), 'ERR_ARTIFACT_IO');
    });

    it('reports a removal that failed as ERR_ARTIFACT_IO and still removes the others', async () => {
      const backend = inner();
      const seed = new ArtifactStore(backend);
      const a = await seed.put('a', 'a');
      const b = await seed.put('b', 'b');
      const store = new ArtifactStore(
        backendWith(backend, { remove: (fileName) => (fileName.startsWith('a-') ? Promise.reject(errnoError('EIO')) : backend.remove(fileName)) }),
      );
      const error = await expectArtifactError(store.collect(), 'ERR_ARTIFACT_IO');
      expect(error.cause).toMatchObject({ code: 'ERR_ARTIFACT_IO', path: a.path, cause: { code: 'EIO' } });
      await store.verify(a);
      await expectArtifactError(store.verify(b), 'ERR_ARTIFACT_INTEGRITY');
    });

    it('lists only artifact file names, whatever else the backend reports', async () => {
      const backend = inner();
      const a = await new ArtifactStore(backend).put('a', 'a');
      const digest = sha256Hex('z');
      const store = new ArtifactStore(
        backendWith(backend, {
          list: async () => [
            ...(await backend.list()),
            { fileName: '.tmp-123', size: 1 },
            { fileName: 'notes.txt', size: 1 },
            { fileName: `bad-${digest.toUpperCase()}`, size: 1 },
            { fileName: `-${digest}`, size: 1 },
          ],
        }),
      );
      expect(await store.list()).toEqual([a]);
      expect((await store.collect()).removed).toEqual([a]);
    });
  });
});
