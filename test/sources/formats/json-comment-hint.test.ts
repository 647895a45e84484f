// A .json file with a comment: the error says that JSON has no comments and that JSON5
// has, wherever the comment stands; every other error keeps its message.
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { parseJsonObject } from '../../../src/sources/parse-json-object.js';
import { thrownBy } from '../../helpers/rejection.js';

function refusal(text: string): ParseError {
  const error = thrownBy(() => parseJsonObject(text, { source: 'config.json', maxDepth: 256 }));
  expect(error).toBeInstanceOf(ParseError);
  return error as ParseError;
}

describe('a comment in a .json file', () => {
  it.each([
    ['a line comment after a value', '{\n  "port": 8080 // the port\n}', 2, 16],
    ['a block comment before the root', '/* config */ {"port": 8080}', 1, 1],
    ['a line comment where a key goes', '{ // keys\n"port": 8080}', 1, 3],
    ['a comment after a comma', '{"a": 1, /* b */ "b": 2}', 1, 10],
    ['a comment where a value goes', '{"a": /* one */ 1}', 1, 7],
  ])('is refused with ERR_PARSE at the comment, saying JSON has none and JSON5 has (%s)', (_, text, line, column) => {
    const error = refusal(text);
    expect(error).toMatchObject({ code: 'ERR_PARSE', line, column });
    expect(error.message).toMatch(/JSON has no comments/);
    expect(error.message).toMatch(/\.json5/);
  });

  it('leaves other errors as they were: a lone slash is no comment', () => {
    expect(refusal('{"a": /}').message).not.toMatch(/comment/);
    expect(refusal('{"a": 1,}').message).not.toMatch(/comment/);
  });
});
