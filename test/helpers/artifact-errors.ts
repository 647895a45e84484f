// Assertions on the errors the artifact store raises: class and code, never message text.
import { expect } from 'vitest';

import { ArgumentError, ArtifactError } from '../../src/errors.js';
import { rejection, thrownBy } from './rejection.js';

/** Asserts that `promise` rejects with an ArtifactError of `code`, and returns it. */
export async function expectArtifactError(promise: Promise<unknown>, code: ArtifactError['code']): Promise<ArtifactError> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(ArtifactError);
  expect((error as ArtifactError).code).toBe(code);
  return error as ArtifactError;
}

/** Asserts that `fn` throws an ArtifactError of `code`, and returns it. */
export function expectArtifactErrorSync(fn: () => unknown, code: ArtifactError['code']): ArtifactError {
  const error = thrownBy(fn);
  expect(error).toBeInstanceOf(ArtifactError);
  expect((error as ArtifactError).code).toBe(code);
  return error as ArtifactError;
}

/** Asserts that `error` is an ArgumentError (`ERR_ARGUMENT`) about `argument`. */
export function expectArgumentError(error: unknown, argument: string): void {
  expect(error).toBeInstanceOf(ArgumentError);
  expect(error).toMatchObject({ code: 'ERR_ARGUMENT', argument });
}
