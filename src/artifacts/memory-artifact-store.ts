/**
 * An {@link ArtifactStore} in memory, for tests of code that writes artifacts: the same
 * engine as {@link FsArtifactStore} (names, digests, reuse, leases, collection), no files.
 */
import { ArtifactStore, type ArtifactStoreOptions } from './artifact-store.js';
import { MemoryArtifactBackend } from './memory-artifact-backend.js';

/** Options of the {@link MemoryArtifactStore} constructor: the keep-list takes file names, `memory:` paths or artifacts. */
export type MemoryArtifactStoreOptions = ArtifactStoreOptions;

/**
 * Content-addressed artifacts in memory, paths `memory:<name>-<sha256>`: for tests.
 *
 * @example
 * ```ts
 * const artifacts = new MemoryArtifactStore();
 * const a = await artifacts.put('runc-debug', '#!/bin/sh\n', { mode: 0o700 });
 * a.path; // 'memory:runc-debug-<sha256>'
 * ```
 */
export class MemoryArtifactStore extends ArtifactStore {
  /**
   * An empty store.
   * @throws {ArgumentError} `ERR_ARGUMENT` when a keep-list entry is neither a string nor an artifact
   * @throws {ArtifactError} `ERR_ARTIFACT_NAME` when a keep-list entry is not an artifact path
   */
  constructor(options: MemoryArtifactStoreOptions = {}) {
    super(new MemoryArtifactBackend(), options);
  }
}
