// The behaviour every ArtifactBackend must have. Each backend's test file calls
// describeArtifactBackendContract with a factory. Nothing under test/ is published: a
// third-party backend copies this file, with ./artifact-errors.ts and ./rejection.ts and
// the src/ imports pointed at txconfig and node:crypto (docs/artifacts.md, "Writing a backend").
// What the engine adds on top (names, leases, the race with collections) is tested once,
// in test/artifacts/artifact-store.test.ts.
import { afterEach, describe, expect, it } from 'vitest';

import type { ArtifactBackend } from '../../src/artifacts/artifact-backend.js';
import { sha256Hex } from '../../src/internal/sha256.js';
import { expectArtifactError } from './artifact-errors.js';

/** A backend under test plus the out-of-band operations a test needs. */
export interface BackendFixture {
  readonly backend: ArtifactBackend;
  /** Replaces the bytes stored under `fileName` without going through the backend; the mode stays. */
  tamper(fileName: string, bytes: Uint8Array): Promise<void>;
  /** Deletes the file without going through the backend. */
  removeBehindTheBack(fileName: string): Promise<void>;
  /** The permission bits the file is stored with. */
  modeOf(fileName: string): Promise<number>;
  /** The bytes stored under `fileName`. */
  bytesOf(fileName: string): Promise<Uint8Array>;
  cleanup(): Promise<void>;
}

/** Creates a fresh, empty backend. */
export type BackendFactory = () => Promise<BackendFixture>;

/** A file as the engine would write it: bytes, their digest, and the `<name>-<digest>` file name. */
export function fileOf(name: string, content: string): { fileName: string; bytes: Uint8Array; digest: string; size: number } {
  const bytes = new TextEncoder().encode(content);
  const digest = sha256Hex(bytes);
  return { fileName: `${name}-${digest}`, bytes, digest, size: bytes.byteLength };
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

export function describeArtifactBackendContract(label: string, factory: BackendFactory): void {
  describe(`ArtifactBackend contract: ${label}`, () => {
    const fixtures: BackendFixture[] = [];
    async function create(): Promise<BackendFixture> {
      const fixture = await factory();
      fixtures.push(fixture);
      return fixture;
    }
    afterEach(async () => {
      await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
    });

    describe('locate', () => {
      it('gives each file name one path, the same every time and distinct from every other name’s', async () => {
        const { backend } = await create();
        const a = fileOf('a', 'x');
        const b = fileOf('b', 'x');
        expect(backend.locate(a.fileName)).toBe(backend.locate(a.fileName));
        expect(backend.locate(a.fileName)).not.toBe(backend.locate(b.fileName));
        expect(backend.locate(a.fileName).endsWith(a.fileName)).toBe(true);
      });
    });

    describe('writeIfAbsent', () => {
      it('stores the bytes with the mode, reports created, and lists the file with its size', async () => {
        const fixture = await create();
        const f = fileOf('script', '#!/bin/sh\nexit 0\n');
        expect(await fixture.backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o700, digest: f.digest })).toEqual({ created: true });
        expect(text(await fixture.bytesOf(f.fileName))).toBe('#!/bin/sh\nexit 0\n');
        expect(await fixture.modeOf(f.fileName)).toBe(0o700);
        expect(await fixture.backend.list()).toEqual([{ fileName: f.fileName, size: f.size }]);
      });

      it('stores empty content', async () => {
        const fixture = await create();
        const f = fileOf('empty', '');
        await fixture.backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o600, digest: f.digest });
        await fixture.backend.check(f.fileName, { digest: f.digest, size: 0 });
        expect(await fixture.backend.list()).toEqual([{ fileName: f.fileName, size: 0 }]);
      });

      it('reports created: false for the same bytes and mode already stored, and leaves the file as it was', async () => {
        const fixture = await create();
        const f = fileOf('x', 'same');
        await fixture.backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o600, digest: f.digest });
        expect(await fixture.backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o600, digest: f.digest })).toEqual({ created: false });
        expect(text(await fixture.bytesOf(f.fileName))).toBe('same');
        expect(await fixture.backend.list()).toHaveLength(1);
      });

      it('refuses a stored file whose bytes were changed (ERR_ARTIFACT_INTEGRITY) and leaves it for an operator', async () => {
        const fixture = await create();
        const f = fileOf('x', 'genuine');
        await fixture.backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o600, digest: f.digest });
        await fixture.tamper(f.fileName, new TextEncoder().encode('GENUINE'));
        await expectArtifactError(fixture.backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o600, digest: f.digest }), 'ERR_ARTIFACT_INTEGRITY');
        expect(text(await fixture.bytesOf(f.fileName))).toBe('GENUINE');
      });

      it('refuses a stored file that was truncated (ERR_ARTIFACT_INTEGRITY)', async () => {
        const fixture = await create();
        const f = fileOf('x', 'genuine content');
        await fixture.backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o600, digest: f.digest });
        await fixture.tamper(f.fileName, new TextEncoder().encode('genuine'));
        await expectArtifactError(fixture.backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o600, digest: f.digest }), 'ERR_ARTIFACT_INTEGRITY');
      });

      it('refuses the same bytes under the same name with another mode (ERR_ARTIFACT_INTEGRITY), keeping the first mode', async () => {
        const fixture = await create();
        const f = fileOf('x', 'content');
        await fixture.backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o700, digest: f.digest });
        await expectArtifactError(fixture.backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o600, digest: f.digest }), 'ERR_ARTIFACT_INTEGRITY');
        expect(await fixture.modeOf(f.fileName)).toBe(0o700);
      });

      it('reports created for exactly one of many concurrent writes of one file, and stores it once', async () => {
        const fixture = await create();
        const f = fileOf('same', 'concurrent');
        const results = await Promise.all(Array.from({ length: 20 }, () => fixture.backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o600, digest: f.digest })));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(await fixture.backend.list()).toEqual([{ fileName: f.fileName, size: f.size }]);
        await fixture.backend.check(f.fileName, { digest: f.digest, size: f.size });
      });

      it('stores every one of many concurrent writes of different files', async () => {
        const fixture = await create();
        const files = Array.from({ length: 20 }, (_, i) => fileOf(`n${i % 3}`, `content ${i}`));
        await Promise.all(files.map((f) => fixture.backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o600, digest: f.digest })));
        expect((await fixture.backend.list()).map((l) => l.fileName).sort()).toEqual(files.map((f) => f.fileName).sort());
        await Promise.all(files.map((f) => fixture.backend.check(f.fileName, { digest: f.digest, size: f.size })));
      });
    });

    describe('check', () => {
      it('accepts an intact file', async () => {
        const fixture = await create();
        const f = fileOf('x', 'intact');
        await fixture.backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o600, digest: f.digest });
        await fixture.backend.check(f.fileName, { digest: f.digest, size: f.size });
      });

      it('reports changed, truncated and missing files as ERR_ARTIFACT_INTEGRITY', async () => {
        const fixture = await create();
        const [changed, truncated, missing] = [fileOf('a', 'aaaa'), fileOf('b', 'bbbb'), fileOf('c', 'cccc')];
        for (const f of [changed, truncated, missing]) await fixture.backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o600, digest: f.digest });
        await fixture.tamper(changed.fileName, new TextEncoder().encode('AAAA'));
        await fixture.tamper(truncated.fileName, new TextEncoder().encode('bb'));
        await fixture.removeBehindTheBack(missing.fileName);
        for (const f of [changed, truncated, missing]) {
          await expectArtifactError(fixture.backend.check(f.fileName, { digest: f.digest, size: f.size }), 'ERR_ARTIFACT_INTEGRITY');
        }
      });

      it('reports a file of another size than expected as ERR_ARTIFACT_INTEGRITY', async () => {
        const fixture = await create();
        const f = fileOf('x', 'four');
        await fixture.backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o600, digest: f.digest });
        await expectArtifactError(fixture.backend.check(f.fileName, { digest: f.digest, size: 5 }), 'ERR_ARTIFACT_INTEGRITY');
      });
    });

    describe('list and remove', () => {
      it('lists nothing in an empty backend', async () => {
        const { backend } = await create();
        expect(await backend.list()).toEqual([]);
      });

      it('removes a file, which then is neither listed nor checkable, and lets it be written anew', async () => {
        const fixture = await create();
        const [a, b] = [fileOf('a', 'a'), fileOf('b', 'bb')];
        for (const f of [a, b]) await fixture.backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o600, digest: f.digest });
        await fixture.backend.remove(a.fileName);
        expect(await fixture.backend.list()).toEqual([{ fileName: b.fileName, size: 2 }]);
        await expectArtifactError(fixture.backend.check(a.fileName, { digest: a.digest, size: a.size }), 'ERR_ARTIFACT_INTEGRITY');
        expect(await fixture.backend.writeIfAbsent(a.fileName, a.bytes, { mode: 0o600, digest: a.digest })).toEqual({ created: true });
      });

      it('takes the removal of a missing file as done', async () => {
        const fixture = await create();
        const f = fileOf('x', 'x');
        await fixture.backend.remove(f.fileName);
        await fixture.backend.writeIfAbsent(f.fileName, f.bytes, { mode: 0o600, digest: f.digest });
        await fixture.removeBehindTheBack(f.fileName);
        await fixture.backend.remove(f.fileName);
        expect(await fixture.backend.list()).toEqual([]);
      });
    });
  });
}
