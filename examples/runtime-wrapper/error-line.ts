// What the daemon prints when something fails: one line a user can act on, with the
// codes to search the docs for. The full error (stack, causes) goes to `debug`.
import { inspect } from 'node:util';

/** The shape of the errors worth looking into: txconfig's, the plugin's, Node's. */
interface Detailed {
  readonly code?: unknown;
  readonly message?: unknown;
  /** ValidationError, ReloadError: the schema paths that failed. */
  readonly issues?: unknown;
  /** RuntimeConfigError: every broken rule. */
  readonly problems?: unknown;
  /** ReloadError: who failed in which phase. */
  readonly failures?: unknown;
}

/**
 * An error on one line: its code, then the first thing wrong, following a reload's
 * first failure down to its own code.
 *
 *     ERR_PREPARE: runtimes: ERR_RUNTIME_CONFIG: "runc" is reserved for the built-in runtime (and 1 more)
 *     ERR_LOAD: load: ERR_PARSE: /etc/rw/daemon.json:2:15: unexpected end of input
 *     ERR_VALIDATION: /runtimes/x/path: must be string
 */
export function errorLine(error: unknown): string {
  if (typeof error !== 'object' || error === null) return oneLine(String(error));
  const { code, message, issues, problems, failures } = error as Detailed;
  const text = oneLine(typeof message === 'string' ? message : inspect(error, { breakLength: Infinity }));
  const prefix = typeof code === 'string' && !text.includes(code) ? `${code}: ` : '';
  const issue = first(issues);
  if (isObject(issue)) return `${prefix}${String(issue.path) || '/'}: ${oneLine(String(issue.message))}${more(issues)}`;
  const problem = first(problems);
  if (typeof problem === 'string') return `${prefix}${oneLine(problem)}${more(problems)}`;
  const failure = first(failures);
  if (isObject(failure)) return `${prefix}${String(failure.participant ?? failure.phase)}: ${errorLine(failure.error)}${more(failures)}`;
  return `${prefix}${text}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function first(list: unknown): unknown {
  return Array.isArray(list) ? (list[0] as unknown) : undefined;
}

function more(list: unknown): string {
  return Array.isArray(list) && list.length > 1 ? ` (and ${list.length - 1} more)` : '';
}

/** Messages may hold newlines (a parse error quoting the file); a log line must not. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
