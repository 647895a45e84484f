import { describe, expect, it } from 'vitest';

import { type MemoryFile, MemoryArtifactBackend } from '../../src/artifacts/memory-artifact-backend.js';
import { describeArtifactBackendContract, fileOf } from '../helpers/artifact-backend-contract.js';

describeArtifactBackendContract('MemoryArtifactBackend', () => {
  const files = new Map<string, MemoryFile>();
  const stored = (fileName: string): MemoryFile => {
    const file = files.get(fileName);
    if (file === undefined) throw new Error(`nothing stored under ${fileName}`);
    return file;
  };
  return Promise.resolve({
    backend: new MemoryArtifactBackend(files),
    tamper: (fileName, bytes) => {
      files.set(fileName, { bytes, mode: stored(fileName).mode });
      return Promise.resolve();
    },
    removeBehindTheBack: (fileName) => {
      files.delete(fileName);
      return Promise.resolve();
    },
    modeOf: (fileName) => Promise.resolve(stored(fileName).mode),
    bytesOf: (fileName) => Promise.resolve(stored(fileName).bytes),
    cleanup: () => Promise.resolve(),
  });
});

describe('MemoryArtifactBackend', () => {
  it('locates files at memory:<file name>', () => {
    const f = fileOf('runc-debug', 'x');
    expect(new MemoryArtifactBackend().locate(f.fileName)).toBe(`memory:${f.fileName}`);
  });

  it('reports a failure as a rejection, never as a throw', () => {
    const backend = new MemoryArtifactBackend();
    const f = fileOf('x', 'x');
    const checking = backend.check(f.fileName, { digest: f.digest, size: f.size });
    expect(checking).toBeInstanceOf(Promise);
    return expect(checking).rejects.toMatchObject({ code: 'ERR_ARTIFACT_INTEGRITY' });
  });
});
