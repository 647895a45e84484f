// `daemon.js serve`: the runtime-wrapper daemon. Reloads on SIGHUP and (unless told
// not to) when the config file changes; answers the control API on 127.0.0.1 only.
import createDebug from 'debug';
import { readConfigFile, reloadOnSignal, watchConfigFile } from 'txconfig';

import { createControlServer, describeResult } from './control-api.js';
import { openDaemon } from './open-daemon.js';

const log = createDebug('runtime-wrapper:daemon');

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

/** How long shutdown waits for requests in flight before closing their connections. */
const SHUTDOWN_GRACE_MS = 5_000;

/** Runs the daemon until SIGINT or SIGTERM; resolves when it has shut down cleanly. */
export async function serve(options: ServeOptions): Promise<void> {
  // From the first moment on, SIGHUP must not take its default action (exit). One that
  // arrives before the store exists is remembered and honoured once it does.
  const startUp = { done: false, hupReceived: false };
  const earlyHup = (): void => {
    if (!startUp.done) startUp.hupReceived = true;
  };
  process.on('SIGHUP', earlyHup);
  const stopping = new Promise<NodeJS.Signals>((stop) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      stop(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

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
  const stopSignal = reloadOnSignal(store, loadConfig, {
    onOutcome: (result) => {
      log('reload on SIGHUP: %o', describeResult(result));
    },
  });
  const watcher = options.watch
    ? watchConfigFile(
        options.configPath,
        async ({ config, digest }) => {
          // The watcher hands over the config parsed from exactly the bytes it hashed.
          const result = await store.requestReload(() => config);
          log('reload on file change (%s): %o', digest.slice(0, 12), describeResult(result));
        },
        {
          // The first read goes through requestReload too (unchanged if the file is as
          // it was read at start): a change made while the daemon was starting up is
          // applied, not taken as the baseline and lost.
          emitInitial: true,
          onError: (error, { phase }) => {
            log('config file not reloaded (%s): %O', phase, error);
          },
        },
      )
    : null;
  await watcher?.ready;
  startUp.done = true;
  if (startUp.hupReceived) {
    log('SIGHUP received during start-up: reloading');
    void store.requestReload(loadConfig);
  }

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
  if (typeof address !== 'object' || address === null) throw new Error(`unexpected server address ${String(address)}`);
  console.log(`listening on http://${address.address}:${address.port}`);

  const signal = await stopping;
  log('%s: shutting down', signal);
  stopSignal();
  unsubscribe();
  await watcher?.close();
  // Requests in flight finish (up to a grace period); idle keep-alive connections close now.
  const closed = new Promise<void>((done, failed) => {
    server.close((error) => {
      if (error === undefined) done();
      else failed(error);
    });
  });
  server.closeIdleConnections();
  const grace = setTimeout(() => {
    server.closeAllConnections();
  }, SHUTDOWN_GRACE_MS);
  try {
    await closed;
  } finally {
    clearTimeout(grace);
  }
  process.off('SIGHUP', earlyHup);
  log('stopped; %d container(s) keep running and are restored on the next start', engine.list().length);
}
