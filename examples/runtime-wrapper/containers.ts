// A simulated container engine: "containers" are records of which program (a runtime
// binary or a wrapper script) they were started with, and every lifecycle step really
// executes that program. A container keeps its program for its whole life and holds a
// lease on its wrapper (and on the wrapper's token file), so no reload and no garbage
// collection can take them away.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

import createDebug from 'debug';
import type { Artifact, ArtifactLease, ArtifactStore, DeepReadonly, GcReport } from 'txconfig';

import { resolveRuntime, type RuntimeTable } from './plugin.js';

const log = createDebug('runtime-wrapper:containers');

/** What the engine needs from a config store: a `ConfigStore` built with {@link runtimeWrappers} qualifies. */
export interface RuntimeSource {
  load(): { readonly generation: number; readonly derived: DeepReadonly<{ runtimes: RuntimeTable }> };
  collectGarbage(): Promise<GcReport>;
}

/** One running container. */
export interface Container {
  readonly id: string;
  /** The runtime's name, as resolved at start (the default's name when none was asked for). */
  readonly runtime: string;
  /** What this container runs for its whole life: a wrapper script or a runtime binary. */
  readonly program: string;
  /** The wrapper it holds a lease on; `null` when the runtime runs unwrapped. */
  readonly artifact: Artifact | null;
  /** The token file its wrapper reads, which it holds a lease on too; `null` without a registry token. */
  readonly tokenFile: Artifact | null;
  /** The config generation it was started under. */
  readonly generation: number;
}

/** What running a program printed. */
export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** What went wrong with a container operation. */
export type ContainerErrorCode =
  /** The id is taken (also while that container is starting or stopping). */
  | 'ERR_CONTAINER_EXISTS'
  | 'ERR_CONTAINER_ID'
  /** No running container has the id (or it is stopping). */
  | 'ERR_NO_CONTAINER'
  | 'ERR_RUNTIME_FAILED'
  /** The wrapper (or its token file) a start was about to use is missing or changed (`cause`: the `ArtifactError`). */
  | 'ERR_WRAPPER_INVALID'
  /** The state file could not be read, parsed or written (`cause`: the failure). */
  | 'ERR_STATE_FILE';

/** A container operation failed; `code` says how. */
export class ContainerError extends Error {
  override name = 'ContainerError';
  readonly code: ContainerErrorCode;

  constructor(code: ContainerError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** One id in the engine: `container` is null while it starts; `stopping` from the first turn of stop() on. */
interface Entry {
  container: Container | null;
  /** On the wrapper and its token file: whatever the container's program needs on disk. */
  readonly leases: readonly ArtifactLease[];
  stopping: boolean;
}

/** Starts, execs into and stops simulated containers; records them in `stateFile` so a restarted daemon finds them. */
export class ContainerEngine {
  readonly #store: RuntimeSource;
  readonly #artifacts: ArtifactStore;
  readonly #stateFile: string | null;
  /** Containers and their leases. An id is here from the first turn of start() to the end of stop(), so no second start of it can begin. */
  readonly #running = new Map<string, Entry>();
  /** The state file writes, one after the other, so an older list never lands last. */
  #saving: Promise<void> = Promise.resolve();

  /**
   * @param store - Where the runtime table comes from (the live snapshot).
   * @param artifacts - The store the wrappers are in; leases are taken there.
   * @param options - `stateFile`: where the container list is kept across restarts.
   */
  constructor(store: RuntimeSource, artifacts: ArtifactStore, options: { stateFile?: string } = {}) {
    this.#store = store;
    this.#artifacts = artifacts;
    this.#stateFile = options.stateFile ?? null;
  }

  /** The running containers. */
  list(): Container[] {
    return [...this.#running.values()].flatMap(({ container }) => (container === null ? [] : [container]));
  }

  /** The running container `id`. @throws {ContainerError} `ERR_NO_CONTAINER` (also while it stops) */
  get(id: string): Container {
    return this.#entry(id).container;
  }

  #entry(id: string): Entry & { container: Container } {
    const entry = this.#running.get(id);
    if (entry?.container == null || entry.stopping) throw new ContainerError('ERR_NO_CONTAINER', `no container ${JSON.stringify(id)}`);
    return entry as Entry & { container: Container };
  }

  /**
   * Starts container `id` with `runtime` (`''`: the default): runs `<program> start <id>`.
   *
   * The snapshot is read and the leases taken in the same synchronous turn, before any
   * await: the live snapshot holds its wrappers and token files, so they exist at that
   * moment and the leases hold them from then on, whatever reload commits or collection
   * runs while the start goes on. `verify` then checks the bytes really are the script.
   * @throws {UnknownRuntimeError} `ERR_UNKNOWN_RUNTIME`
   * @throws {ContainerError} `ERR_CONTAINER_ID`, `ERR_CONTAINER_EXISTS`, `ERR_RUNTIME_FAILED`
   */
  async start(id: string, runtime = ''): Promise<{ container: Container; result: RunResult }> {
    if (!CONTAINER_ID.test(id)) throw new ContainerError('ERR_CONTAINER_ID', `container id ${JSON.stringify(id)} is not allowed`);
    if (this.#running.has(id)) throw new ContainerError('ERR_CONTAINER_EXISTS', `container ${JSON.stringify(id)} already exists`);
    const snapshot = this.#store.load();
    const resolved = resolveRuntime(snapshot.derived.runtimes, runtime);
    const container: Container = {
      id,
      runtime: resolved.name,
      program: resolved.program,
      artifact: resolved.artifact,
      tokenFile: resolved.tokenFile,
      generation: snapshot.generation,
    };
    const leases = this.#lease(container);
    const entry: Entry = { container: null, leases, stopping: false };
    this.#running.set(id, entry);
    let result: RunResult;
    try {
      for (const lease of leases) await verifyWrapper(this.#artifacts, lease.artifact);
      result = await runChecked(container.program, ['start', id]);
    } catch (error) {
      this.#running.delete(id);
      for (const lease of leases) lease.release();
      throw error;
    }
    // The runtime started it: from here on the container exists, whatever the state file says.
    entry.container = container;
    log('started %s with %s (generation %d): %s', id, container.runtime, container.generation, container.program);
    await this.#save();
    return { container, result };
  }

  /**
   * Runs `<program> exec <id> ...args` with the program the container was started with.
   * @throws {ContainerError} `ERR_NO_CONTAINER`, `ERR_RUNTIME_FAILED`
   */
  async exec(id: string, args: readonly string[]): Promise<RunResult> {
    const { container } = this.#entry(id);
    return runChecked(container.program, ['exec', id, ...args]);
  }

  /**
   * Runs `<program> delete <id>`, releases the container's lease and collects garbage, so
   * a wrapper nothing else holds goes now.
   * @throws {ContainerError} `ERR_NO_CONTAINER`, `ERR_RUNTIME_FAILED` (the container stays)
   */
  async stop(id: string): Promise<{ container: Container; result: RunResult; gc: GcReport }> {
    const entry = this.#entry(id);
    const { container } = entry;
    // Set before the first await: a second stop, or an exec, of this id is refused from now on.
    entry.stopping = true;
    let result: RunResult;
    try {
      result = await runChecked(container.program, ['delete', id]);
    } catch (error) {
      entry.stopping = false;
      throw error;
    }
    this.#running.delete(id);
    for (const lease of entry.leases) lease.release();
    log('stopped %s', id);
    const gc = await this.#store.collectGarbage();
    await this.#save();
    return { container, result, gc };
  }

  /**
   * Takes back the containers a previous daemon recorded in the state file, with a lease
   * on each wrapper. Call it before the first garbage collection.
   * @returns the containers restored
   */
  async restore(): Promise<Container[]> {
    const stateFile = this.#stateFile;
    if (stateFile === null) return [];
    let saved: Container[];
    try {
      saved = parseContainers(await readFile(stateFile, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new ContainerError('ERR_STATE_FILE', `cannot restore containers from ${stateFile}: ${(error as Error).message}`, { cause: error });
    }
    for (const container of saved) {
      const leases = this.#lease(container);
      this.#running.set(container.id, { container, leases, stopping: false });
      // Leased either way (the wrapper must not be collected while the container may run);
      // a wrapper gone or changed while the daemon was down is reported, not hidden.
      for (const { artifact } of leases) {
        await this.#artifacts.verify(artifact).catch((error: unknown) => {
          log('restored container %s: its file %s is not intact: %O', container.id, artifact.path, error);
        });
      }
    }
    log('restored %d containers from %s', saved.length, stateFile);
    return saved;
  }

  /** Leases on what `container`'s program needs on disk: its wrapper and the wrapper's token file. */
  #lease(container: Container): ArtifactLease[] {
    const needed = [container.artifact, container.tokenFile].filter((artifact) => artifact !== null);
    return needed.map((artifact) => this.#artifacts.lease(artifact, `container ${container.id}`));
  }

  /**
   * Writes the container list to the state file, durably: a temporary file, fsynced,
   * renamed over the old one, then the directory fsynced.
   * @throws {ContainerError} `ERR_STATE_FILE`
   */
  #save(): Promise<void> {
    const stateFile = this.#stateFile;
    if (stateFile === null) return Promise.resolve();
    const text = `${JSON.stringify(this.list(), null, 2)}\n`;
    const write = async (): Promise<void> => {
      const temp = `${stateFile}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        const file = await open(temp, 'wx', 0o600);
        try {
          await file.writeFile(text);
          await file.sync();
        } finally {
          await file.close();
        }
        await rename(temp, stateFile);
        const dir = await open(dirname(stateFile), 'r');
        try {
          await dir.sync();
        } finally {
          await dir.close();
        }
      } catch (error) {
        await rm(temp, { force: true });
        throw new ContainerError('ERR_STATE_FILE', `cannot write ${stateFile}: ${(error as Error).message}`, { cause: error });
      }
    };
    // Chained so writes land in call order; a failed write fails its own caller only.
    const saving = this.#saving.then(write, write);
    this.#saving = saving;
    return saving;
  }
}

/** The container list of a state file, checked record by record. */
function parseContainers(text: string): Container[] {
  const data: unknown = JSON.parse(text);
  if (!Array.isArray(data)) throw new Error('not a JSON array');
  const seen = new Set<string>();
  return data.map((record: unknown, index) => {
    const where = `entry ${index}`;
    if (typeof record !== 'object' || record === null) throw new Error(`${where} is not an object`);
    // A state file from before token files has no tokenFile: none.
    const { id, runtime, program, artifact, tokenFile = null, generation } = record as Record<string, unknown>;
    if (typeof id !== 'string' || !CONTAINER_ID.test(id)) throw new Error(`${where}: bad id`);
    if (seen.has(id)) throw new Error(`${where}: id ${id} appears twice`);
    seen.add(id);
    if (typeof runtime !== 'string' || typeof program !== 'string' || typeof generation !== 'number') throw new Error(`${where}: bad fields`);
    if (!isArtifactOrNull(artifact)) throw new Error(`${where}: bad artifact`);
    if (!isArtifactOrNull(tokenFile)) throw new Error(`${where}: bad tokenFile`);
    // A wrapped container runs exactly its artifact: the file is what the lease protects.
    if (artifact !== null && artifact.path !== program) throw new Error(`${where}: program is not its wrapper`);
    if (tokenFile !== null && artifact === null) throw new Error(`${where}: a token file without a wrapper`);
    return { id, runtime, program, artifact, tokenFile, generation };
  });
}

/** An artifact record as the state file holds it (its path checked; the store checks the rest when leasing), or null. */
function isArtifactOrNull(value: unknown): value is Artifact | null {
  return value === null || (typeof value === 'object' && typeof (value as { path?: unknown }).path === 'string');
}

/** Checks the wrapper (or token file) about to be used. @throws {ContainerError} `ERR_WRAPPER_INVALID` */
async function verifyWrapper(artifacts: ArtifactStore, artifact: Artifact): Promise<void> {
  try {
    await artifacts.verify(artifact);
  } catch (error) {
    throw new ContainerError('ERR_WRAPPER_INVALID', `${artifact.path} is not intact: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Executes `program` with `args` (no shell in between) and returns what it printed.
 * @throws {ContainerError} `ERR_RUNTIME_FAILED` when it cannot be run or exits non-zero
 */
export function runChecked(program: string, args: readonly string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { encoding: 'utf8', timeout: 10_000 }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ exitCode: 0, stdout, stderr });
        return;
      }
      const detail = typeof error.code === 'number' ? `exit code ${error.code}` : (error.code ?? error.message);
      reject(new ContainerError('ERR_RUNTIME_FAILED', `${program} ${args.join(' ')} failed: ${detail}: ${stderr.trim()}`, { cause: error }));
    });
  });
}
