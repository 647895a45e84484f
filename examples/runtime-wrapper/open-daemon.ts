// Opening the daemon's state: the artifact directory, the config store with the
// runtime-wrapper plugin, and the container engine, in the order restart safety needs.
import { join } from 'node:path';

import createDebug from 'debug';
import { ConfigStore, FsArtifactStore, type FileSystem } from 'txconfig';

import { ContainerEngine } from './containers.js';
import { runtimeConfigSchema, runtimeWrappers, type RuntimeWrappersOptions } from './plugin.js';

const log = createDebug('runtime-wrapper:daemon');

/** Options of {@link openDaemon}. */
export interface OpenDaemonOptions {
  /** Where wrapper scripts (`wrappers/`) and the container list (`containers.json`) live. */
  readonly stateDir: string;
  /** The first config. */
  readonly initial: unknown;
  readonly builtins?: RuntimeWrappersOptions['builtins'];
  /** File system functions for the artifact store: a seam for tests. */
  readonly fs?: Partial<FileSystem>;
}

/** The store `openDaemon` builds: its type is inferred from the schema and the plugin. */
export type RuntimeStore = Awaited<ReturnType<typeof createStore>>;

/** The opened daemon state. */
export interface OpenedDaemon {
  readonly store: RuntimeStore;
  readonly artifacts: FsArtifactStore;
  readonly engine: ContainerEngine;
}

function createStore(initial: unknown, artifacts: FsArtifactStore, options: RuntimeWrappersOptions) {
  return ConfigStore.create({ schema: runtimeConfigSchema, initial, participants: [runtimeWrappers(options)], artifacts });
}

/**
 * Opens the state directory and cold-starts the config.
 *
 * Containers can outlive the daemon, so the wrappers of the containers recorded by the
 * previous daemon are leased again before the first garbage collection; that collection
 * then removes every other leftover (wrappers of configs no longer live, of containers
 * gone while the daemon was down). Leases rather than the store's keep-list, so that a
 * restored container's wrapper goes as soon as that container stops.
 * @throws {ReloadError} when the initial config is rejected (nothing is removed then)
 * @throws {ContainerError} `ERR_STATE_FILE` when the container list is damaged (the store is closed again)
 */
export async function openDaemon(options: OpenDaemonOptions): Promise<OpenedDaemon> {
  const artifacts = await FsArtifactStore.open(join(options.stateDir, 'wrappers'), options.fs === undefined ? {} : { fs: options.fs });
  const store = await createStore(options.initial, artifacts, options.builtins === undefined ? {} : { builtins: options.builtins });
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
