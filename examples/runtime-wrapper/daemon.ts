// The runtime-wrapper demo daemon's command line: `demo` and `serve` (USAGE below).
//
// It prints `listening on http://127.0.0.1:<port>` on stdout once it serves, one line on
// stderr for each rejected reload and for an error that stops it, and everything else
// through `debug` (DEBUG=runtime-wrapper:*,txconfig:*), stack traces included.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import createDebug from 'debug';

import { runDemo } from './demo.js';
import { errorLine } from './error-line.js';
import { serve, type ServeOptions } from './serve.js';

const log = createDebug('runtime-wrapper:daemon');

const USAGE = `usage: daemon.js demo
       daemon.js serve --config FILE --state-dir DIR [--port N] [--runc PATH] [--no-watch]

  demo               walk the runtime-wrapper story on a temporary state directory
  serve              run the daemon until SIGINT or SIGTERM

serve options:
  --config FILE      the config file (JSON); reloaded on SIGHUP, on change, on POST /reload
  --state-dir DIR    where wrapper scripts and containers.json live (created if missing)
  --port N           the control API's port on 127.0.0.1 (default 0: any free port)
  --runc PATH        the program of the built-in runtime "runc" (default: runc)
  --no-watch         do not reload when the config file changes
  -h, --help         print this help

DEBUG=runtime-wrapper:*,txconfig:* logs what the daemon does, and the stack of errors.`;

/** A command line that cannot be run as given: exit 2 with the usage. */
class UsageError extends Error {
  override name = 'UsageError';
}

/** What the command line asks for. */
type Command = { readonly name: 'help' } | { readonly name: 'demo' } | { readonly name: 'serve'; readonly options: ServeOptions };

function parseCommand(argv: readonly string[]): Command {
  const [command, ...rest] = argv;
  if (argv.includes('--help') || argv.includes('-h')) return { name: 'help' };
  if (command === undefined) throw new UsageError('no command given');
  if (command === 'demo') {
    if (rest.length > 0) throw new UsageError(`demo takes no arguments, got ${rest.join(' ')}`);
    return { name: 'demo' };
  }
  if (command !== 'serve') throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  let values;
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options: {
        config: { type: 'string' },
        'state-dir': { type: 'string' },
        port: { type: 'string', default: '0' },
        runc: { type: 'string', default: 'runc' },
        'no-watch': { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    // parseArgs explains itself well (unknown option, missing value, stray argument).
    throw new UsageError((error as Error).message);
  }
  if (values.config === undefined) throw new UsageError('serve needs --config FILE');
  if (values['state-dir'] === undefined) throw new UsageError('serve needs --state-dir DIR');
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) throw new UsageError(`--port must be a port number (0 to 65535), got ${JSON.stringify(values.port)}`);
  return {
    name: 'serve',
    options: {
      configPath: resolve(values.config),
      stateDir: resolve(values['state-dir']),
      port,
      // A bare name is looked up on PATH when run; a path is taken from here, once.
      runc: values.runc.includes('/') ? resolve(values.runc) : values.runc,
      watch: !values['no-watch'],
    },
  };
}

async function main(argv: readonly string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
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
