/**
 * The optional parser packages (js-yaml, smol-toml): optional peer dependencies, imported
 * only when a file of their format is read, kept after the first load, and reported as
 * {@link MissingDependencyError} when they cannot be loaded.
 *
 * Internal: parse-config-format.ts uses the shared {@link parserLoader}; tests make their
 * own {@link ParserLoader} with an import function that fails.
 */
import { MissingDependencyError } from '../../errors.js';

/** An optional package a format needs: its name, what it is for, and the shape we use. */
export interface ParserPackage<Module> {
  /** The npm package (`js-yaml`). */
  readonly name: string;
  /** What needs it, for the error message (`reading YAML files`). */
  readonly feature: string;
  /**
   * `module` as the shape we call, or a reason why it is not (an older major version
   * without the functions we use).
   */
  readonly check: (module: unknown) => Module | string;
}

/** Loads a module by its specifier: `import()` itself, or a test's stand-in. */
export type ImportModule = (specifier: string) => Promise<unknown>;

// A function of its own so that `import()` resolves from this file, where the package's
// node_modules are: the user's project, beside txconfig.
const importModule: ImportModule = (specifier) => import(specifier);

/** Loads parser packages through one import function and keeps each once loaded. */
export class ParserLoader {
  readonly #import: ImportModule;
  /** Each package loaded, by name: set once, never removed. */
  readonly #loaded = new Map<string, unknown>();
  /** Loads under way, by name, so concurrent reads share one; removed when settled. */
  readonly #loading = new Map<string, Promise<unknown>>();

  constructor(importFunction: ImportModule = importModule) {
    this.#import = importFunction;
  }

  /**
   * The package's module, imported on first use. A failed load is not kept: installing the
   * package later lets the next read succeed.
   * @throws {MissingDependencyError} `ERR_MISSING_DEPENDENCY` when it cannot be imported or
   *   is not the version we need; the import's failure is its `cause`.
   */
  async load<Module>(parserPackage: ParserPackage<Module>): Promise<Module> {
    const loaded = this.loaded(parserPackage);
    if (loaded !== undefined) return loaded;
    let loading = this.#loading.get(parserPackage.name);
    if (loading === undefined) {
      loading = this.#importChecked(parserPackage).finally(() => this.#loading.delete(parserPackage.name));
      this.#loading.set(parserPackage.name, loading);
    }
    return (await loading) as Module;
  }

  /** The package's module if it was loaded already, else `undefined`. Synchronous. */
  loaded<Module>(parserPackage: ParserPackage<Module>): Module | undefined {
    // Only load() stores a module under this name, after parserPackage.check accepted it.
    return this.#loaded.get(parserPackage.name) as Module | undefined;
  }

  async #importChecked<Module>(parserPackage: ParserPackage<Module>): Promise<Module> {
    let module: unknown;
    try {
      module = await this.#import(parserPackage.name);
    } catch (error) {
      throw new MissingDependencyError(parserPackage.name, parserPackage.feature, { cause: error });
    }
    const checked = parserPackage.check(module);
    if (typeof checked === 'string') throw new MissingDependencyError(parserPackage.name, parserPackage.feature, { cause: new Error(checked) });
    this.#loaded.set(parserPackage.name, checked);
    return checked;
  }
}

/** The loader every read uses. */
export const parserLoader = new ParserLoader();
