// A fake container runtime for the runtime-wrapper tests: a shell script that prints
// each argument it receives followed by a NUL byte, so any argument (newlines, quotes,
// the empty string) can be compared exactly.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const FAKE_RUNTIME = `#!/bin/sh
for arg in "$@"; do printf '%s\\0' "$arg"; done
`;

/** Writes the fake runtime into `dir` (mode 0755) and returns its path. */
export async function writeFakeRuntime(dir: string, name = 'fake-runtime'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, FAKE_RUNTIME, { mode: 0o755 });
  return path;
}

/** Executes `program` with `args` (no shell in between) and returns the arguments the fake runtime received. */
export function receivedArgs(program: string, args: readonly string[] = []): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { encoding: 'utf8' }, (error, stdout) => {
      if (error !== null) {
        reject(new Error(`${program} failed: ${error.message}`, { cause: error }));
        return;
      }
      resolve(stdout === '' ? [] : stdout.slice(0, -1).split('\0'));
    });
  });
}
