// The runtime-wrapper plugin: the story txconfig exists for.
//
// A container engine lets users configure extra container runtimes, some with extra
// arguments. A runtime with arguments is run through a wrapper script, written as a
// content-addressed artifact: the script's path names its bytes, so a container that
// keeps the path for its whole life always runs the same script, whatever reloads
// happen meanwhile. Uses only txconfig's public API.
//
// A runtime may need a secret, a registry token: the wrapper hands it to the runtime in
// its environment, never in its arguments (which `ps` shows every user), and reads it
// from a file of its own (mode 0600), so the wrapper holds no secret.
import { createHmac, randomBytes } from 'node:crypto';
import { isAbsolute } from 'node:path';

import type { Artifact, ConfigOf, DeepReadonly, Participant } from 'txconfig';

/** Names no configured runtime may take: the engine's built-in runtimes. */
export const RESERVED_RUNTIMES = ['runc'] as const;

/** A runtime name: a letter or digit, then letters, digits, `_`, `.` or `-`; no `..`. */
const RUNTIME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const LONE_SURROGATE = /\p{Cs}/u;

/** The daemon config's JSON Schema, `as const` so the config type is inferred from it. */
export const runtimeConfigSchema = {
  type: 'object',
  properties: {
    'default-runtime': { type: 'string', default: 'runc' },
    runtimes: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: {
          path: { type: 'string', minLength: 1 },
          runtimeArgs: { type: 'array', items: { type: 'string' } },
          // A secret: `writeOnly` makes the store show it as [redacted] everywhere. Best
          // given as a reference, `{ "$secret": "file:/run/secrets/registry-token" }`.
          registryToken: { type: 'string', minLength: 1, writeOnly: true },
        },
        required: ['path'],
        additionalProperties: false,
      },
      default: {},
    },
  },
  required: ['default-runtime', 'runtimes'],
  additionalProperties: false,
} as const;

/** The validated config: `{ 'default-runtime': string; runtimes: { [name]: { path; runtimeArgs? } } }`. */
export type RuntimeConfig = ConfigOf<typeof runtimeConfigSchema>;

/** How to run one runtime. */
export interface ResolvedRuntime {
  /** The runtime's name (never empty: `''` resolves to the default's name). */
  readonly name: string;
  /** What to execute: the wrapper script when `wrapped`, else the runtime binary itself. */
  readonly program: string;
  /** True when `program` is a wrapper script (the runtime has `runtimeArgs`). */
  readonly wrapped: boolean;
  /** The wrapper script, when `wrapped`: the artifact to take a lease on. */
  readonly artifact: Artifact | null;
  /**
   * The file the wrapper reads the runtime's registry token from (mode 0600), when it has
   * one: the wrapper needs it, so it is leased with the wrapper.
   */
  readonly tokenFile: Artifact | null;
}

/** The plugin's derived state, in `snapshot.derived.runtimes`. */
export interface RuntimeTable {
  /** The name of the default runtime. */
  readonly default: string;
  /** Every runtime, built-in ones included, by name. */
  readonly runtimes: Readonly<Record<string, ResolvedRuntime>>;
}

/** The variable a runtime finds its registry token in. */
export const REGISTRY_TOKEN_VARIABLE = 'REGISTRY_TOKEN';

/** The configured runtimes break a rule: the whole reload is rejected. Code `ERR_RUNTIME_CONFIG`. */
export class RuntimeConfigError extends Error {
  override name = 'RuntimeConfigError';
  readonly code = 'ERR_RUNTIME_CONFIG';
  /** Every broken rule, one sentence each. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid runtime configuration: ${problems.join('; ')}`);
    this.problems = Object.freeze([...problems]);
  }
}

/** A runtime was asked for by a name the live config does not have. Code `ERR_UNKNOWN_RUNTIME`. */
export class UnknownRuntimeError extends Error {
  override name = 'UnknownRuntimeError';
  readonly code = 'ERR_UNKNOWN_RUNTIME';
  readonly runtime: string;

  constructor(runtime: string, known: readonly string[]) {
    super(`unknown runtime ${JSON.stringify(runtime)} (known: ${known.join(', ')})`);
    this.runtime = runtime;
  }
}

/** Options of {@link runtimeWrappers}. */
export interface RuntimeWrappersOptions {
  /**
   * The built-in runtimes and their binaries. Their names are reserved. Default
   * `{ runc: 'runc' }` (found on `PATH` when executed).
   */
  readonly builtins?: Readonly<Record<string, string>>;
}

/**
 * Quotes `value` for a POSIX shell: the whole of it between single quotes, inside which
 * the shell interprets nothing, with each embedded `'` written as `'\''` (close the
 * quote, an escaped quote, reopen). Spaces, `$(...)`, backticks, `;`, newlines and the
 * empty string all reach the program exactly as given.
 */
export function quoteShellArg(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * The wrapper script for `path` with `args`: runs the binary with every argument quoted,
 * then the caller's (`"$@"`). With `tokenFile`, it first reads the first line of that file
 * into `REGISTRY_TOKEN` and exports it: `read` is a shell builtin, so the token is in no
 * process's arguments, and it is data, never parsed as shell. A token file it cannot read
 * stops it before the runtime runs without its token.
 */
export function wrapperScript(path: string, args: readonly string[], tokenFile?: string): string {
  const words = [path, ...args].map(quoteShellArg).join(' ');
  const token =
    tokenFile === undefined ? '' : `IFS= read -r ${REGISTRY_TOKEN_VARIABLE} < ${quoteShellArg(tokenFile)} || exit 1\nexport ${REGISTRY_TOKEN_VARIABLE}\n`;
  return `#!/bin/sh\n${token}exec ${words} "$@"\n`;
}

/** The size a token file is padded to a multiple of, so that its size does not tell the token's length. */
const TOKEN_FILE_BLOCK = 256;

/**
 * The text of a token file: the token on the first line (what the wrapper reads), then a
 * keyed tag, padded. The file is an artifact, named by the SHA-256 of its bytes, and that
 * name is shown (in /config, in logs): of the token alone, it would let anyone test a
 * guess of the token offline. The tag, an HMAC of the token under a key that never
 * leaves the process, makes the name unguessable while the same token still gives the
 * same file.
 */
function tokenFileText(token: string, key: Uint8Array): string {
  const body = `${token}\n${createHmac('sha256', key).update(token).digest('hex')}`;
  const size = Buffer.byteLength(body) + 1;
  return `${body}${' '.repeat(Math.ceil(size / TOKEN_FILE_BLOCK) * TOKEN_FILE_BLOCK - size)}\n`;
}

/**
 * The participant: checks the runtimes, writes a wrapper artifact (mode 0700) for each
 * runtime with arguments or a registry token (and a token file, mode 0600, for the
 * token), and derives the table of what to execute per runtime.
 * Everything fallible happens here, in prepare; there is nothing to commit, since the
 * table is read from the snapshot, and nothing to roll back, since artifacts are only
 * ever added (garbage collection removes what nothing holds).
 * @throws {RuntimeConfigError} from prepare, rejecting the reload (`ERR_PREPARE`)
 */
export function runtimeWrappers(options: RuntimeWrappersOptions = {}): Participant<RuntimeConfig, 'runtimes', RuntimeTable> {
  const builtins = options.builtins ?? { runc: 'runc' };
  // The key of the token files' tags: this participant's own, never written anywhere.
  const tokenKey = randomBytes(32);
  return {
    name: 'runtimes',
    async prepare({ config, artifacts }) {
      const problems = runtimeProblems(config, builtins);
      if (problems.length > 0) throw new RuntimeConfigError(problems);

      const runtimes: Record<string, ResolvedRuntime> = {};
      for (const [name, binary] of Object.entries(builtins)) {
        runtimes[name] = { name, program: binary, wrapped: false, artifact: null, tokenFile: null };
      }
      for (const [name, runtime] of Object.entries(config.runtimes)) {
        const args = runtime.runtimeArgs ?? [];
        const token = runtime.registryToken;
        if (args.length === 0 && token === undefined) {
          runtimes[name] = { name, program: runtime.path, wrapped: false, artifact: null, tokenFile: null };
          continue;
        }
        const tokenFile = token === undefined ? null : await artifacts.put(`${name}.registry-token`, tokenFileText(token, tokenKey), { mode: 0o600 });
        const artifact = await artifacts.put(name, wrapperScript(runtime.path, args, tokenFile?.path), { mode: 0o700 });
        runtimes[name] = { name, program: artifact.path, wrapped: true, artifact, tokenFile };
      }
      return { derived: { default: config['default-runtime'], runtimes } };
    },
  };
}

/** Every rule the configured runtimes break; empty when they are fine. */
function runtimeProblems(config: DeepReadonly<RuntimeConfig>, builtins: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  const reserved = new Set([...RESERVED_RUNTIMES, ...Object.keys(builtins)]);
  for (const [name, runtime] of Object.entries(config.runtimes)) {
    const label = JSON.stringify(name);
    if (reserved.has(name)) problems.push(`runtime name ${label} is reserved`);
    if (!RUNTIME_NAME.test(name) || name.includes('..')) {
      problems.push(`runtime name ${label} is not allowed (letters, digits, "_", "." and "-"; no "/" or ".."; at most 64)`);
    }
    if (!isAbsolute(runtime.path)) problems.push(`runtime ${label}: path ${JSON.stringify(runtime.path)} is not absolute`);
    const words = [runtime.path, ...(runtime.runtimeArgs ?? [])];
    // A C string (what execve passes) cannot hold NUL: the argument could not reach the binary as written.
    if (words.some((value) => value.includes('\0'))) problems.push(`runtime ${label}: path or arguments contain a NUL character`);
    // A lone surrogate has no UTF-8 form: the script would hold another string than configured.
    if (words.some((value) => LONE_SURROGATE.test(value))) problems.push(`runtime ${label}: path or arguments are not valid Unicode`);
    // Named, never shown: the token is a secret, and this message goes to logs and /status.
    const token = runtime.registryToken;
    if (token !== undefined && /[\0\n\r]|\p{Cs}/u.test(token)) {
      problems.push(`runtime ${label}: registryToken holds a line break, a NUL or invalid Unicode, which the token file cannot carry`);
    }
  }
  const fallback = config['default-runtime'];
  if (!Object.hasOwn(builtins, fallback) && !Object.hasOwn(config.runtimes, fallback)) {
    problems.push(`default-runtime ${JSON.stringify(fallback)} names no runtime`);
  }
  return problems;
}

/**
 * The runtime `name` of `table` (a snapshot's `derived.runtimes`); the empty name is the default.
 * @throws {UnknownRuntimeError} `ERR_UNKNOWN_RUNTIME`
 */
export function resolveRuntime(table: DeepReadonly<RuntimeTable>, name: string): DeepReadonly<ResolvedRuntime> {
  const wanted = name === '' ? table.default : name;
  const runtime = Object.hasOwn(table.runtimes, wanted) ? table.runtimes[wanted] : undefined;
  if (runtime === undefined) throw new UnknownRuntimeError(wanted, Object.keys(table.runtimes).sort());
  return runtime;
}
