// parseConfigFormat and locateInText, the entry points the file layers call: the format
// of a file name, each format's happy path as plain JSON data, every failure typed, the
// abort signal, and a missing parser package — through a real child process whose module
// resolution cannot find it.
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ParseError, isTxConfigError } from '../../../src/errors.js';
import { formatOfPath, type ConfigFormat } from '../../../src/sources/formats/config-format.js';
import { locateInText, parseConfigFormat } from '../../../src/sources/formats/parse-config-format.js';
import { TWO_TURN_TEXT, parseJsonObject } from '../../../src/sources/parse-json-object.js';
import { rejection, thrownBy } from '../../helpers/rejection.js';
import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.js';

const parse = (text: string, format: ConfigFormat, maxDepth = 256): Promise<Record<string, unknown>> => parseConfigFormat(text, { format, source: `config.${format}`, maxDepth });

/** The same config in each format. */
const TEXTS: Readonly<Record<ConfigFormat, string>> = {
  json: '{"server": {"port": 8080, "hosts": ["a", "b"]}, "debug": false, "ratio": 0.5, "name": null}',
  json5: "// the config\n{server: {port: 8080, hosts: ['a', 'b',]}, debug: false, ratio: .5, name: null}",
  yaml: 'server:\n  port: 8080\n  hosts: [a, b]\ndebug: false\nratio: 0.5\nname: ~\n',
  toml: 'debug = false\nratio = 0.5\n[server]\nport = 8080\nhosts = ["a", "b"]\n',
};
const EXPECTED = { server: { port: 8080, hosts: ['a', 'b'] }, debug: false, ratio: 0.5, name: null };

describe('formatOfPath', () => {
  it.each([
    ['/etc/app/config.json', 'json'],
    ['config.JSON5', 'json5'],
    ['/etc/app/config.yaml', 'yaml'],
    ['a.b.YML', 'yaml'],
    ['C:\\app\\config.Toml', 'toml'],
    ['/etc/app.json/config', undefined],
    ['/etc/app/.json', undefined],
    ['config.ini', undefined],
    ['config', undefined],
    ['config.json.bak', undefined],
  ])('%s is %s', (path, format) => {
    expect(formatOfPath(path)).toBe(format);
  });
});

describe('parseConfigFormat: every format', () => {
  it.each(Object.keys(TEXTS) as ConfigFormat[])('reads the same config from %s as plain JSON data', async (format) => {
    const config = await parse(TEXTS[format], format);
    expect(config).toEqual(format === 'toml' ? { ...EXPECTED, name: undefined } : EXPECTED);
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(config.server)).toBe(Object.prototype);
  });

  it('reads JSON exactly as the JSON reader does, errors included', async () => {
    const text = '{"a": 1,\n "a": 2}';
    const expected = thrownBy(() => parseJsonObject(text, { source: 'config.json', maxDepth: 256 }));
    expect(await rejection(parse(text, 'json'))).toEqual(expected);
  });

  it('reads a JSON5 file that is plain JSON through the JSON fast path, to the same result', async () => {
    const json = TEXTS.json;
    expect(await parse(json, 'json5')).toStrictEqual(JSON.parse(json) as unknown);
    expect(await rejection(parse('{"a": 1, "a": 2}', 'json5'))).toMatchObject({ code: 'ERR_PARSE', line: 1, column: 10 });
    expect(await rejection(parse('{"__proto__": 1}', 'json5'))).toMatchObject({ code: 'ERR_UNSAFE_KEY', line: 1, column: 2 });
  });

  it.each([
    ['json', '[1]'],
    ['json5', '[1]'],
    ['yaml', '- 1\n'],
    ['json', ''],
    ['json5', ''],
    ['yaml', ''],
  ] as const)('refuses a %s root that is not an object: ERR_PARSE at line 1, column 1', async (format, text) => {
    expect(await rejection(parse(text, format))).toMatchObject({ code: 'ERR_PARSE', path: `config.${format}`, line: 1, column: 1 });
  });

  it.each([
    ['json', '{"a": {"b": 1}}'],
    ['json5', '{a: {b: 1}}'],
    ['yaml', 'a:\n  b: 1\n'],
    ['toml', '[a]\nb = 1\n'],
  ] as const)('refuses %s nested past maxDepth as ERR_PARSE', async (format, text) => {
    expect(await parse(text, format, 2)).toEqual({ a: { b: 1 } });
    expect(await rejection(parse(text, format, 1))).toMatchObject({ code: 'ERR_PARSE', path: `config.${format}` });
  });

  it('refuses a format it does not know as ERR_PARSE', async () => {
    expect(await rejection(parse('{}', 'ini' as ConfigFormat))).toMatchObject({ code: 'ERR_PARSE', line: 1, column: 1 });
  });
});

describe('parseConfigFormat: the abort signal', () => {
  it('rejects with the reason of a signal aborted before the call, for every format', async () => {
    const reason = new Error('stop');
    for (const format of Object.keys(TEXTS) as ConfigFormat[]) {
      expect(await rejection(parseConfigFormat(TEXTS[format], { format, source: 'x', maxDepth: 8, signal: AbortSignal.abort(reason) }))).toBe(reason);
    }
  });

  it.each([
    ['yaml', (i: number) => `key${i}: value number ${i}\n`],
    ['toml', (i: number) => `key${i} = "value number ${i}"\n`],
  ] as const)('stops a long %s text at the turn between its parse and its checks', async (format, line) => {
    const lines: string[] = [];
    for (let i = 0, length = 0; length <= TWO_TURN_TEXT; i++) {
      lines.push(line(i));
      length += lines.at(-1)!.length;
    }
    const text = lines.join('');
    const controller = new AbortController();
    const reason = new Error('stop');
    // The parse runs in one turn; the abort, queued before it, fires at the turn after.
    setImmediate(() => {
      controller.abort(reason);
    });
    expect(await rejection(parseConfigFormat(text, { format, source: 'x', maxDepth: 8, signal: controller.signal }))).toBe(reason);
    expect(Object.keys(await parse(text, format)).length).toBe(lines.length);
  });
});

describe('locateInText', () => {
  it.each([
    ['json', '{\n  "server": {\n    "port": 8080\n  }\n}', 3, 13],
    ['json5', "{\n  server: {\n    port: 8080, // the port\n  },\n}", 3, 11],
    ['yaml', 'server:\n  port: 8080\n', 2, 9],
  ] as const)('finds a nested value in %s', async (format, text, line, column) => {
    await parse(text, format);
    expect(locateInText(text, format, ['server', 'port'])).toEqual({ line, column });
    expect(locateInText(text, format, ['server', 'nope'])).toBeUndefined();
  });

  it('counts columns in characters and lines by CRLF, LF or CR', async () => {
    const text = '{\r\n"😀": 1, "b":\r2}';
    await parse(text, 'json');
    expect(locateInText(text, 'json', ['😀'])).toEqual({ line: 2, column: 6 });
    expect(locateInText(text, 'json', ['b'])).toEqual({ line: 3, column: 1 });
  });

  it('answers undefined for TOML, and for a text that does not parse', () => {
    expect(locateInText(TEXTS.toml, 'toml', ['server', 'port'])).toBeUndefined();
    expect(locateInText('{', 'json', ['a'])).toBeUndefined();
    expect(locateInText('a: [', 'yaml', ['a'])).toBeUndefined();
  });

  it('answers undefined for YAML until js-yaml was loaded by a parse, and never loads it itself', async () => {
    vi.resetModules();
    const fresh = await import('../../../src/sources/formats/parse-config-format.js');
    const text = 'a: 1\n';
    expect(fresh.locateInText(text, 'yaml', ['a'])).toBeUndefined();
    await fresh.parseConfigFormat(text, { format: 'yaml', source: 'x', maxDepth: 8 });
    expect(fresh.locateInText(text, 'yaml', ['a'])).toEqual({ line: 1, column: 4 });
  });
});

describe('a parser package that is not installed, in a real process', () => {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  let dir: string;

  /** Transpiles `entry` and every file it imports into `dir`, keeping the layout of src/. */
  async function transpileTree(entry: string): Promise<void> {
    const pending = [entry];
    const done = new Set<string>();
    for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
      if (done.has(file)) continue;
      done.add(file);
      const source = await readFile(file, 'utf8');
      const output = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true } });
      const target = join(dir, relative(join(root, 'src'), file)).replace(/\.ts$/, '.js');
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, output.outputText);
      for (const { fileName } of ts.preProcessFile(source, true, true).importedFiles) {
        if (fileName.startsWith('.')) pending.push(resolve(dirname(file), fileName).replace(/\.js$/, '.ts'));
      }
    }
  }

  beforeAll(async () => {
    dir = await makeTempDir('txconfig-no-parsers-');
    await writeFile(join(dir, 'package.json'), '{"type": "module"}');
    await transpileTree(join(root, 'src', 'sources', 'formats', 'parse-config-format.ts'));
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('reports js-yaml and smol-toml as ERR_MISSING_DEPENDENCY naming each, and reads JSON and JSON5 without them', () => {
    const module = join(dir, 'sources', 'formats', 'parse-config-format.js');
    const code = `import { parseConfigFormat } from ${JSON.stringify(module)};
      for (const [format, text] of [['yaml', 'a: 1'], ['toml', 'a = 1'], ['json', '{"a": 1}'], ['json5', '{a: 1}']]) {
        await parseConfigFormat(text, { format, source: 'x', maxDepth: 8 }).then(
          (value) => console.log(format, 'read', JSON.stringify(value)),
          (error) => console.log(format, error.code, error.packageName, error.cause?.code));
      }`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim().split('\n')).toEqual([
      'yaml ERR_MISSING_DEPENDENCY js-yaml ERR_MODULE_NOT_FOUND',
      'toml ERR_MISSING_DEPENDENCY smol-toml ERR_MODULE_NOT_FOUND',
      'json read {"a":1}',
      'json5 read {"a":1}',
    ]);
  });
});

describe('every failure is typed', () => {
  it.each([
    ['json', '{"a": }'],
    ['json5', '{a: }'],
    ['yaml', 'a: [\n'],
    ['toml', 'a = \n'],
  ] as const)('%s: a syntax error is a ParseError naming the source', async (format, text) => {
    const error = await rejection(parse(text, format));
    expect(isTxConfigError(error)).toBe(true);
    expect(error).toBeInstanceOf(ParseError);
    expect(error).toMatchObject({ path: `config.${format}` });
  });
});
