// `daemon.js serve`: the runtime-wrapper daemon. Reads its config from defaults, the
// config file, a conf.d, the environment and flags (daemon-config.ts), and secrets from a
// secrets directory; reloads on SIGHUP, when a config file changes (unless told not to),
// when a secret file changes, and on POST /reload; answers the control API on 127.0.0.1
// only; shuts down on SIGINT or SIGTERM.
import type { Server, ServerResponse } from 'node:http';

import createDebug from 'debug';
import { SecretError, fileSecrets, type ReloadResult, type SecretResolver } from 'txconfig';

import { createControlServer, describeResult } from './control-api.js';
import { daemonConfigSource, unwatched, type DaemonConfigOptions } from './daemon-config.js';
import { errorLine } from './error-line.js';
import { openDaemon } from './open-daemon.js';

const log = createDebug('runtime-wrapper:daemon');

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Where the config comes from. */
  readonly config: DaemonConfigOptions;
  readonly stateDir: string;
  /** `0` picks a free port. */
  readonly port: number;
  /** The binary of the built-in runtime `runc`. */
  readonly runc: string;
  /** Reload when a config file changes (else only on SIGHUP and `POST /reload`). */
  readonly watch: boolean;
  /**
   * The directory `{ "$secret": "file:…" }` references may read (absolute). Without it,
   * the config can hold no reference. A secret file is always watched: its rotation is a reload.
   */
  readonly secretsDir?: string;
}

/** How long shutdown waits for requests in flight before closing their connections. */
const SHUTDOWN_GRACE_MS = 5_000;

/**
 * Runs the daemon until SIGINT or SIGTERM; resolves when it has shut down cleanly.
 * Rejects, once everything it opened is closed again, when it cannot start: a config
 * file missing or invalid, a state directory it cannot use, a port already taken.
 */
export async function serve(options: ServeOptions): Promise<void> {
  const signals = trapSignals();
  // What is open, closed in reverse order on the way out, however serve() ends: a start
  // that fails half-way must not leave a watcher or a signal handler keeping it alive.
  const opened: (() => void | Promise<void>)[] = [signals.release];
  try {
    await run(options, signals, opened);
  } finally {
    for (const close of opened.reverse()) {
      try {
        await close();
      } catch (error) {
        // Keep closing the rest; the error that ended serve() (if any) is the one to report.
        log('error while shutting down: %O', error);
      }
    }
  }
}

async function run(options: ServeOptions, signals: TrappedSignals, opened: (() => void | Promise<void>)[]): Promise<void> {
  const source = daemonConfigSource(options.config);
  const secrets = routedWatch(options.secretsDir === undefined ? noSecretFiles : fileSecrets({ roots: [options.secretsDir] }));
  // The store reads the source at start and on refresh(); the daemon watches it itself,
  // so that it can report how each reload a change asked for ended (the store's own
  // watch keeps that in status() only).
  const { store, artifacts, engine } = await openDaemon({
    stateDir: options.stateDir,
    source: unwatched(source),
    builtins: { runc: options.runc },
    secrets: [secrets.resolver],
  });
  // Closing the store closes the source, and waits for a running reload.
  opened.push(() => store.close());

  // Wrappers of runtimes a reload dropped or changed go as soon as no container holds them.
  opened.push(
    store.subscribe(async ({ snapshot }) => {
      const report = await store.collectGarbage();
      log('generation %d live; collected %d wrapper(s)', snapshot.generation, report.removed.length);
    }),
  );
  const refresh = (trigger: string) => async (): Promise<ReloadResult<unknown, unknown>> => {
    const result = await store.refresh();
    reportReload(trigger)(result);
    return result;
  };
  // SIGHUP re-reads every layer; one that came during start-up is honoured now.
  signals.started(() => void refresh('SIGHUP')());
  // The store watches the live secret files; each rotation is a reload the daemon reports.
  const onRotation = refresh('secret file change');
  secrets.route(() => void onRotation());
  if (options.watch && source.watch !== undefined) {
    // Every file of every layer. A file that changed between the cold start's read and
    // now is reported too: an edit made while the daemon was starting up is applied,
    // not lost.
    const onChange = refresh('file change');
    opened.push(source.watch(() => void onChange()));
  }

  const server = createControlServer({
    store,
    engine,
    reload: refresh('POST /reload'),
    countArtifacts: async () => (await artifacts.list()).length,
  });
  const answering = trackAnswers(server);
  await listen(server, options.port);
  // Closed first on the way out: requests in flight may still reload or start containers.
  opened.push(() => closeGracefully(server, answering, SHUTDOWN_GRACE_MS));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error(`unexpected server address ${String(address)}`);
  console.log(`listening on http://${address.address}:${address.port}`);

  const signal = await signals.stopping;
  log('%s: shutting down; %d container(s) keep running and are restored on the next start', signal, engine.list().length);
}

/**
 * Reports how a reload ended: one line on stderr when it failed (whatever asked for it),
 * the whole result through `debug`.
 */
function reportReload(trigger: string): (result: ReloadResult<unknown, unknown>) => void {
  return (result) => {
    log('reload on %s: %o', trigger, describeResult(result));
    if (result.status === 'rejected') console.error(`config reload on ${trigger} rejected, still serving generation ${result.snapshot.generation}: ${errorLine(result.error)}`);
    else if (result.status === 'applied' && result.error !== undefined) console.error(`config reload on ${trigger} applied, but: ${errorLine(result.error)}`);
  };
}

/**
 * The `file:` resolver of a daemon started without `--secrets-dir`: every reference is
 * refused with `ERR_SECRET` saying so (without a resolver, the schema would refuse the
 * `$secret` object with a message that must hide it, and so says little).
 */
const noSecretFiles: SecretResolver = {
  scheme: 'file',
  resolve: (reference, { pointer }) => Promise.reject(new SecretError(`file:${reference}`, pointer, 'the daemon reads no secret files: start it with --secrets-dir DIR')),
};

/** A resolver whose watches can be routed to the daemon, and the switch. */
interface RoutedResolver {
  readonly resolver: SecretResolver;
  /** From now on, a change of a watched secret calls `onChange` instead of the store's own reload. */
  readonly route: (onChange: () => void) => void;
}

/**
 * `resolver`, its watches reporting to the store (which reloads) until `route` names
 * another callback: a rotation during start-up still reloads, and once the daemon can
 * report how a reload ended, every rotation is one of its reloads, logged like the others.
 */
function routedWatch(resolver: SecretResolver): RoutedResolver {
  let routed: (() => void) | undefined;
  const watching: SecretResolver = {
    scheme: resolver.scheme,
    resolve: (reference, options) => resolver.resolve(reference, options),
    watch: (reference, onChange) => {
      const stop = resolver.watch?.(reference, () => {
        (routed ?? onChange)();
      });
      return stop ?? (() => undefined);
    },
  };
  return {
    resolver: resolver.watch === undefined ? resolver : watching,
    route: (onChange) => {
      routed = onChange;
    },
  };
}

/** The process signals serve() handles, from its first moment on. */
interface TrappedSignals {
  /** Resolves with the first SIGINT or SIGTERM. */
  readonly stopping: Promise<NodeJS.Signals>;
  /** The store exists: every SIGHUP runs `reload` from now on, and one that came before runs it now. */
  readonly started: (reload: () => void) => void;
  /** Removes every handler this installed. */
  readonly release: () => void;
}

/**
 * Traps SIGINT and SIGTERM (shut down) and SIGHUP (reload) before anything else, so
 * that neither kills the daemon half-started (SIGHUP's default action is to exit). A
 * SIGHUP before the store exists is remembered and honoured once it does. After the
 * first SIGINT or SIGTERM the default action is back: a second one ends the process at once.
 */
function trapSignals(): TrappedSignals {
  // Before start-up ends, a SIGHUP is only remembered; after, it reloads.
  let hup: { readonly state: 'waiting' | 'received' } | { readonly state: 'started'; readonly reload: () => void } = { state: 'waiting' };
  const onHup = (): void => {
    if (hup.state === 'started') hup.reload();
    else hup = { state: 'received' };
  };
  let onStop: (signal: NodeJS.Signals) => void = () => undefined;
  const stopping = new Promise<NodeJS.Signals>((resolve) => {
    onStop = (signal) => {
      process.off('SIGINT', onStop);
      process.off('SIGTERM', onStop);
      resolve(signal);
    };
  });
  process.on('SIGHUP', onHup);
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  return {
    stopping,
    started: (reload) => {
      const received = hup.state === 'received';
      hup = { state: 'started', reload };
      if (received) {
        log('SIGHUP received during start-up: reloading');
        reload();
      }
    },
    release: () => {
      process.off('SIGHUP', onHup);
      process.off('SIGINT', onStop);
      process.off('SIGTERM', onStop);
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((listening, failed) => {
    server.once('error', failed);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', failed);
      listening();
    });
  });
}

/**
 * Stops accepting connections, lets requests in flight finish (up to `graceMs`), and
 * closes every connection: idle keep-alive ones now, the others once their answer is out.
 */
async function closeGracefully(server: Server, answering: ReadonlySet<ServerResponse>, graceMs: number): Promise<void> {
  const closed = new Promise<void>((done, failed) => {
    server.close((error) => {
      if (error === undefined) done();
      else failed(error);
    });
  });
  server.closeIdleConnections();
  // Else a keep-alive connection answered during shutdown would idle until the grace ends.
  for (const response of answering) if (!response.headersSent) response.setHeader('connection', 'close');
  const grace = setTimeout(() => {
    server.closeAllConnections();
  }, graceMs);
  try {
    await closed;
  } finally {
    clearTimeout(grace);
  }
}

/** The answers being written right now, for {@link closeGracefully}. */
function trackAnswers(server: Server): ReadonlySet<ServerResponse> {
  const answering = new Set<ServerResponse>();
  server.on('request', (_request, response: ServerResponse) => {
    answering.add(response);
    response.once('close', () => answering.delete(response));
  });
  return answering;
}
