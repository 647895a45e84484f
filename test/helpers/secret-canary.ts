/**
 * The canary check of secret handling: a unique value, and an assertion that an error
 * shows it nowhere (message, stack, cause chain, JSON, `util.inspect`).
 */
import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { expect } from 'vitest';

/** A value no test and no path contains by chance. */
export function makeCanary(): string {
  return `canary-${randomUUID()}`;
}

/** Asserts that `canary` appears in no text `error` gives away, its causes' included. */
export function expectNoCanary(error: unknown, canary: string): void {
  expect(error).toBeInstanceOf(Error);
  const texts: string[] = [inspect(error, { depth: 20, showHidden: true })];
  for (let at: unknown = error, depth = 0; at instanceof Error && depth < 20; depth++) {
    texts.push(at.message, at.stack ?? '', at.toString(), JSON.stringify(at));
    at = at.cause;
  }
  for (const text of texts) expect(text).not.toContain(canary);
}
