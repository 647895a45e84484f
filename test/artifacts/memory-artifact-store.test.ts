import { describe, expect, it } from 'vitest';

import { MemoryArtifactStore } from '../../src/artifacts/memory-artifact-store.js';
import { describeArtifactStoreContract, expectArtifactError, expectArtifactErrorSync, sha256Hex } from '../helpers/artifact-store-contract.js';

describeArtifactStoreContract('MemoryArtifactStore', (options) => {
  const store = new MemoryArtifactStore(options);
  return Promise.resolve({
    store,
    tamper: (artifact, bytes) => {
      store.tamper(artifact, bytes);
      return Promise.resolve();
    },
    removeBehindTheBack: (artifact) => {
      store.tamper(artifact, undefined);
      return Promise.resolve();
    },
    modeOf: (artifact) => Promise.resolve(store.inspect(artifact)?.mode ?? -1),
    bytesOf: (artifact) => Promise.resolve(store.inspect(artifact)?.bytes ?? new Uint8Array()),
    cleanup: () => Promise.resolve(),
  });
});

describe('MemoryArtifactStore', () => {
  it('names paths memory:<name>-<sha256>', async () => {
    const store = new MemoryArtifactStore();
    const a = await store.put('runc-debug', 'x');
    expect(a.path).toBe(`memory:runc-debug-${sha256Hex('x')}`);
  });

  it('inspect returns a copy: changing it does not change the stored bytes', async () => {
    const store = new MemoryArtifactStore();
    const a = await store.put('x', 'abc');
    const seen = store.inspect(a)!;
    seen.bytes.fill(0);
    await store.verify(a);
    expect(store.inspect('memory:nothing')).toBeUndefined();
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

  it('refuses a keep-list entry that is not an artifact path (ERR_ARTIFACT_NAME)', () => {
    expectArtifactErrorSync(() => new MemoryArtifactStore({ keep: ['runc-debug'] }), 'ERR_ARTIFACT_NAME');
    expectArtifactErrorSync(() => new MemoryArtifactStore({ keep: [`../x-${sha256Hex('k')}`] }), 'ERR_ARTIFACT_NAME');
  });

  it('refuses to tamper with nothing (ERR_ARTIFACT_INTEGRITY)', () => {
    expectArtifactErrorSync(() => {
      new MemoryArtifactStore().tamper('memory:nothing', 'x');
    }, 'ERR_ARTIFACT_INTEGRITY');
  });

  it('refuses an artifact of a file store (ERR_ARTIFACT_UNSAFE_PATH)', async () => {
    const store = new MemoryArtifactStore();
    const digest = sha256Hex('x');
    await expectArtifactError(store.verify({ name: 'x', digest, path: `/tmp/x-${digest}`, size: 1 }), 'ERR_ARTIFACT_UNSAFE_PATH');
  });
});
