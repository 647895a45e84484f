/**
 * The {@link ArtifactBackend} of {@link MemoryArtifactStore}: files in a `Map`, paths
 * `memory:<name>-<sha256>`.
 */
import { ArtifactError } from '../errors.js';
import { sha256Hex } from '../internal/sha256.js';
import type { ArtifactBackend, BackendCheckOptions, BackendFile, WriteIfAbsentOptions, WriteIfAbsentResult } from './artifact-backend.js';

/** The prefix of every {@link MemoryArtifactBackend} path: `memory:<name>-<sha256>`. */
export const MEMORY_PATH_PREFIX = 'memory:';

/** A file a {@link MemoryArtifactBackend} holds. */
export interface MemoryFile {
  /** The stored bytes. */
  readonly bytes: Uint8Array;
  /** The mode given to `writeIfAbsent`. */
  readonly mode: number;
}

/** Artifact files in memory. */
export class MemoryArtifactBackend implements ArtifactBackend {
  /** Files by file name; an entry's bytes hash to the digest in its name unless someone holding the map changed them. */
  readonly #files: Map<string, MemoryFile>;

  /**
   * A backend storing into `files`. A test that passes its own map can read and damage
   * what is stored, as an operator could on disk.
   */
  constructor(files: Map<string, MemoryFile> = new Map()) {
    this.#files = files;
  }

  /** `memory:<fileName>`. */
  locate(fileName: string): string {
    return MEMORY_PATH_PREFIX + fileName;
  }

  /** Every file stored. */
  list(): Promise<readonly BackendFile[]> {
    return Promise.resolve([...this.#files].map(([fileName, { bytes }]) => ({ fileName, size: bytes.byteLength })));
  }

  /**
   * Stores `bytes` (the engine's private copy) unless a file is there; then checks it.
   * @throws {ArtifactError} `ERR_ARTIFACT_INTEGRITY` (other bytes or another mode)
   */
  writeIfAbsent(fileName: string, bytes: Uint8Array, options: WriteIfAbsentOptions): Promise<WriteIfAbsentResult> {
    return settled(() => {
      const existing = this.#files.get(fileName);
      if (existing === undefined) {
        this.#files.set(fileName, { bytes, mode: options.mode });
        return { created: true };
      }
      const path = this.locate(fileName);
      checkBytes(existing, path, options.digest, bytes.byteLength);
      if (existing.mode !== options.mode) throw new ArtifactError('ERR_ARTIFACT_INTEGRITY', 'artifact exists with another mode', { path, digest: options.digest });
      return { created: false };
    });
  }

  /**
   * Checks the stored bytes.
   * @throws {ArtifactError} `ERR_ARTIFACT_INTEGRITY` (missing or changed)
   */
  check(fileName: string, options: BackendCheckOptions): Promise<void> {
    return settled(() => {
      const path = this.locate(fileName);
      const file = this.#files.get(fileName);
      if (file === undefined) throw new ArtifactError('ERR_ARTIFACT_INTEGRITY', 'artifact is missing', { path, digest: options.digest });
      checkBytes(file, path, options.digest, options.size);
    });
  }

  /** Forgets the file, if there is one. */
  remove(fileName: string): Promise<void> {
    this.#files.delete(fileName);
    return Promise.resolve();
  }
}

/** `fn()` as a promise: what it throws becomes the rejection, as from any async backend. */
function settled<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => {
    resolve(fn());
  });
}

function checkBytes(file: MemoryFile, path: string, digest: string, size: number): void {
  if (file.bytes.byteLength !== size || sha256Hex(file.bytes) !== digest) {
    throw new ArtifactError('ERR_ARTIFACT_INTEGRITY', 'artifact bytes do not match its digest', { path, digest });
  }
}
