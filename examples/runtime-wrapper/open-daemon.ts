// Opening the daemon's state: the artifact directory, the config store with the
// runtime-wrapper plugin, and the container engine, in the order restart safety needs.
import { join } from 'node:path';

import createDebug from 'debug';
import { ConfigStore, FsArtifactStore, type ConfigSource, type FileSystem, type SecretResolver } from 'txconfig';

import { ContainerEngine } from './containers.js';
import { runtimeConfigSchema, runtimeWrappers, type RuntimeWrappersOptions } from './plugin.js';

const log = createDebug('runtime-wrapper:daemon');

/** Where the config comes from: a source the store reads (and watches, when it can), or a first config. */
export type DaemonConfigInput = { readonly source: ConfigSource } | { readonly initial: unknown };

/** Options of {@link openDaemon}. */
export type OpenDaemonOptions = DaemonConfigInput & {
  /** Where wrapper scripts (`wrappers/`) and the container list (`containers.json`) live. */
  readonly stateDir: string;
  readonly builtins?: RuntimeWrappersOptions['builtins'];
  /** Resolvers of the config's secret references (`fileSecrets({ roots })`); none by default. */
  readonly secrets?: readonly SecretResolver[];
  /** File system functions for the artifact store: a seam for tests. */
  readonly fs?: Partial<FileSystem>;
};

/** The store `openDaemon` builds: its type is inferred from the schema and the plugin. */
export type RuntimeStore = Awaited<ReturnType<typeof createStore>>;

/** The opened daemon state. */
export interface OpenedDaemon {
  readonly store: RuntimeStore;
  readonly artifacts: FsArtifactStore;
  readonly engine: ContainerEngine;
}

function createStore(config: DaemonConfigInput, artifacts: FsArtifactStore, options: RuntimeWrappersOptions, secrets: readonly SecretResolver[]) {
  const participants = [runtimeWrappers(options)];
  // The registry tokens are sensitive by the schema (writeOnly): no `sensitive` option needed.
  return 'source' in config
    ? ConfigStore.create({ schema: runtimeConfigSchema, source: config.source, participants, artifacts, secrets })
    : ConfigStore.create({ schema: runtimeConfigSchema, initial: config.initial, participants, artifacts, secrets });
}

/**
 * Opens the state directory and cold-starts the config.
 *
 * Containers can outlive the daemon, so the wrappers of the containers recorded by the
 * previous daemon are leased again before the first garbage collection; that collection
 * then removes every other leftover (wrappers of configs no longer live, of containers
 * gone while the daemon was down). Leases rather than the store's keep-list, so that a
 * restored container's wrapper goes as soon as that container stops.
 * @throws {ReloadError} when the first config is rejected, or the source cannot be read
 *   (`ERR_LOAD`; a flag that a file also sets is an `ERR_CONFLICT` cause), or a secret
 *   reference cannot be resolved (`ERR_SECRET`); nothing is removed then
 * @throws {ContainerError} `ERR_STATE_FILE` when the container list is damaged (the store is closed again)
 */
export async function openDaemon(options: OpenDaemonOptions): Promise<OpenedDaemon> {
  const artifacts = await FsArtifactStore.open(join(options.stateDir, 'wrappers'), options.fs === undefined ? {} : { fs: options.fs });
  const store = await createStore(options, artifacts, options.builtins === undefined ? {} : { builtins: options.builtins }, options.secrets ?? []);
  const engine = new ContainerEngine(store, artifacts, { stateFile: join(options.stateDir, 'containers.json') });
  let restored, report;
  try {
    restored = await engine.restore();
    report = await store.collectGarbage();
  } catch (error) {
    await store.close();
    throw error;
  }
  log('opened %s: generation %d, %d containers restored, %d leftover wrappers removed', options.stateDir, store.load().generation, restored.length, report.removed.length);
  return { store, artifacts, engine };
}
