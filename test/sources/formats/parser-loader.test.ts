// The optional parser packages: imported on first use, kept once loaded, and a typed
// MissingDependencyError when they cannot be imported or are the wrong major version.
// Faults come through the loader's seam, an import function of the test's.
import { describe, expect, it } from 'vitest';
import { MissingDependencyError } from '../../../src/errors.js';
import { JS_YAML } from '../../../src/sources/formats/parse-yaml-object.js';
import { SMOL_TOML } from '../../../src/sources/formats/parse-toml-object.js';
import { ParserLoader, parserLoader, type ParserPackage } from '../../../src/sources/formats/parser-loader.js';
import { rejection } from '../../helpers/rejection.js';

/** What Node's import() rejects with when a package is not installed. */
function notFound(specifier: string): Error {
  return Object.assign(new Error(`Cannot find package '${specifier}' imported from /app/node_modules/txconfig/dist/x.js`), { code: 'ERR_MODULE_NOT_FOUND' });
}

describe('ParserLoader', () => {
  it.each([
    [JS_YAML as ParserPackage<unknown>, 'js-yaml', /reading YAML files needs the package js-yaml/],
    [SMOL_TOML as ParserPackage<unknown>, 'smol-toml', /reading TOML files needs the package smol-toml/],
  ])('reports a package that is not installed as ERR_MISSING_DEPENDENCY naming it (%#)', async (parserPackage, name, message) => {
    const cause = notFound(name);
    const loader = new ParserLoader(() => Promise.reject(cause));
    const error = await rejection(loader.load(parserPackage));
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect(error).toMatchObject({ code: 'ERR_MISSING_DEPENDENCY', packageName: name, cause });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(`npm install ${name}`);
    expect(loader.loaded(parserPackage)).toBeUndefined();
  });

  it('reports js-yaml 4, which has no events, as ERR_MISSING_DEPENDENCY saying that 5 is needed', async () => {
    const jsYaml4 = { load: () => ({}), dump: () => '' };
    const error = await rejection(new ParserLoader(() => Promise.resolve(jsYaml4)).load(JS_YAML));
    expect(error).toMatchObject({ code: 'ERR_MISSING_DEPENDENCY', packageName: 'js-yaml' });
    expect(String((error as Error).cause)).toMatch(/js-yaml 5 or later/);
  });

  it('reports a js-yaml whose event codes changed, rather than misreading its events', async () => {
    const renumbered = { parseEvents: () => [], getScalarValue: () => '', EVENT_ID: { DOCUMENT: 0 }, SCALAR_STYLE: {} };
    const error = await rejection(new ParserLoader(() => Promise.resolve(renumbered)).load(JS_YAML));
    expect(error).toMatchObject({ code: 'ERR_MISSING_DEPENDENCY', packageName: 'js-yaml' });
  });

  it('imports a package once, for concurrent loads and later ones, and keeps it', async () => {
    const imported: string[] = [];
    const fake = { parse: () => ({}) };
    const loader = new ParserLoader((specifier) => {
      imported.push(specifier);
      return Promise.resolve(fake);
    });
    expect(loader.loaded(SMOL_TOML)).toBeUndefined();
    const [a, b] = await Promise.all([loader.load(SMOL_TOML), loader.load(SMOL_TOML)]);
    expect(await loader.load(SMOL_TOML)).toBe(fake);
    expect([a, b]).toEqual([fake, fake]);
    expect(imported).toEqual(['smol-toml']);
    expect(loader.loaded(SMOL_TOML)).toBe(fake);
  });

  it('keeps no failure: a package installed after a failed read loads on the next one', async () => {
    let installed = false;
    const fake = { parse: () => ({}) };
    const loader = new ParserLoader((specifier) => (installed ? Promise.resolve(fake) : Promise.reject(notFound(specifier))));
    await expect(loader.load(SMOL_TOML)).rejects.toMatchObject({ code: 'ERR_MISSING_DEPENDENCY' });
    installed = true;
    expect(await loader.load(SMOL_TOML)).toBe(fake);
  });

  it('loads the real packages, installed as dev dependencies', async () => {
    const yaml = await parserLoader.load(JS_YAML);
    expect(typeof yaml.parseEvents).toBe('function');
    expect(parserLoader.loaded(JS_YAML)).toBe(yaml);
    const toml = await parserLoader.load(SMOL_TOML);
    expect(toml.parse('a = 1', { maxDepth: 8 })).toEqual({ a: 1 });
  });
});
