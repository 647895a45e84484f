// explain() in a YAML file: the line and column of a value — or of its key when the value
// starts on lines of its own — found by walking the text's events the way the value was
// built, through aliases and merge keys.
import { beforeAll, describe, expect, it } from 'vitest';
import { locateInYaml } from '../../../src/sources/formats/locate-in-yaml.js';
import { JS_YAML } from '../../../src/sources/formats/parse-yaml-object.js';
import { parserLoader } from '../../../src/sources/formats/parser-loader.js';
import { positionAt } from '../../../src/sources/text-position.js';
import type { YamlEvents } from '../../../src/sources/formats/yaml-events.js';

let yaml: YamlEvents;
beforeAll(async () => {
  yaml = await parserLoader.load(JS_YAML);
});

const text = [
  '# the config', //                 1
  'server:', //                      2
  '  port: 8080', //                 3
  '  name: "web"', //                4
  '  tags: [a, {b: c}]', //          5
  '  list:', //                      6
  '    - x: 1', //                   7
  '    - |', //                      8
  '      block', //                  9
  '    - &item [1, 2]', //           10
  '  empty:', //                     11
  'base: &base', //                  12
  '  k: v', //                       13
  '  deep: {n: 1}', //               14
  'use:', //                         15
  '  <<: *base', //                  16
  '  own: 1', //                     17
  'alias: *base', //                 18
  'seq: *item', //                   19
  'multi:', //                       20
  '  <<: [{m: 1}, *base]', //        21
  "'quoted key': 'quoted value'", // 22
].join('\n');

function locate(keys: readonly string[], source = text): { line: number; column: number } | undefined {
  const offset = locateInYaml(yaml, source, keys);
  return offset === undefined ? undefined : positionAt(source, offset);
}

describe('locateInYaml', () => {
  it.each([
    [[], 2, 1],
    [['server'], 2, 1],
    [['server', 'port'], 3, 9],
    [['server', 'name'], 4, 9],
    [['server', 'tags'], 5, 9],
    [['server', 'tags', '1'], 5, 13],
    [['server', 'tags', '1', 'b'], 5, 17],
    [['server', 'list'], 6, 3],
    [['server', 'list', '0'], 7, 7],
    [['server', 'list', '0', 'x'], 7, 10],
    [['server', 'list', '1'], 9, 7],
    [['server', 'list', '2'], 10, 7],
    [['server', 'list', '2', '1'], 10, 17],
    [['server', 'empty'], 11, 3],
    [['use', 'own'], 17, 8],
    [['use', 'k'], 13, 6],
    [['use', 'deep', 'n'], 14, 13],
    [['alias'], 18, 8],
    [['alias', 'k'], 13, 6],
    [['seq', '0'], 10, 14],
    [['multi', 'm'], 21, 12],
    [['multi', 'k'], 13, 6],
    [['quoted key'], 22, 15],
  ])('finds %j at line %i, column %i', (keys, line, column) => {
    expect(locate(keys)).toEqual({ line, column });
  });

  it('answers undefined for a path the text does not hold', () => {
    for (const keys of [['nope'], ['server', 'port', 'x'], ['server', 'tags', '2'], ['server', 'tags', '01'], ['server', 'list', 'x'], ['use', 'nope']]) {
      expect(locate(keys), keys.join('/')).toBeUndefined();
    }
  });

  it('answers undefined for a text that does not parse, and never loops on an alias to its own container', () => {
    expect(locate(['a'], 'a: [1, 2\n')).toBeUndefined();
    expect(locate(['a', '1', 'b'], 'a: &x [1, *x]\n')).toBeUndefined();
    expect(locate(['a', 'z'], 'a: &x {<<: *x}\n')).toBeUndefined();
  });

  it('reads again a text it was not asked about last', () => {
    expect(locate(['a'], 'a: 1\n')).toEqual({ line: 1, column: 4 });
    expect(locate(['a'], 'b: 0\na: 2\n')).toEqual({ line: 2, column: 4 });
    expect(locate(['server', 'port'])).toEqual({ line: 3, column: 9 });
  });
});
