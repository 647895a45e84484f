/**
 * Artifact names and file names.
 *
 * A logical name (`runc-debug`) is checked, then joined with the SHA-256 of the bytes:
 * the file name is `<name>-<digest>`, where the digest is 64 lowercase hex characters.
 * The last `-` separates the two, so names may contain `-` themselves. No name may start
 * with a dot, so a backend can keep its own files (temporary files) under names that
 * start with one and never mistake them for artifacts.
 */
import { ArtifactError } from '../errors.js';

/** The longest accepted logical name, in UTF-8 bytes. File names stay below 255 bytes. */
export const MAX_NAME_BYTES = 100;

const DIGEST_LENGTH = 64;
const DIGEST_PATTERN = /^[0-9a-f]{64}$/;
// A lone surrogate cannot be encoded as UTF-8: two distinct names would map to one file.
const LONE_SURROGATE_PATTERN = /\p{Cs}/u;

/**
 * Throws unless `name` is an acceptable logical artifact name.
 *
 * Refused: anything but a string, the empty string, `/`, `\`, `..` anywhere, a leading
 * dot, NUL and other control characters, lone surrogates, and more than
 * {@link MAX_NAME_BYTES} bytes of UTF-8.
 * @throws {ArtifactError} `ERR_ARTIFACT_NAME`
 */
export function checkArtifactName(name: unknown): asserts name is string {
  const reason = nameProblem(name);
  if (reason !== undefined) {
    throw new ArtifactError('ERR_ARTIFACT_NAME', `refused artifact name ${describeName(name)}: ${reason}`);
  }
}

/** True when `name` is an acceptable logical artifact name (see {@link checkArtifactName}). */
export function isArtifactName(name: unknown): name is string {
  return nameProblem(name) === undefined;
}

/**
 * The file name of an artifact: `<name>-<digest>`.
 * @throws {ArtifactError} `ERR_ARTIFACT_NAME` for a refused name or a malformed digest
 */
export function artifactFileName(name: string, digest: string): string {
  checkArtifactName(name);
  if (!DIGEST_PATTERN.test(digest)) {
    throw new ArtifactError('ERR_ARTIFACT_NAME', 'digest must be 64 lowercase hex characters', { digest });
  }
  return `${name}-${digest}`;
}

/** The name and digest of an artifact file name, or `undefined` for any other file name. */
export function parseArtifactFileName(fileName: string): { name: string; digest: string } | undefined {
  const cut = fileName.length - DIGEST_LENGTH - 1;
  if (cut < 1 || fileName[cut] !== '-') return undefined;
  const name = fileName.slice(0, cut);
  const digest = fileName.slice(cut + 1);
  if (!DIGEST_PATTERN.test(digest) || !isArtifactName(name)) return undefined;
  return { name, digest };
}

function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'not a string';
  if (name.length === 0) return 'empty';
  if (name.includes('/') || name.includes('\\')) return 'contains a path separator';
  if (name.includes('..')) return 'contains ".."';
  if (name.startsWith('.')) return 'starts with a dot';
  if (hasControlCharacter(name)) return 'contains a control character';
  if (LONE_SURROGATE_PATTERN.test(name)) return 'contains a lone surrogate';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `longer than ${MAX_NAME_BYTES} bytes of UTF-8`;
  return undefined;
}

// C0 controls (NUL included), DEL and C1 controls.
function hasControlCharacter(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

function describeName(name: unknown): string {
  if (typeof name !== 'string') return `(${typeof name})`;
  return JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);
}
