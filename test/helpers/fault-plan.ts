/**
 * Fault injection through the seams the library offers: the artifact store's `fs`, the
 * config reader's `fs`, a Standard Schema validator, and participants. Every fallible
 * step calls `plan.hit(label)`; a run with the plan armed at `k` fails exactly its k-th
 * step, so a test can first count the steps N of a clean run and then fail each in turn.
 */
import * as fs from 'node:fs';
import { promisify } from 'node:util';

import { defaultFileSystem, type FileSystem } from '../../src/file-system.js';
import type { ReadConfigFileOptions } from '../../src/sources/read-config-file.js';

/** An injected failure: an Error with a system error code, as Node's own fs errors have. */
export class InjectedFault extends Error {
  override name = 'InjectedFault';
  readonly code = 'EIO';
  readonly step: string;
  constructor(step: string) {
    super(`injected failure at step "${step}"`);
    this.step = step;
  }
}

export class FaultPlan {
  /** Labels of the steps hit since the last `arm`, in order. */
  readonly steps: string[] = [];
  /** The step that failed, once it has. */
  failed: InjectedFault | undefined;
  #armed = false;
  #failAt = 0;
  #instead: (() => void) | undefined;

  /**
   * Counts steps from now on and fails the `failAt`-th (0: fail nothing, only count). With
   * `instead`, the step does not fail: `instead` runs at it (to abort a signal, say), and
   * `failed` still names the step.
   */
  arm(failAt = 0, instead?: () => void): void {
    this.#armed = true;
    this.#failAt = failAt;
    this.#instead = instead;
    this.steps.length = 0;
    this.failed = undefined;
  }

  /** Stops counting and failing (set-up and checks run disarmed). */
  disarm(): void {
    this.#armed = false;
  }

  /** Records a step; returns the fault to raise when this step is the one to fail. */
  hit(label: string): InjectedFault | undefined {
    if (!this.#armed) return undefined;
    this.steps.push(label);
    if (this.steps.length !== this.#failAt) return undefined;
    this.failed = new InjectedFault(label);
    if (this.#instead === undefined) return this.failed;
    this.#instead();
    return undefined;
  }

  /** Throws the fault when this step is the one to fail. */
  step(label: string): void {
    const fault = this.hit(label);
    if (fault !== undefined) throw fault;
  }
}

/**
 * The default file system, as the artifact store uses it, with every call a step. A
 * failing `close` closes the descriptor first, so none leaks; every other failing call
 * does nothing.
 */
export function faultyArtifactFs(plan: FaultPlan, prefix = 'artifact'): FileSystem {
  const wrapped: Record<string, unknown> = {};
  // Temporary files whose link found the final file already there (a reused artifact).
  const reused = new Set<string>();
  for (const [key, real] of Object.entries(defaultFileSystem) as [keyof FileSystem, (...args: unknown[]) => Promise<unknown>][]) {
    wrapped[key] = async (...args: unknown[]): Promise<unknown> => {
      const first = args[0];
      let label = `${prefix} ${key}${typeof first === 'string' ? ` ${describePath(first)}` : ''}`;
      if (key === 'unlink' && typeof first === 'string' && reused.delete(first)) label += ' after reuse';
      const fault = plan.hit(label);
      if (fault === undefined) {
        return real(...args).catch((error: unknown) => {
          if (key === 'link' && typeof first === 'string' && (error as { code?: unknown }).code === 'EEXIST') reused.add(first);
          throw error;
        });
      }
      if (key === 'close') await real(...args);
      throw fault;
    };
  }
  return wrapped as unknown as FileSystem;
}

function describePath(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (base.startsWith('.tmp-')) return '(temporary file)';
  const cut = base.lastIndexOf('-');
  return cut > 0 && base.length - cut === 65 ? `(${base.slice(0, cut)})` : '(directory)';
}

const openFd = promisify(fs.open);
const statFd = promisify(fs.fstat);
const closeFd = promisify(fs.close);
const readFd = promisify(fs.read);

/**
 * The config reader's file system with every call a step, plus one step `parse` right
 * after the first read: failing it truncates what was read to half (a file read in the
 * middle of a save), which must end as a parse error.
 */
export function faultyConfigFs(plan: FaultPlan): NonNullable<ReadConfigFileOptions['fs']> {
  let truncated = false;
  return {
    open: async (path, flags) => {
      plan.step('config open');
      truncated = false;
      return openFd(path, flags);
    },
    fstat: async (fd) => {
      plan.step('config fstat');
      return statFd(fd);
    },
    read: async (fd, buffer, offset, length, position) => {
      plan.step(position === 0 ? 'config read' : 'config read (to the end)');
      if (truncated) return { bytesRead: 0 };
      const { bytesRead } = await readFd(fd, buffer, offset, length, position);
      if (position === 0 && bytesRead > 1 && plan.hit('config parse (half-written file)') !== undefined) {
        truncated = true;
        return { bytesRead: Math.floor(bytesRead / 2) };
      }
      return { bytesRead };
    },
    close: async (fd) => {
      const fault = plan.hit('config close');
      await closeFd(fd);
      if (fault !== undefined) throw fault;
    },
  };
}
