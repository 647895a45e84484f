/**
 * The `file:` secret resolver: a secret is the text of a file under allowed roots (a
 * Kubernetes Secret volume, `/run/secrets` of Docker), read with limits and watched
 * through its directory, so a rotation is a reload.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ArgumentError, SecretError, hasErrorCode } from '../../errors.js';
import { defaultFileSystem } from '../../file-system.js';
import { checkInteger, describeValue } from '../../internal/argument-checks.js';
import { log } from '../../internal/debug.js';
import { sha256Hex } from '../../internal/sha256.js';
import type { SecretResolver } from '../../pipeline/resolve-secrets.js';
import { decodeConfigBytes, fileError, readConfigBytes, withoutBom } from '../read-config-file.js';
import { watchConfigFile } from '../watch-config-file.js';
import { retriedWatch } from '../retried-watch.js';

/** Default {@link FileSecretsOptions.maxBytes}: 64 KiB, far above any password, key or token. */
export const DEFAULT_SECRET_MAX_BYTES = 64 * 1024;


/** Options of {@link fileSecrets}. */
export interface FileSecretsOptions {
  /**
   * The directories secrets may be read from (`/run/secrets`), absolute. A reference
   * must lie under one of them both as written (`..` resolved) and once every symlink
   * is followed.
   */
  readonly roots: readonly string[];
  /** Largest accepted secret file, in bytes. Default {@link DEFAULT_SECRET_MAX_BYTES} (64 KiB). */
  readonly maxBytes?: number;
  /**
   * `'strip'` (default): one trailing `\n` or `\r\n` is not part of the secret, since
   * `echo token > file` and most editors add one. `'keep'`: the text as it is.
   */
  readonly trailingNewline?: 'strip' | 'keep';
}

/**
 * The resolver of `file:` references (`{ "$secret": "file:/run/secrets/db_password" }`):
 * the secret is the text of that file, as UTF-8, a leading BOM and (by default) one
 * trailing newline removed. Give it to `ConfigStore.create({ secrets: [...] })`.
 *
 * A reference is an absolute path. It is read only when it lies under one of `roots`
 * twice over: as written with `..` resolved, and after `realpath` of it and of the root,
 * so a symlink that leaves the roots is refused while the symlinks of a Kubernetes
 * Secret volume (`db_password -> ..data/db_password`, `..data -> ..2024_01_01_…`) work.
 * Only a regular file is read, never more than `maxBytes`. `watch` watches the file's
 * directory (and its symlink target's), so a `..data` swap is one change; rewriting the
 * same bytes is none.
 *
 * @throws {ArgumentError} `ERR_ARGUMENT` naming `options`, `roots` (missing or empty),
 *   `roots[i]` (not an absolute path), `maxBytes` (not an integer >= 1) or `trailingNewline`.
 * @example
 * ```ts
 * const store = await ConfigStore.create({ schema, source: file('/etc/app/config.json'),
 *   secrets: [fileSecrets({ roots: ['/run/secrets'] })] });
 * // config.json: { "db": { "password": { "$secret": "file:/run/secrets/db_password" } } }
 * ```
 */
export function fileSecrets(options: FileSecretsOptions): SecretResolver {
  const { roots, maxBytes, stripNewline } = checkOptions(options);
  // The SHA-256 of the bytes each path (absolute, as written) last resolved to, so a
  // watch that starts after the resolve reports a change made in between, and only then.
  const resolved = new Map<string, string>();

  return {
    scheme: 'file',
    async resolve(reference, { signal, pointer }) {
      const path = pathOf(reference, roots, pointer);
      // Forgotten until this resolve succeeds: after a failure, any content is news.
      resolved.delete(path);
      const bytes = await readSecret(path, reference, pointer, roots, maxBytes, signal);
      const text = decodeSecret(bytes, reference, pointer, stripNewline);
      resolved.set(path, sha256Hex(bytes));
      return text;
    },
    watch(reference, onChange) {
      let path: string;
      try {
        path = pathOf(reference, roots, '');
      } catch {
        // Never resolvable: nothing to watch, and no directory outside the roots is watched.
        return () => undefined;
      }
      return watchSecret(path, () => resolved.get(path), onChange, maxBytes);
    },
  };
}

interface CheckedOptions {
  readonly roots: readonly string[];
  readonly maxBytes: number;
  readonly stripNewline: boolean;
}

/** @throws {ArgumentError} as {@link fileSecrets} */
function checkOptions(options: unknown): CheckedOptions {
  if (typeof options !== 'object' || options === null) throw new ArgumentError('options', `must be an object with roots, got ${describeValue(options)}`);
  const { roots, maxBytes = DEFAULT_SECRET_MAX_BYTES, trailingNewline = 'strip' } = options as Partial<Record<keyof FileSecretsOptions, unknown>>;
  if (!Array.isArray(roots) || roots.length === 0) throw new ArgumentError('roots', `must be a non-empty array of absolute directory paths, got ${describeValue(roots)}`);
  const checked = roots.map((root: unknown, index) => {
    if (typeof root !== 'string' || !isAbsolute(root)) throw new ArgumentError(`roots[${index}]`, `must be an absolute path, got ${typeof root === 'string' ? 'a relative path' : describeValue(root)}`);
    return resolve(root);
  });
  checkInteger('maxBytes', maxBytes, 1);
  if (trailingNewline !== 'strip' && trailingNewline !== 'keep') throw new ArgumentError('trailingNewline', `must be 'strip' or 'keep', got ${describeValue(trailingNewline)}`);
  return { roots: checked, maxBytes, stripNewline: trailingNewline === 'strip' };
}

/**
 * The absolute path a reference names, `..` resolved, when it lies under a root as written.
 * @throws {SecretError} a relative path, or one outside every root
 */
function pathOf(reference: string, roots: readonly string[], pointer: string): string {
  if (!isAbsolute(reference)) throw new SecretError(`file:${reference}`, pointer, 'a file reference must be an absolute path');
  const path = resolve(reference);
  // Checked before the file system is touched: a reference outside the roots learns nothing, not even whether its file exists.
  if (!roots.some((root) => isInside(path, root))) throw new SecretError(`file:${reference}`, pointer, 'outside the allowed roots');
  return path;
}

/** True when `path` is `root` or under it (both absolute and normalized). */
function isInside(path: string, root: string): boolean {
  const rest = relative(root, path);
  return rest === '' || (rest !== '..' && !rest.startsWith(`..${sep}`) && !isAbsolute(rest));
}

/**
 * The bytes of the file `path` names, read from its real path once that is checked to lie
 * under a root's real path. @throws {SecretError} outside the roots, or the read's
 * `ConfigFileError` as `cause`
 */
async function readSecret(path: string, reference: string, pointer: string, roots: readonly string[], maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  const named = `file:${reference}`;
  // A Secret volume's old `..2024_…` directory is removed right after the `..data`
  // swap: a file that vanishes between the realpath and the open is looked up once more.
  for (let attempt = 1; ; attempt++) {
    let real: string;
    try {
      real = await defaultFileSystem.realpath(path);
    } catch (error) {
      throw unreadable(named, pointer, fileError(path, error));
    }
    const realRoots = await Promise.all(roots.map((root) => defaultFileSystem.realpath(root).catch(() => undefined)));
    if (!realRoots.some((root) => root !== undefined && isInside(real, root))) {
      throw new SecretError(named, pointer, 'a symlink leads outside the allowed roots');
    }
    try {
      return await readConfigBytes(real, { maxBytes, signal });
    } catch (error) {
      if (signal.aborted && error === signal.reason) throw error;
      if (attempt < 2 && hasErrorCode(error, 'ERR_FILE_NOT_FOUND')) continue;
      throw unreadable(named, pointer, error);
    }
  }
}

/** A failed read as a SecretError, the read's `ConfigFileError` (path, code) as its cause. */
function unreadable(named: string, pointer: string, error: unknown): SecretError {
  const code = hasErrorCode(error, 'ERR_FILE_NOT_FOUND', 'ERR_FILE_TYPE', 'ERR_FILE_TOO_LARGE', 'ERR_FILE_ACCESS') ? error.code : undefined;
  return new SecretError(named, pointer, code === undefined ? 'cannot read the file' : UNREADABLE[code], { cause: error });
}

const UNREADABLE = {
  ERR_FILE_NOT_FOUND: 'no such file',
  ERR_FILE_TYPE: 'not a regular file',
  ERR_FILE_TOO_LARGE: 'the file is larger than maxBytes',
  ERR_FILE_ACCESS: 'cannot read the file (permission denied or an I/O error)',
} as const;

/** The secret's text: strict UTF-8, a BOM and (by the option) one trailing newline removed, never empty. @throws {SecretError} */
function decodeSecret(bytes: Uint8Array, reference: string, pointer: string, stripNewline: boolean): string {
  const named = `file:${reference}`;
  let text: string;
  try {
    text = withoutBom(decodeConfigBytes(bytes, reference));
  } catch (error) {
    throw new SecretError(named, pointer, 'the file is not valid UTF-8', { cause: error });
  }
  if (stripNewline) text = text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
  // An empty secret is a file mid-write or a mistake, never a password to use.
  if (text === '') throw new SecretError(named, pointer, 'the file is empty');
  return text;
}

/**
 * Watches the file at `path` and calls `onChange` when its bytes differ from those last
 * resolved (`resolvedDigest`), and for every later change. A file that stays missing,
 * empty or unreadable calls it too, so the reload reports why. Returns the stop.
 */
function watchSecret(path: string, resolvedDigest: () => string | undefined, onChange: () => void, maxBytes: number): () => void {
  let isInitial = true;
  return retriedWatch(`the secret file ${path}`, () =>
    watchConfigFile<undefined>(
      path,
      (change) => {
        const initial = isInitial;
        isInitial = false;
        // The content at start is news only when the store resolved other bytes.
        if (!initial || change.digest !== resolvedDigest()) onChange();
      },
      {
        emitInitial: true,
        // Only whether the bytes changed matters; the resolve reads them. An empty file
        // counts as broken, so a save that truncates first is retried, not reported.
        parse: (bytes) => {
          if (bytes.byteLength === 0) throw new Error('empty');
          return undefined;
        },
        read: { maxBytes },
        persistent: false,
        onError: (error, context) => {
          log.sources('secret file %s: %s failed: %O', path, context.phase, error);
          isInitial = false;
          if (context.phase !== 'change') onChange();
        },
      },
    ),
  );
}
