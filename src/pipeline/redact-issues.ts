/**
 * Validation errors that cannot show a secret (DESIGN.md §5.3). A validator writes its
 * own messages, and some put the received value in them: a Standard Schema library's
 * custom message ("…but received \"hunter2\""), an ajv keyword's message, a text that
 * did not convert (`API_KEY="hunter2" is not an integer`). Where an issue's path touches
 * a sensitive node, its message is replaced by one made of the keyword alone.
 */
import { ReloadError, ValidationError, hasErrorCode, isReloadError, type ReloadFailure, type ValidationIssue } from '../errors.js';
import type { SensitivePaths } from '../schema/sensitive-paths.js';

/**
 * `error` with no sensitive value in what it says, for every surface that shows it:
 *
 * - a validation error (code `ERR_VALIDATION` with `issues`, of any installed copy of
 *   txconfig): a new {@link ValidationError} in which each issue at, under or above a
 *   sensitive node ({@link SensitivePaths.touches}) says `invalid value (redacted;
 *   keyword: …)`, and whose message is built from those issues. Such an error keeps no
 *   `cause`: what a validator leaves there (zod's error object, ajv's errors with
 *   `verbose`) holds the values it was given, and no summary of it could be trusted not
 *   to. Its stack keeps the frames of the original.
 * - a {@link ReloadError}: a new one whose failures are redacted that way; its message is
 *   rebuilt from them when it quoted a redacted error's message, else kept.
 * - anything else, and an error none of whose issues touches a sensitive node: `error`
 *   itself, cause included (a validator's cause holds values at the paths of its issues).
 *
 * A message at a path clear of every sensitive node is kept as it is: a custom message
 * that quotes a secret from elsewhere in the config cannot be told apart.
 */
export function redactError(error: unknown, sensitive: SensitivePaths): unknown {
  if (sensitive.isEmpty) return error;
  if (isReloadError(error)) return redactReloadError(error, sensitive);
  const issues = hasErrorCode(error, 'ERR_VALIDATION') ? (error as { readonly issues?: unknown }).issues : undefined;
  if (!Array.isArray(issues)) return error;
  const redacted = issues.map((issue: ValidationIssue) => redactIssue(issue, sensitive));
  if (redacted.every((issue, index) => issue === issues[index])) return error;
  return withFramesOf(new ValidationError(redacted), error);
}

/** The message of an issue whose value may be a secret: the keyword is schema text, never data. */
function redactedMessage(keyword: string | undefined): string {
  return keyword === undefined ? 'invalid value (redacted)' : `invalid value (redacted; keyword: ${keyword})`;
}

function redactIssue(issue: ValidationIssue, sensitive: SensitivePaths): ValidationIssue {
  // An issue of another copy (or made by hand) may have no string path: when in doubt, hide.
  const path = typeof issue.path === 'string' ? issue.path : '';
  if (typeof issue.path === 'string' && !sensitive.touches(path)) return issue;
  // Only the fields a ValidationIssue has: anything else a validator attached stays behind.
  const keyword = typeof issue.keyword === 'string' ? issue.keyword : undefined;
  const message = redactedMessage(keyword);
  return keyword === undefined ? { path, message } : { path, message, keyword };
}

function redactReloadError(error: ReloadError, sensitive: SensitivePaths): ReloadError {
  const failures = error.failures.map((failure): ReloadFailure => {
    const redacted = redactError(failure.error, sensitive);
    return redacted === failure.error ? failure : { ...failure, error: redacted };
  });
  const changed = error.failures.filter((failure, index) => failures[index] !== failure);
  if (changed.length === 0) return error;
  const quotes = changed.some((failure) => failure.error instanceof Error && error.message.includes(failure.error.message));
  return withFramesOf(new ReloadError(error.code, failures, quotes ? undefined : error.message), error);
}

/**
 * `copy` with the stack frames of `original` (where it was thrown, which names no value)
 * under its own first line; the original's first lines, which hold its message, are
 * left behind. V8 writes the name the error had when it was made (`Error` for a class
 * that sets `name` as a field), so the message is looked for, not the header.
 */
function withFramesOf<E extends Error>(copy: E, original: unknown): E {
  if (!(original instanceof Error) || typeof original.stack !== 'string') return copy;
  const end = original.stack.indexOf(original.message);
  const frames = end < 0 ? '' : original.stack.slice(end + original.message.length);
  if (frames.startsWith('\n') && !original.stack.slice(0, end).includes('\n')) {
    Object.defineProperty(copy, 'stack', { value: `${copy.name}: ${copy.message}${frames}`, writable: true, configurable: true });
  }
  return copy;
}
