/**
 * Artifact names and file names.
 *
 * A logical name (`runc-debug`) is checked, then joined with the SHA-256 of the bytes:
 * the file name is `<name>-<digest>`, where the digest is 64 lowercase hex characters.
 * The last `-` separates the two, so names may contain `-` themselves. Temporary files
 * start with {@link TEMP_PREFIX}; since names may not start with a dot, a temporary file
 * can never be mistaken for an artifact.
 */
import { createHash } from 'node:crypto';

import { ArtifactError } from '../errors.js';
import type { Artifact } from './artifact-store.js';

/** The longest accepted logical name, in UTF-8 bytes. File names stay below 255 bytes. */
export const MAX_NAME_BYTES = 100;

/** The prefix of every temporary file the store creates. Starts with a dot, like no artifact. */
export const TEMP_PREFIX = '.tmp-';

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

/** The SHA-256 of `bytes`, lowercase hex (64 characters). */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
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

/** True for a file name the store uses for temporary files. */
export function isTempFileName(fileName: string): boolean {
  return fileName.startsWith(TEMP_PREFIX);
}

/** The bytes of `content`, always a private copy, so a caller changing its array later cannot change what is written. */
export function contentBytes(content: string | Uint8Array): Buffer {
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  if (content instanceof Uint8Array) return Buffer.from(content);
  throw new ArtifactError('ERR_ARTIFACT_IO', 'artifact content must be a string or a Uint8Array');
}

/** The file mode of an artifact when `put` is given none. */
export const DEFAULT_FILE_MODE = 0o600;

/**
 * `mode` when it is a valid permission mode (an integer from 0 to 0o7777).
 * @throws {ArtifactError} `ERR_ARTIFACT_IO` for anything else
 */
export function checkMode(mode: number): number {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new ArtifactError('ERR_ARTIFACT_IO', `invalid file mode ${String(mode)}`);
  }
  return mode;
}

/** A frozen artifact record with exactly the contract's fields. */
export function freezeArtifact(artifact: Artifact): Artifact {
  const { name, digest, path, size } = artifact;
  return Object.freeze({ name, digest, path, size });
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
  const shown = JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);
  return shown;
}
