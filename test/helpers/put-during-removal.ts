// The put-versus-delete race, as one scenario that runs over any artifact store: the
// engine over a memory backend (artifact-store.test.ts) and over the file system
// (fs-artifact-store.test.ts) each hold a removal open in their own way, then call this.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';

import type { Artifact } from '../../src/artifacts/artifact.js';
import type { ArtifactStore } from '../../src/artifacts/artifact-store.js';

/** How the test holds the collection's removal of the artifact open. */
export interface HeldRemoval {
  /** Resolves once the store has started removing the file (the collection has decided). */
  readonly started: Promise<void>;
  /** Lets the removal finish. */
  release(): void;
  /** How long to wait to see that the racing put does not finish before the removal. */
  readonly settleMs: number;
}

/**
 * Puts `content` as `x`, starts a collection that removes it, and while the removal is
 * held open, puts the same content again, leases and verifies it. Asserts that the put
 * waits for the removal, then writes the file anew, and that the lease then holds it.
 */
export async function raceAPutAgainstARemoval(store: ArtifactStore, removal: HeldRemoval): Promise<Artifact> {
  const a = await store.put('x', 'content');
  const collecting = store.collect();
  await removal.started;
  // The collection has decided and is deleting; the file is still there.
  let putDone = false;
  const putting = store.put('x', 'content').then((artifact) => {
    putDone = true;
    return artifact;
  });
  const lease = store.lease(a, 'container c1');
  const verifying = store.verify(a);
  await sleep(removal.settleMs);
  expect(putDone).toBe(false);
  removal.release();
  expect((await collecting).removed).toEqual([a]);
  expect(await putting).toEqual(a);
  await verifying;
  expect((await store.collect()).entries[0]?.roots).toEqual([{ kind: 'lease', detail: 'container c1' }]);
  lease.release();
  return a;
}
