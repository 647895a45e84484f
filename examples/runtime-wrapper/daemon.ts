// The runtime-wrapper demo daemon's command line: `demo` and `serve` (USAGE below).
//
// It prints `listening on http://127.0.0.1:<port>` on stdout once it serves, one line on
// stderr for each rejected reload and for an error that stops it, and everything else
// through `debug` (DEBUG=runtime-wrapper:*,txconfig:*), stack traces included.
import { dirname, join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

import createDebug from 'debug';
import { argv, isTxConfigError, type ConfigSource } from 'txconfig';

import { runDemo } from './demo.js';
import { errorLine } from './error-line.js';
import { serve, type ServeOptions } from './serve.js';

const log = createDebug('runtime-wrapper:daemon');

const USAGE = `usage: daemon.js demo
       daemon.js serve --config FILE --state-dir DIR [--config-dir DIR] [--secrets-dir DIR]
                       [--port N] [--runc PATH] [--no-watch] [--SETTING=VALUE ...]

  demo               walk the runtime-wrapper story on a temporary state directory
  serve              run the daemon until SIGINT or SIGTERM

serve options:
  --config FILE      the config file (JSON, JSON5, YAML or TOML, by its extension)
  --config-dir DIR   a conf.d: its files, in name order, override the config file
                     (default: daemon.d beside the config file, when it exists)
  --state-dir DIR    where wrapper scripts and containers.json live (created if missing)
  --secrets-dir DIR  where { "$secret": "file:DIR/..." } references may read, each file
                     watched (default: none, and the config can hold no reference)
  --port N           the control API's port on 127.0.0.1 (default 0: any free port)
  --runc PATH        the program of the built-in runtime "runc" (default: runc)
  --no-watch         do not reload when a config file changes
  -h, --help         print this help

settings, lowest first: built-in defaults, the config file, the conf.d, the environment,
the command line. Every file is read again on SIGHUP, on POST /reload and (unless
--no-watch) when one changes.
  RUNTIME_WRAPPER_DEFAULT_RUNTIME=NAME, RUNTIME_WRAPPER_RUNTIMES__NAME__PATH=PATH, ...
                     a setting from the environment (keys lowercased, __ between them)
  --default-runtime=NAME, --runtimes.NAME.path=PATH, --runtimes.NAME.runtimeArgs='["a"]'
                     a setting on the command line (dotted keys); one that the config
                     file, the conf.d or the environment also sets is refused, and so is
                     a registryToken (ps shows a command line to every user)

DEBUG=runtime-wrapper:*,txconfig:* logs what the daemon does, and the stack of errors.`;

/** The daemon's own flags; every other long flag is a setting (`--default-runtime=crun`). */
const OWN_FLAGS = {
  config: { type: 'string' },
  'config-dir': { type: 'string' },
  'state-dir': { type: 'string' },
  'secrets-dir': { type: 'string' },
  port: { type: 'string' },
  runc: { type: 'string' },
  'no-watch': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

type OwnFlag = keyof typeof OWN_FLAGS;

/** Codes of the input errors a command line can have: a bad command line, exit 2. */
const FLAG_ERRORS: ReadonlySet<string> = new Set(['ERR_PARSE', 'ERR_CONFLICT', 'ERR_UNSAFE_KEY']);

/** A command line that cannot be run as given: exit 2 with the usage. */
class UsageError extends Error {
  override name = 'UsageError';
}

/** What the command line asks for. */
type Command = { readonly name: 'help' } | { readonly name: 'demo' } | { readonly name: 'serve'; readonly options: ServeOptions };

function parseCommand(args: readonly string[]): Command {
  const [command, ...rest] = args;
  if (args.includes('--help') || args.includes('-h')) return { name: 'help' };
  if (command === undefined) throw new UsageError('no command given');
  if (command === 'demo') {
    if (rest.length > 0) throw new UsageError(`demo takes no arguments, got ${rest.join(' ')}`);
    return { name: 'demo' };
  }
  if (command !== 'serve') throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  const values = ownFlags(rest);
  const config = values.get('config');
  const stateDir = values.get('state-dir');
  if (config === undefined) throw new UsageError('serve needs --config FILE');
  if (stateDir === undefined) throw new UsageError('serve needs --state-dir DIR');
  const portText = values.get('port') ?? '0';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new UsageError(`--port must be a port number (0 to 65535), got ${JSON.stringify(portText)}`);
  const runc = values.get('runc') ?? 'runc';
  const configPath = resolve(config);
  const configDir = values.get('config-dir');
  const secretsDir = values.get('secrets-dir');
  return {
    name: 'serve',
    options: {
      config: {
        configPath,
        // A conf.d named on the command line must exist; the default one may not.
        configDir: configDir === undefined ? join(dirname(configPath), 'daemon.d') : resolve(configDir),
        configDirRequired: configDir !== undefined,
        flags: settingFlags(rest),
      },
      stateDir: resolve(stateDir),
      port,
      // A bare name is looked up on PATH when run; a path is taken from here, once.
      runc: runc.includes('/') ? resolve(runc) : runc,
      watch: values.get('no-watch') === undefined,
      ...(secretsDir === undefined ? {} : { secretsDir: resolve(secretsDir) }),
    },
  };
}

/**
 * The daemon's own flags of `args`, as strict as `parseArgs` would be: a string flag
 * needs a value (`--config --port 1` does not take `--port` for a file), a boolean takes none.
 * @throws {UsageError}
 */
function ownFlags(args: readonly string[]): Map<OwnFlag, string> {
  // Not strict: every other long flag is a setting, which parseArgs does not know.
  const { tokens } = parseArgs({ args: [...args], options: OWN_FLAGS, strict: false, allowPositionals: true, tokens: true });
  const values = new Map<OwnFlag, string>();
  for (const token of tokens) {
    if (token.kind === 'option-terminator') {
      if (token.index + 1 < args.length) throw new UsageError(`serve takes nothing after --, got ${args.slice(token.index + 1).join(' ')}`);
      break;
    }
    if (token.kind !== 'option' || !Object.hasOwn(OWN_FLAGS, token.name)) continue;
    const name = token.name as OwnFlag;
    if (OWN_FLAGS[name].type === 'boolean') {
      if (token.inlineValue === true) throw new UsageError(`${token.rawName} takes no value`);
      values.set(name, 'true');
    } else if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))) {
      throw new UsageError(`${token.rawName} needs a value`);
    } else {
      values.set(name, token.value);
    }
  }
  return values;
}

/**
 * The settings given as flags: an `argv()` layer, which refuses a bad flag now, before
 * anything starts. Its values are text, converted by the schema's type when read.
 * @throws {UsageError} for a stray argument, an unknown short flag, a setting given twice
 */
function settingFlags(args: readonly string[]): ConfigSource {
  refuseSecretFlags(args);
  try {
    return argv(args, { own: OWN_FLAGS });
  } catch (error) {
    if (!isTxConfigError(error) || !FLAG_ERRORS.has(error.code)) throw error;
    // The layer names a stray argument by its place (argv[3]), not by its text: the user
    // wrote it, so it is safe to show, and clearer.
    const place = /^argv\[(\d+)\]$/.exec(String((error as { path?: unknown }).path));
    const argument = place === null ? undefined : args[Number(place[1])];
    if (argument !== undefined && !argument.startsWith('-')) throw new UsageError(`unexpected argument ${JSON.stringify(argument)}: settings are flags (--default-runtime=crun)`);
    throw new UsageError(error.message);
  }
}

/**
 * A setting flag that sets a secret: `--runtimes.NAME.registryToken`, in any case, so that
 * no spelling argv() might match to the key gets through.
 */
const SECRET_FLAG = /^--runtimes\..+\.registrytoken(?:=|$)/i;

/**
 * Refuses a secret given on the command line: every user sees it in `ps`, for as long as
 * the daemon runs. The message names the flag, never its value.
 * @throws {UsageError}
 */
function refuseSecretFlags(args: readonly string[]): void {
  const flag = args.find((arg) => SECRET_FLAG.test(arg));
  if (flag === undefined) return;
  const name = flag.split('=')[0] ?? flag;
  throw new UsageError(`${name}: a secret on the command line is shown by ps to every user; reference a file in the config instead ({ "$secret": "file:..." }, with --secrets-dir)`);
}

async function main(args: readonly string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(args);
  } catch (error) {
    console.error(`error: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (command.name === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (command.name === 'demo') return runDemo();
  await serve(command.options);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // One line for the user; the whole error, stack and causes, for whoever asked for it.
    console.error(`error: ${errorLine(error)}`);
    log('%O', error);
    process.exitCode = 1;
  },
);
