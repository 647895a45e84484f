/**
 * A parser's error as the cause of ours, without the text it quotes. js-yaml and
 * smol-toml print the lines around a fault in their messages; a config file may hold
 * secrets on those lines, and an error travels to logs and status pages.
 */

/** A stand-in for the parser's `error`: its name and `reason` (one line, no source text), nothing else. */
export function causeWithoutText(error: unknown, reason: string): Error {
  const cause = new Error(reason);
  // The parser's class name when its errors keep the generic `name` (smol-toml's TomlError).
  cause.name = error instanceof Error ? (error.name === 'Error' ? error.constructor.name : error.name) : 'Error';
  return cause;
}
