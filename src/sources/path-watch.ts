/**
 * The OS watches behind a config watcher: the directory that holds a path, and the
 * directory of its resolved target when the path is a symlink elsewhere. Never the
 * file's inode, which an editor's save or a Kubernetes ConfigMap update replaces.
 * Internal.
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { FileStats, FileSystem } from '../file-system.js';
import { log } from '../internal/debug.js';
import { fileError } from './read-config-file.js';

/** Options of {@link PathWatch}. */
export interface PathWatchOptions {
  /** Where `stat` and `realpath` go. */
  readonly fs: FileSystem;
  /** Whether the OS watches keep the process alive, as for `fs.watch`. */
  readonly persistent: boolean;
  /** Any event in a watched directory, or a new watch that may have missed one. */
  readonly onEvent: () => void;
  /** The watch of the path's own directory failed (it is re-made by the next {@link PathWatch.refresh}). */
  readonly onError: (error: unknown) => void;
  /** Makes an OS watch. Default `fs.watch`; tests pass one whose watches fail. */
  readonly watch?: (dir: string, options: { readonly persistent: boolean }, listener: () => void) => FSWatcher;
}

/** Watches the directories a path depends on; {@link refresh} follows them as they change. */
export class PathWatch {
  readonly #path: string;
  readonly #options: PathWatchOptions;
  /** True from close() on: no watch is made after that. */
  #closed = false;
  /** Watches the directory that holds the path; undefined after it failed, until refresh() re-makes it. */
  #dirWatcher: FSWatcher | undefined;
  /** dev:ino of the directory #dirWatcher watches, to notice it was replaced. */
  #dirIdentity: string | undefined;
  /** Watches the directory of the resolved target when the path is a symlink elsewhere. */
  #targetWatcher: FSWatcher | undefined;
  #targetDir: string | undefined;

  /**
   * Starts watching the directory of `path` (absolute).
   * @throws {ConfigFileError} `ERR_FILE_NOT_FOUND`, `ERR_FILE_ACCESS`: that directory cannot be watched.
   */
  constructor(path: string, options: PathWatchOptions) {
    this.#path = path;
    this.#options = options;
    this.#dirWatcher = this.#watchDir(dirname(path), true);
  }

  /**
   * Re-watches the directory if it was replaced (or its watch failed), and follows the
   * path's resolved target to its own directory, so edits in place behind a symlink are
   * seen too. Call after each read of the path.
   */
  async refresh(): Promise<void> {
    const { fs } = this.#options;
    const dir = dirname(this.#path);
    const [dirStats, target] = await Promise.all([
      fs.stat(dir).catch(() => undefined),
      fs.realpath(this.#path).catch(() => undefined),
      // Missing: keep what we have; the poll and the next event try again.
    ]);
    const realDir = await fs.realpath(dir).catch(() => dir);
    if (this.#isClosed()) return;

    if (dirStats !== undefined) {
      const identity = identityOf(dirStats);
      if (this.#dirWatcher !== undefined && this.#dirIdentity === undefined) {
        // The watch made at construction: this is the directory it watches.
        this.#dirIdentity = identity;
      } else if (this.#dirWatcher === undefined || identity !== this.#dirIdentity) {
        this.#dirWatcher?.close();
        this.#dirWatcher = this.#watchDir(dir, false);
        this.#dirIdentity = this.#dirWatcher === undefined ? undefined : identity;
        log.sources('directory %s replaced; watching the new one', dir);
        // A change between the last read and the new watch raised no event.
        this.#options.onEvent();
      }
    }
    if (target === undefined) return;
    const targetDir = dirname(target);
    if (targetDir === this.#targetDir) return;
    this.#targetWatcher?.close();
    this.#targetWatcher = undefined;
    this.#targetDir = undefined;
    if (targetDir === realDir) return;
    this.#targetWatcher = this.#watchDir(targetDir, false);
    this.#targetDir = this.#targetWatcher === undefined ? undefined : targetDir;
    log.sources('%s resolves to %s; watching %s too', this.#path, target, targetDir);
  }

  /** Closes every OS watch. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#dirWatcher?.close();
    this.#targetWatcher?.close();
    this.#dirWatcher = undefined;
    this.#targetWatcher = undefined;
  }

  // A method, not a field read: TypeScript would keep a narrowing of the field across awaits.
  #isClosed(): boolean {
    return this.#closed;
  }

  /** fs.watch on a directory; every event there is passed on. */
  #watchDir(dir: string, mustSucceed: boolean): FSWatcher | undefined {
    const { onEvent, onError, persistent, watch: watchDir = watch } = this.#options;
    let watcher: FSWatcher;
    try {
      watcher = watchDir(dir, { persistent }, onEvent);
    } catch (error) {
      if (mustSucceed) throw fileError(dir, error);
      log.sources('cannot watch %s: %O', dir, error);
      return undefined;
    }
    watcher.on('error', (error) => {
      // Typically the directory went away (a ConfigMap's old timestamped directory).
      // The next refresh re-resolves and re-watches.
      watcher.close();
      if (watcher === this.#dirWatcher) {
        this.#dirWatcher = undefined;
        this.#dirIdentity = undefined;
        onError(error);
      }
      if (watcher === this.#targetWatcher) {
        this.#targetWatcher = undefined;
        this.#targetDir = undefined;
      }
      onEvent();
    });
    return watcher;
  }
}

/** `dev:ino` of a directory, to notice it was replaced. */
function identityOf(stats: FileStats): string {
  return `${stats.dev}:${stats.ino}`;
}
