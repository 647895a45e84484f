import { describe, expect, it } from 'vitest';

import { ArtifactStore } from '../../src/artifacts/artifact-store.js';
import { MemoryArtifactStore } from '../../src/artifacts/memory-artifact-store.js';
import { sha256Hex } from '../../src/internal/sha256.js';
import { expectArgumentError, expectArtifactError, expectArtifactErrorSync } from '../helpers/artifact-errors.js';
import { thrownBy } from '../helpers/rejection.js';

describe('MemoryArtifactStore', () => {
  it('is the artifact engine, naming paths memory:<name>-<sha256>', async () => {
    const store = new MemoryArtifactStore();
    expect(store).toBeInstanceOf(ArtifactStore);
    const a = await store.put('runc-debug', 'x');
    expect(a.path).toBe(`memory:runc-debug-${sha256Hex('x')}`);
    await store.verify(a);
    expect(await store.list()).toEqual([a]);
  });

  it('has no test backdoors in its public API', () => {
    const store = new MemoryArtifactStore() as unknown as Record<string, unknown>;
    expect(store.inspect).toBeUndefined();
    expect(store.tamper).toBeUndefined();
  });

  it('accepts keep-list entries as file names, memory: paths and artifacts', async () => {
    const digest = sha256Hex('k');
    const store = new MemoryArtifactStore({ keep: [`a-${digest}`, `memory:b-${digest}`] });
    const a = await store.put('a', 'k');
    const b = await store.put('b', 'k');
    const c = await store.put('c', 'k');
    const report = await store.collect();
    expect(report.removed).toEqual([c]);
    await store.verify(a);
    await store.verify(b);
    const again = new MemoryArtifactStore({ keep: [a] });
    await again.put('a', 'k');
    expect((await again.collect()).removed).toEqual([]);
  });

  it('refuses a keep-list entry that is not an artifact path (ERR_ARTIFACT_NAME), or not even a string (ERR_ARGUMENT)', () => {
    expectArtifactErrorSync(() => new MemoryArtifactStore({ keep: ['runc-debug'] }), 'ERR_ARTIFACT_NAME');
    expectArtifactErrorSync(() => new MemoryArtifactStore({ keep: [`../x-${sha256Hex('k')}`] }), 'ERR_ARTIFACT_NAME');
    expectArgumentError(thrownBy(() => new MemoryArtifactStore({ keep: [undefined as unknown as string] })), 'keep');
  });

  it('refuses an artifact of a file store (ERR_ARTIFACT_UNSAFE_PATH)', async () => {
    const store = new MemoryArtifactStore();
    const digest = sha256Hex('x');
    await expectArtifactError(store.verify({ name: 'x', digest, path: `/tmp/x-${digest}`, size: 1 }), 'ERR_ARTIFACT_UNSAFE_PATH');
  });
});
