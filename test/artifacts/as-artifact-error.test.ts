import { describe, expect, it } from 'vitest';

import { asArtifactError } from '../../src/artifacts/as-artifact-error.js';
import { ArtifactError, ValidationError } from '../../src/errors.js';

describe('asArtifactError', () => {
  it('returns an artifact error as it is', () => {
    const error = new ArtifactError('ERR_ARTIFACT_INTEGRITY', 'changed', { path: '/a' });
    expect(asArtifactError(error, '/b', undefined, 'cannot read artifact')).toBe(error);
  });

  it('recognises an artifact error of another copy of txconfig by its brand, not its class', () => {
    const foreign = new ArtifactError('ERR_ARTIFACT_UNSAFE_PATH', 'a symlink');
    Object.setPrototypeOf(foreign, Error.prototype);
    expect(foreign).not.toBeInstanceOf(ArtifactError);
    expect(asArtifactError(foreign, '/b', undefined, 'cannot read artifact')).toBe(foreign);
  });

  it('wraps anything else as ERR_ARTIFACT_IO with the path, the digest and the cause', () => {
    const cause = Object.assign(new Error('disk on fire'), { code: 'EIO' });
    const wrapped = asArtifactError(cause, '/a', 'f'.repeat(64), 'cannot write artifact');
    expect(wrapped).toBeInstanceOf(ArtifactError);
    expect(wrapped).toMatchObject({ code: 'ERR_ARTIFACT_IO', path: '/a', digest: 'f'.repeat(64), cause });
    const other = new ValidationError([]);
    expect(asArtifactError(other, undefined, undefined, 'cannot list artifacts')).toMatchObject({ code: 'ERR_ARTIFACT_IO', cause: other });
  });
});
