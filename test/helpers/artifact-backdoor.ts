// What the public API of the artifact store no longer offers, for tests only: the bytes
// and mode behind an artifact, and ways to damage them, as an operator could on disk.
// The store is the real engine over a real memory backend whose map the test holds.
import type { ArtifactBackend } from '../../src/artifacts/artifact-backend.js';
import type { Artifact } from '../../src/artifacts/artifact.js';
import { ArtifactStore, type ArtifactStoreOptions } from '../../src/artifacts/artifact-store.js';
import { MEMORY_PATH_PREFIX, type MemoryFile, MemoryArtifactBackend } from '../../src/artifacts/memory-artifact-backend.js';

/** Reads and damages what a memory-backed store holds, behind its back. */
export interface ArtifactBackdoor {
  /** The stored bytes (a copy) and mode behind `artifact`, or `undefined` when nothing is stored there. */
  inspect(artifact: Artifact): { readonly bytes: Uint8Array; readonly mode: number } | undefined;
  /** Replaces the bytes behind `artifact`, keeping its mode; removes the entry when `bytes` is `undefined`. */
  tamper(artifact: Artifact, bytes: string | Uint8Array | undefined): void;
}

/** A fresh {@link ArtifactStore} over a {@link MemoryArtifactBackend}, and the backdoor into its map. */
export function memoryStoreWithBackdoor(options: ArtifactStoreOptions = {}): { store: ArtifactStore; backend: MemoryArtifactBackend; backdoor: ArtifactBackdoor } {
  const files = new Map<string, MemoryFile>();
  const backend = new MemoryArtifactBackend(files);
  const fileNameOf = (artifact: Artifact): string => artifact.path.slice(MEMORY_PATH_PREFIX.length);
  const backdoor: ArtifactBackdoor = {
    inspect: (artifact) => {
      const file = files.get(fileNameOf(artifact));
      return file === undefined ? undefined : { bytes: Uint8Array.from(file.bytes), mode: file.mode };
    },
    tamper: (artifact, bytes) => {
      const fileName = fileNameOf(artifact);
      const file = files.get(fileName);
      if (file === undefined) throw new Error(`nothing stored at ${artifact.path} to tamper with`);
      if (bytes === undefined) files.delete(fileName);
      else files.set(fileName, { bytes: typeof bytes === 'string' ? new TextEncoder().encode(bytes) : Uint8Array.from(bytes), mode: file.mode });
    },
  };
  return { store: new ArtifactStore(backend, options), backend, backdoor };
}

/** `inner` with some of its methods replaced: a backend that fails, waits at a gate or records calls. */
export function backendWith(inner: ArtifactBackend, overrides: Partial<ArtifactBackend>): ArtifactBackend {
  return {
    locate: overrides.locate ?? ((fileName) => inner.locate(fileName)),
    list: overrides.list ?? (() => inner.list()),
    writeIfAbsent: overrides.writeIfAbsent ?? ((fileName, bytes, options) => inner.writeIfAbsent(fileName, bytes, options)),
    check: overrides.check ?? ((fileName, options) => inner.check(fileName, options)),
    remove: overrides.remove ?? ((fileName) => inner.remove(fileName)),
  };
}

/** A promise and the function that resolves it: something a test holds a backend call at. */
export function artifactGate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
