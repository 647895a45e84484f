// The runtime-wrapper demo daemon.
//
//   node build/examples/runtime-wrapper/daemon.js demo
//   node build/examples/runtime-wrapper/daemon.js serve --config FILE --state-dir DIR [--port N] [--runc PATH] [--no-watch]
//
// `serve` reloads on SIGHUP and (unless --no-watch) when the config file changes, and answers a control API
// on 127.0.0.1 only. It prints one line, `listening on http://127.0.0.1:<port>`, once
// it serves; everything else goes to `debug` (DEBUG=runtime-wrapper:*,txconfig:*).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import createDebug from 'debug';
import { readConfigFile, reloadOnSignal, watchConfigFile } from 'txconfig';

import { createControlServer, describeOutcome } from './control-api.js';
import { runDemo } from './demo.js';
import { openDaemon } from './open-daemon.js';

const log = createDebug('runtime-wrapper:daemon');

const USAGE = `usage:
  daemon.js demo
  daemon.js serve --config FILE --state-dir DIR [--port N] [--runc PATH] [--no-watch]`;

/** Options of {@link serve}. */
export interface ServeOptions {
  readonly configPath: string;
  readonly stateDir: string;
  /** `0` picks a free port. */
  readonly port: number;
  /** The binary of the built-in runtime `runc`. */
  readonly runc: string;
  /** Reload when the config file changes (else only on SIGHUP and `POST /reload`). */
  readonly watch: boolean;
}

/** Runs the daemon until SIGINT or SIGTERM; resolves when it has shut down cleanly. */
export async function serve(options: ServeOptions): Promise<void> {
  const loadConfig = (): Promise<Record<string, unknown>> => readConfigFile(options.configPath);
  const { store, artifacts, engine } = await openDaemon({
    stateDir: options.stateDir,
    initial: await loadConfig(),
    builtins: { runc: options.runc },
  });

  // Wrappers of runtimes a reload dropped or changed go as soon as no container holds them.
  const unsubscribe = store.subscribe(async ({ snapshot }) => {
    const report = await store.collectGarbage();
    log('generation %d live; collected %d wrapper(s)', snapshot.generation, report.removed.length);
  });
  const reload = () => store.requestReload(loadConfig);
  const stopSignal = reloadOnSignal(store, 'SIGHUP', loadConfig, {
    onOutcome: (outcome) => {
      log('reload on SIGHUP: %s %O', outcome.status, outcome.error ?? '');
    },
  });
  const watcher = options.watch
    ? watchConfigFile(
        options.configPath,
        async ({ config, digest }) => {
          // The watcher hands over the config parsed from exactly the bytes it hashed.
          const outcome = await store.requestReload(() => config);
          log('reload on file change (%s): %o', digest.slice(0, 12), describeOutcome(outcome));
        },
        {
          onError: (error, { phase }) => {
            log('config file not reloaded (%s): %O', phase, error);
          },
        },
      )
    : null;

  const server = createControlServer({
    store,
    engine,
    reload,
    countArtifacts: async () => (await artifacts.list()).length,
  });
  await new Promise<void>((listening, failed) => {
    server.once('error', failed);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', failed);
      listening();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  console.log(`listening on http://127.0.0.1:${port}`);

  const signal = await new Promise<NodeJS.Signals>((stop) => {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  log('%s: shutting down', signal);
  stopSignal();
  unsubscribe();
  await watcher?.close();
  server.closeAllConnections();
  await new Promise<void>((closed, failed) => {
    server.close((error) => {
      if (error === undefined) closed();
      else failed(error);
    });
  });
  log('stopped; %d container(s) keep running and are restored on the next start', engine.list().length);
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'demo' && rest.length === 0) return runDemo();
  if (command !== 'serve') {
    console.error(USAGE);
    return 2;
  }
  const { values } = parseArgs({
    args: [...rest],
    options: {
      config: { type: 'string' },
      'state-dir': { type: 'string' },
      port: { type: 'string', default: '0' },
      runc: { type: 'string', default: 'runc' },
      'no-watch': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (values.config === undefined || values['state-dir'] === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(USAGE);
    return 2;
  }
  await serve({ configPath: resolve(values.config), stateDir: resolve(values['state-dir']), port, runc: values.runc, watch: !values['no-watch'] });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
