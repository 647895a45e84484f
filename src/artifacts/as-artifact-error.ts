import { ArtifactError, type ArtifactErrorCode, hasErrorCode, type TxConfigError } from '../errors.js';
import { errnoCode } from '../internal/errno.js';

const ARTIFACT_CODES: readonly ArtifactErrorCode[] = ['ERR_ARTIFACT_NAME', 'ERR_ARTIFACT_INTEGRITY', 'ERR_ARTIFACT_IO', 'ERR_ARTIFACT_UNSAFE_PATH'];

/**
 * `error` itself when it already is an artifact error (a brand check, so one from another
 * installed copy of txconfig counts); otherwise `ERR_ARTIFACT_IO` with `error` as its
 * cause and its errno code, if any, in the message.
 */
export function asArtifactError(error: unknown, path: string | undefined, digest: string | undefined, what: string): TxConfigError {
  if (hasErrorCode(error, ...ARTIFACT_CODES)) return error;
  const code = errnoCode(error);
  return new ArtifactError('ERR_ARTIFACT_IO', `${what}${code === undefined ? '' : ` (${code})`}`, { path, digest, cause: error });
}
