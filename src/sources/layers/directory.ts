/**
 * The `directory()` layer: a `conf.d` directory, its files merged in name order as one
 * layer, read as one consistent set and watched for files added, changed and removed.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ArgumentError, ConfigFileError, hasErrorCode } from '../../errors.js';
import { checkInteger, checkNonEmptyString, checkOptionalBoolean, describeValue } from '../../internal/argument-checks.js';
import { log } from '../../internal/debug.js';
import type { ConfigSource } from '../../store/config-source.js';
import { formatOfPath } from '../formats/config-format.js';
import { fileError } from '../read-config-file.js';
import { fileSpec, readFileLayer, type FileLayerOptions } from './file.js';
import { mergeStack, stackOrigins, type StackEntry } from './layer-stack.js';
import { PathWatch } from '../path-watch.js';
import { defaultFileSystem } from '../../file-system.js';

/** Options of {@link directory}. */
export interface DirectoryOptions {
  /**
   * Which files are read: a RegExp tested on the file name. Default: every name with an
   * extension of a known format (`.json`, `.json5`, `.yaml`, `.yml`, `.toml`). Names that
   * start with a dot (editor swap files, Kubernetes' `..data`) are never read.
   */
  readonly pattern?: RegExp;
  /** A missing directory is an empty layer instead of an error. Default `false`. */
  readonly optional?: boolean;
  /** Largest accepted file, in bytes. Default 16 MiB. */
  readonly maxBytes?: number;
  /** Deepest accepted nesting (the root object is 1). Default 256. */
  readonly maxDepth?: number;
}

/** How many times a read starts over because the directory changed while it was read. */
const CONSISTENT_READ_ATTEMPTS = 5;
/** Safety-net re-check of the directory, for missed events (network file systems). */
const POLL_MS = 5000;

/**
 * A `conf.d` layer: every matching file of `path`, in name order (by code unit, so
 * `10-a.json` before `20-b.json`), each in its format, merged as one layer where a later
 * file overrides an earlier one. Sub-directories are not read.
 *
 * A read is consistent: the directory's list and each file's identity are taken before
 * and after reading the files, and the read starts over when they differ (a ConfigMap
 * swap, a file renamed in), so a reload never sees half of an update. `watch` reports
 * files added, removed and changed, and the directory replaced.
 *
 * Origins: `{ layer: 'directory', origin: { file, line, column } }` of the file that won,
 * the files it overrode as `shadowed`.
 *
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `path`, `pattern`, `optional`, `maxBytes` or `maxDepth`
 * @example
 * ```ts
 * layered([file('/etc/app/config.json'), directory('/etc/app/conf.d')]);
 * ```
 */
export function directory(path: string, options: DirectoryOptions = {}): ConfigSource {
  checkNonEmptyString('path', path);
  checkOptionalBoolean('optional', options.optional);
  if (options.pattern !== undefined && !(options.pattern instanceof RegExp)) throw new ArgumentError('pattern', `must be a RegExp, got ${describeValue(options.pattern)}`);
  if (options.maxBytes !== undefined) checkInteger('maxBytes', options.maxBytes, 0);
  if (options.maxDepth !== undefined) checkInteger('maxDepth', options.maxDepth, 1);
  const dir = resolve(path);
  const optional = options.optional === true;
  // Without the flags that make test() stateful.
  const pattern = options.pattern === undefined ? undefined : new RegExp(options.pattern.source, options.pattern.flags.replace(/[gy]/g, ''));
  const limits: FileLayerOptions = { ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }), ...(options.maxDepth === undefined ? {} : { maxDepth: options.maxDepth }) };
  const selects = (name: string): boolean => !name.startsWith('.') && (pattern === undefined ? formatOfPath(name) !== undefined : pattern.test(name));
  // What the last read saw, to tell a watch event that changed nothing.
  let lastState: string | undefined;

  return {
    name: `directory:${dir}`,
    async read({ signal }) {
      for (let attempt = 1; ; attempt++) {
        let before: DirectoryState;
        try {
          before = await directoryState(dir, selects, optional);
        } catch (error) {
          lastState = failureKey(error);
          throw error;
        }
        // What this read used, even when one of its files fails to parse: the watch
        // reports a change from here, not the same broken state again at every poll.
        lastState = before.key;
        const entries: StackEntry[] = [];
        for (const name of before.names) {
          const spec = fileSpec(join(dir, name), limits, 'directory');
          // A file removed since the listing is caught by the second look below.
          const read = await readFileLayer(spec, true, signal);
          entries.push({ layer: 'directory', reading: read.reading, exempt: false });
        }
        const after = await directoryState(dir, selects, optional);
        if (after.key === before.key) return { value: mergeStack(entries, 'override'), origins: stackOrigins(entries) };
        if (attempt >= CONSISTENT_READ_ATTEMPTS) throw new ConfigFileError('ERR_FILE_ACCESS', dir, `the directory kept changing while it was read (${CONSISTENT_READ_ATTEMPTS} attempts)`);
        log.sources('%s changed while it was read; reading it again', dir);
      }
    },
    watch(onChange) {
      // One check at a time; a request during one runs another after it (it may have
      // looked before the change). Nothing is reported once stopped.
      let checking = false;
      let again = false;
      let stopped = false;
      const check = (): void => {
        if (stopped) return;
        if (checking) {
          again = true;
          return;
        }
        checking = true;
        void directoryState(dir, selects, optional)
          .then(
            (state) => state.key,
            (error: unknown) => failureKey(error),
          )
          .then((key) => {
            if (stopped || key === lastState) return;
            try {
              onChange();
            } catch (error) {
              log.sources('%s: onChange threw: %O', dir, error);
            }
          })
          .finally(() => {
            checking = false;
            if (again) {
              again = false;
              check();
            }
          });
      };
      const onError = (error: unknown): void => {
        log.sources('%s: watch failed: %O', dir, error);
        check();
      };
      // The directory's own entries, and the directory itself being replaced (its parent's
      // watch). Either may be impossible for now (a parent that does not exist yet): the
      // poll tries again.
      let inner: FSWatcher | undefined;
      const watchInner = (): void => {
        inner?.close();
        try {
          inner = watch(dir, { persistent: false }, check);
          inner.on('error', onError);
        } catch (error) {
          inner = undefined;
          if (!hasErrorCode(fileError(dir, error), 'ERR_FILE_NOT_FOUND')) log.sources('cannot watch %s: %O', dir, error);
        }
      };
      let outer: PathWatch | undefined;
      const watchOuter = (): void => {
        if (outer !== undefined) return;
        try {
          outer = new PathWatch(dir, {
            fs: defaultFileSystem,
            persistent: false,
            onEvent: () => {
              watchInner();
              check();
            },
            onError,
          });
        } catch (error) {
          log.sources('cannot watch the parent of %s yet: %O', dir, error);
        }
      };
      watchInner();
      watchOuter();
      const poll = setInterval(() => {
        watchOuter();
        if (inner === undefined) watchInner();
        check();
      }, POLL_MS);
      poll.unref();
      // A change between the last read and this watch raised no event: compare now.
      check();
      return () => {
        stopped = true;
        clearInterval(poll);
        outer?.close();
        inner?.close();
      };
    },
  };
}

/** The selected names of a directory, in order, and a key naming each one's identity and version. */
interface DirectoryState {
  readonly names: readonly string[];
  readonly key: string;
}

/** The key of a directory that could not be listed: the same failure is the same state. */
function failureKey(error: unknown): string {
  return `failed:${hasErrorCode(error, 'ERR_FILE_NOT_FOUND', 'ERR_FILE_ACCESS', 'ERR_FILE_TYPE') ? error.code : 'other'}`;
}

/** The selected names in order, and a key naming each one's identity and version. */
async function directoryState(dir: string, selects: (name: string) => boolean, optional: boolean): Promise<DirectoryState> {
  let listed: string[];
  try {
    listed = await readdir(dir);
  } catch (error) {
    const failure = fileError(dir, error);
    if (optional && hasErrorCode(failure, 'ERR_FILE_NOT_FOUND')) return { names: [], key: 'missing' };
    throw failure;
  }
  const names: string[] = [];
  const parts: string[] = [];
  for (const name of listed.filter(selects).sort(byCodeUnit)) {
    // stat follows symlinks: a ConfigMap's files are links through `..data`, swapped at once.
    const stats = await stat(join(dir, name), { bigint: true }).catch(() => undefined);
    if (stats === undefined || !stats.isFile()) continue;
    names.push(name);
    parts.push(`${name}\0${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`);
  }
  return { names, key: parts.join('\n') };
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
