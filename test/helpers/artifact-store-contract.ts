// The behaviour every ArtifactStore implementation must have. Each implementation's test
// file calls describeArtifactStoreContract with a factory.
import { createHash } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import type { Artifact, ArtifactStore, ExternalRoot } from '../../src/artifacts/artifact-store.js';
import { ArtifactError } from '../../src/errors.js';

/** A store under test plus the out-of-band operations a test needs. */
export interface StoreFixture {
  readonly store: ArtifactStore;
  /** Replaces the bytes behind `artifact` without going through the store. */
  tamper(artifact: Artifact, bytes: Uint8Array): Promise<void>;
  /** Deletes the artifact without going through the store. */
  removeBehindTheBack(artifact: Artifact): Promise<void>;
  /** The permission bits the artifact is stored with. */
  modeOf(artifact: Artifact): Promise<number>;
  /** The bytes stored behind `artifact`. */
  bytesOf(artifact: Artifact): Promise<Uint8Array>;
  cleanup(): Promise<void>;
}

/** Creates a fresh, empty store; `keep` is the keep-list given at creation. */
export type StoreFactory = (options: { keep?: Iterable<string | Artifact> }) => Promise<StoreFixture>;

export function sha256Hex(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Asserts that `promise` rejects with an ArtifactError of `code`. */
export async function expectArtifactError(promise: Promise<unknown>, code: ArtifactError['code']): Promise<ArtifactError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ArtifactError);
  expect((error as ArtifactError).code).toBe(code);
  return error as ArtifactError;
}

/** Asserts that `fn` throws an ArtifactError of `code`. */
export function expectArtifactErrorSync(fn: () => unknown, code: ArtifactError['code']): void {
  let error: unknown;
  try {
    fn();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(ArtifactError);
  expect((error as ArtifactError).code).toBe(code);
}

export function describeArtifactStoreContract(label: string, factory: StoreFactory): void {
  describe(`ArtifactStore contract: ${label}`, () => {
    const fixtures: StoreFixture[] = [];
    async function create(options: { keep?: Iterable<string | Artifact> } = {}): Promise<StoreFixture> {
      const fixture = await factory(options);
      fixtures.push(fixture);
      return fixture;
    }
    afterEach(async () => {
      await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
    });

    describe('put', () => {
      it('returns the name, the lowercase hex SHA-256, a path naming both, and the UTF-8 size', async () => {
        const { store } = await create();
        const a = await store.put('runc-debug', 'héllo\n');
        expect(a.name).toBe('runc-debug');
        expect(a.digest).toBe(sha256Hex('héllo\n'));
        expect(a.digest).toMatch(/^[0-9a-f]{64}$/);
        expect(a.path.endsWith(`runc-debug-${a.digest}`)).toBe(true);
        expect(a.size).toBe(7);
        expect(Object.isFrozen(a)).toBe(true);
      });

      it('returns the same artifact for the same content, given as a string or as bytes', async () => {
        const { store } = await create();
        const a = await store.put('x', 'same');
        const b = await store.put('x', new TextEncoder().encode('same'));
        expect(b).toEqual(a);
        expect(await store.list()).toHaveLength(1);
      });

      it('gives the same name with different content a different path, and keeps both', async () => {
        const { store } = await create();
        const a = await store.put('x', 'one');
        const b = await store.put('x', 'two');
        expect(b.path).not.toBe(a.path);
        expect((await store.list()).map((l) => l.path).sort()).toEqual([a.path, b.path].sort());
      });

      it('stores empty content', async () => {
        const { store } = await create();
        const a = await store.put('empty', '');
        expect(a.size).toBe(0);
        await store.verify(a);
      });

      it('stores the bytes as they were at the call, even if the caller changes its array afterwards', async () => {
        const fixture = await create();
        const bytes = new TextEncoder().encode('original');
        const pending = fixture.store.put('copy', bytes);
        bytes.fill(0x41);
        const a = await pending;
        expect(new TextDecoder().decode(await fixture.bytesOf(a))).toBe('original');
        await fixture.store.verify(a);
      });

      it('applies the mode, 0o600 by default', async () => {
        const fixture = await create();
        const script = await fixture.store.put('script', '#!/bin/sh\n', { mode: 0o700 });
        const plain = await fixture.store.put('plain', 'data');
        expect(await fixture.modeOf(script)).toBe(0o700);
        expect(await fixture.modeOf(plain)).toBe(0o600);
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
        const { store } = await create();
        await expectArtifactError(store.put(name, 'content'), 'ERR_ARTIFACT_NAME');
        expect(await store.list()).toEqual([]);
      });

      it('accepts a name of exactly 100 bytes', async () => {
        const { store } = await create();
        const a = await store.put('é'.repeat(50), 'content');
        await store.verify(a);
      });

      it('refuses to reuse a stored file whose bytes were changed (ERR_ARTIFACT_INTEGRITY)', async () => {
        const fixture = await create();
        const a = await fixture.store.put('x', 'genuine');
        await fixture.tamper(a, new TextEncoder().encode('GENUINE'));
        await expectArtifactError(fixture.store.put('x', 'genuine'), 'ERR_ARTIFACT_INTEGRITY');
      });

      it('refuses to reuse a stored file that was truncated (ERR_ARTIFACT_INTEGRITY)', async () => {
        const fixture = await create();
        const a = await fixture.store.put('x', 'genuine content');
        await fixture.tamper(a, new TextEncoder().encode('genuine'));
        await expectArtifactError(fixture.store.put('x', 'genuine content'), 'ERR_ARTIFACT_INTEGRITY');
      });

      it('refuses to reuse a stored file with another mode (ERR_ARTIFACT_INTEGRITY)', async () => {
        const { store } = await create();
        await store.put('x', 'content', { mode: 0o700 });
        await expectArtifactError(store.put('x', 'content', { mode: 0o600 }), 'ERR_ARTIFACT_INTEGRITY');
      });

      it('returns one artifact, stored once, for many concurrent puts of the same content', async () => {
        const { store } = await create();
        const results = await Promise.all(Array.from({ length: 20 }, () => store.put('same', 'concurrent')));
        expect(new Set(results.map((r) => r.path)).size).toBe(1);
        expect(await store.list()).toHaveLength(1);
        await store.verify(results[0]!);
      });

      it('stores every one of many concurrent puts of different content', async () => {
        const { store } = await create();
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(`n${i % 3}`, `content ${i}`)));
        expect(await store.list()).toHaveLength(20);
        await Promise.all(results.map((r) => store.verify(r)));
      });
    });

    describe('verify', () => {
      it('accepts an intact artifact', async () => {
        const { store } = await create();
        await store.verify(await store.put('x', 'intact'));
      });

      it('reports changed, truncated and missing artifacts as ERR_ARTIFACT_INTEGRITY', async () => {
        const fixture = await create();
        const changed = await fixture.store.put('a', 'aaaa');
        const truncated = await fixture.store.put('b', 'bbbb');
        const missing = await fixture.store.put('c', 'cccc');
        await fixture.tamper(changed, new TextEncoder().encode('AAAA'));
        await fixture.tamper(truncated, new TextEncoder().encode('bb'));
        await fixture.removeBehindTheBack(missing);
        await expectArtifactError(fixture.store.verify(changed), 'ERR_ARTIFACT_INTEGRITY');
        await expectArtifactError(fixture.store.verify(truncated), 'ERR_ARTIFACT_INTEGRITY');
        await expectArtifactError(fixture.store.verify(missing), 'ERR_ARTIFACT_INTEGRITY');
      });

      it('refuses an artifact whose path is not the one its name and digest give (ERR_ARTIFACT_UNSAFE_PATH)', async () => {
        const { store } = await create();
        const a = await store.put('x', 'content');
        const forged = { ...a, path: `${a.path}-elsewhere` };
        await expectArtifactError(store.verify(forged), 'ERR_ARTIFACT_UNSAFE_PATH');
        expectArtifactErrorSync(() => store.lease(forged, 'someone'), 'ERR_ARTIFACT_UNSAFE_PATH');
      });
    });

    describe('leases and collection', () => {
      it('removes artifacts no root holds and reports each one', async () => {
        const { store } = await create();
        const a = await store.put('a', 'a');
        const b = await store.put('b', 'b');
        const report = await store.collect();
        expect(report.dryRun).toBe(false);
        expect(report.removed.map((r) => r.path).sort()).toEqual([a.path, b.path].sort());
        expect(report.entries.map((e) => e.action)).toEqual(['removed', 'removed']);
        expect(await store.list()).toEqual([]);
      });

      it('keeps a leased artifact until the lease is released', async () => {
        const { store } = await create();
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
        const { store } = await create();
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
        const { store } = await create();
        const a = await store.put('a', 'a');
        {
          using lease = store.lease(a, 'scoped');
          expect((await store.collect()).removed).toEqual([]);
          expect(lease.released).toBe(false);
        }
        expect((await store.collect()).removed).toEqual([a]);
      });

      it('in a dry run removes nothing and reports every artifact with its roots', async () => {
        const fixture = await create({ keep: [`kept-${sha256Hex('k')}`] });
        const { store } = fixture;
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
        await fixture.store.verify(garbage);
      });

      it('keeps artifacts on the keep-list for the life of the store', async () => {
        const { store } = await create({ keep: [`kept-${sha256Hex('k')}`] });
        const kept = await store.put('kept', 'k');
        await store.collect();
        await store.collect();
        await store.verify(kept);
      });

      it('asks for external roots again right before each deletion', async () => {
        const { store } = await create();
        const a = await store.put('a', 'a');
        const b = await store.put('b', 'b');
        let calls = 0;
        // b becomes live only after the first look: the collection must notice.
        const roots = (): ExternalRoot[] => (++calls > 1 ? [{ artifact: b, root: { kind: 'transaction', detail: 'txn 7' } }] : []);
        const report = await store.collect({ roots });
        expect(calls).toBeGreaterThan(1);
        expect(report.removed).toEqual([a]);
        expect(report.entries.find((e) => e.artifact.path === b.path)).toEqual({
          artifact: b,
          roots: [{ kind: 'transaction', detail: 'txn 7' }],
          action: 'kept',
        });
        await store.verify(b);
      });

      it('never removes what a put running during the collection wrote', async () => {
        const { store } = await create();
        const old = await store.put('old', 'old');
        const [report, fresh] = await Promise.all([store.collect(), store.put('fresh', 'fresh')]);
        expect(report.removed.map((r) => r.path)).not.toContain(fresh.path);
        await store.verify(fresh);
        expect(report.removed.map((r) => r.path)).toContain(old.path);
      });

      it('lets a lease on a removed artifact be detected by verify, and a put recreate the file under it', async () => {
        const { store } = await create();
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
        const { store } = await create();
        await store.put('a', 'a');
        const [one, two] = await Promise.all([store.collect(), store.collect()]);
        expect(one.removed).toHaveLength(1);
        expect(two.entries).toEqual([]);
      });
    });
  });
}
