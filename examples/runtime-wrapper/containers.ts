// A simulated container engine: "containers" are records of which program (a runtime
// binary or a wrapper script) they were started with, and every lifecycle step really
// executes that program. A container keeps its program for its whole life and holds a
// lease on its wrapper, so no reload and no garbage collection can take it away.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';

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
  /** The config generation it was started under. */
  readonly generation: number;
}

/** What running a program printed. */
export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A container operation failed. `code`: `ERR_CONTAINER_EXISTS`, `ERR_CONTAINER_ID`, `ERR_NO_CONTAINER`, `ERR_RUNTIME_FAILED`. */
export class ContainerError extends Error {
  override name = 'ContainerError';
  readonly code: 'ERR_CONTAINER_EXISTS' | 'ERR_CONTAINER_ID' | 'ERR_NO_CONTAINER' | 'ERR_RUNTIME_FAILED';

  constructor(code: ContainerError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Starts, execs into and stops simulated containers; records them in `stateFile` so a restarted daemon finds them. */
export class ContainerEngine {
  readonly #store: RuntimeSource;
  readonly #artifacts: ArtifactStore;
  readonly #stateFile: string | null;
  /** Running containers and their leases. An id is here from the first turn of start() on, so a second start of it fails. */
  readonly #running = new Map<string, { container: Container | null; lease: ArtifactLease | null }>();
  /** The state file writes, one after the other, so an older list never lands last. */
  #saving: Promise<void> = Promise.resolve();

  constructor(store: RuntimeSource, artifacts: ArtifactStore, options: { stateFile?: string } = {}) {
    this.#store = store;
    this.#artifacts = artifacts;
    this.#stateFile = options.stateFile ?? null;
  }

  /** The running containers. */
  list(): Container[] {
    return [...this.#running.values()].flatMap(({ container }) => (container === null ? [] : [container]));
  }

  /** The running container `id`. @throws {ContainerError} `ERR_NO_CONTAINER` */
  get(id: string): Container {
    const container = this.#running.get(id)?.container ?? null;
    if (container === null) throw new ContainerError('ERR_NO_CONTAINER', `no container ${JSON.stringify(id)}`);
    return container;
  }

  /**
   * Starts container `id` with `runtime` (`''`: the default): runs `<program> start <id>`.
   *
   * The snapshot is read and the lease taken in the same synchronous turn, before any
   * await: the live snapshot holds its wrappers, so the wrapper exists at that moment
   * and the lease holds it from then on, whatever reload commits or collection runs
   * while the start goes on. `verify` then checks the bytes really are the script.
   * @throws {UnknownRuntimeError} `ERR_UNKNOWN_RUNTIME`
   * @throws {ContainerError} `ERR_CONTAINER_ID`, `ERR_CONTAINER_EXISTS`, `ERR_RUNTIME_FAILED`
   */
  async start(id: string, runtime = ''): Promise<{ container: Container; result: RunResult }> {
    if (!CONTAINER_ID.test(id)) throw new ContainerError('ERR_CONTAINER_ID', `container id ${JSON.stringify(id)} is not allowed`);
    if (this.#running.has(id)) throw new ContainerError('ERR_CONTAINER_EXISTS', `container ${JSON.stringify(id)} already exists`);
    const snapshot = this.#store.load();
    const resolved = resolveRuntime(snapshot.derived.runtimes, runtime);
    const lease = resolved.artifact === null ? null : this.#artifacts.lease(resolved.artifact, `container ${id}`);
    const entry: { container: Container | null; lease: ArtifactLease | null } = { container: null, lease };
    this.#running.set(id, entry);
    try {
      if (lease !== null) await this.#artifacts.verify(lease.artifact);
      const container: Container = {
        id,
        runtime: resolved.name,
        program: resolved.program,
        artifact: lease?.artifact ?? null,
        generation: snapshot.generation,
      };
      const result = await runChecked(container.program, ['start', id]);
      entry.container = container;
      log('started %s with %s (generation %d): %s', id, container.runtime, container.generation, container.program);
      await this.#save();
      return { container, result };
    } catch (error) {
      this.#running.delete(id);
      lease?.release();
      throw error;
    }
  }

  /**
   * Runs `<program> exec <id> ...args` with the program the container was started with.
   * @throws {ContainerError} `ERR_NO_CONTAINER`, `ERR_RUNTIME_FAILED`
   */
  async exec(id: string, args: readonly string[]): Promise<RunResult> {
    const container = this.get(id);
    return runChecked(container.program, ['exec', id, ...args]);
  }

  /**
   * Runs `<program> delete <id>`, releases the container's lease and collects garbage, so
   * a wrapper nothing else holds goes now.
   * @throws {ContainerError} `ERR_NO_CONTAINER`, `ERR_RUNTIME_FAILED` (the container stays)
   */
  async stop(id: string): Promise<{ container: Container; result: RunResult; gc: GcReport }> {
    const container = this.get(id);
    const result = await runChecked(container.program, ['delete', id]);
    const entry = this.#running.get(id);
    this.#running.delete(id);
    entry?.lease?.release();
    log('stopped %s', id);
    await this.#save();
    const gc = await this.#store.collectGarbage();
    return { container, result, gc };
  }

  /**
   * Takes back the containers a previous daemon recorded in the state file, with a lease
   * on each wrapper. Call it before the first garbage collection.
   * @returns the containers restored
   */
  async restore(): Promise<Container[]> {
    if (this.#stateFile === null) return [];
    let text: string;
    try {
      text = await readFile(this.#stateFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const saved = JSON.parse(text) as Container[];
    for (const container of saved) {
      const lease = container.artifact === null ? null : this.#artifacts.lease(container.artifact, `container ${container.id}`);
      this.#running.set(container.id, { container, lease });
    }
    log('restored %d containers from %s', saved.length, this.#stateFile);
    return saved;
  }

  /** Writes the container list to the state file, atomically (temp file, then rename). */
  #save(): Promise<void> {
    const stateFile = this.#stateFile;
    if (stateFile === null) return Promise.resolve();
    const text = `${JSON.stringify(this.list(), null, 2)}\n`;
    const write = async (): Promise<void> => {
      const temp = `${stateFile}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(temp, text, { mode: 0o600 });
      await rename(temp, stateFile);
    };
    // Chained so writes land in call order; a failed write fails its own caller only.
    const saving = this.#saving.then(write, write);
    this.#saving = saving;
    return saving;
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
