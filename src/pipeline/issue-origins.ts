/**
 * Validation issues that say where the offending value came from: a config read from
 * layers fails validation at a path, and the operator needs the file and line, the
 * variable or the flag that set it, not only the path.
 */
import { ValidationError, hasErrorCode, type ValidationIssue } from '../errors.js';
import type { Origin, Origins } from '../origin.js';

/**
 * `error` with each issue's message naming the origin of the value at its path, when
 * `origins` know a place for it; anything else as it is. Only called on failure.
 */
export function withOrigins(error: unknown, origins: Origins | undefined): unknown {
  if (origins === undefined || !hasErrorCode(error, 'ERR_VALIDATION') || !('issues' in error)) return error;
  const issues = (error as ValidationError).issues;
  const described = issues.map((issue): ValidationIssue => {
    const place = describePlace(origins.explain(issue.path)?.origin);
    // A conversion issue already names its variable or flag.
    if (place === undefined || issue.message.includes(place.name)) return issue;
    return { ...issue, message: `${issue.message} (set by ${place.text})` };
  });
  return described.some((issue, index) => issue !== issues[index]) ? new ValidationError(described, { cause: (error as ValidationError).cause }) : error;
}

function describePlace(origin: Origin | undefined): { readonly name: string; readonly text: string } | undefined {
  if (origin === undefined) return undefined;
  if (origin.flag !== undefined) return { name: origin.flag, text: `flag ${origin.flag}` };
  if (origin.env !== undefined) return { name: origin.env, text: origin.file === undefined ? `environment variable ${origin.env}` : `${origin.env} in ${origin.file}` };
  if (origin.key !== undefined) return { name: origin.key, text: `key ${origin.key}` };
  if (origin.file === undefined) return undefined;
  const position = origin.line === undefined ? '' : `, line ${origin.line}${origin.column === undefined ? '' : `, column ${origin.column}`}`;
  return { name: origin.file, text: `${origin.file}${position}` };
}
