import { describe, expect, it } from 'vitest';

import { artifactFileName, checkArtifactName, isArtifactName, MAX_NAME_BYTES, parseArtifactFileName } from '../../src/artifacts/artifact-name.js';
import { TEMP_PREFIX } from '../../src/artifacts/write-atomic.js';
import { sha256Hex } from '../../src/internal/sha256.js';
import { expectArtifactErrorSync } from '../helpers/artifact-errors.js';

const DIGEST = sha256Hex('x');

describe('checkArtifactName', () => {
  it.each(['runc', 'runc-debug', 'runc_debug.v2', 'a', 'ünïcödé', '名前', 'a.b', 'emoji-😀', 'x'.repeat(MAX_NAME_BYTES)])(
    'accepts %j',
    (name) => {
      expect(() => {
        checkArtifactName(name);
      }).not.toThrow();
      expect(isArtifactName(name)).toBe(true);
    },
  );

  it.each([
    ['the empty string', ''],
    ['a slash', 'a/b'],
    ['a leading slash', '/etc'],
    ['a backslash', 'a\\b'],
    ['dot-dot', '..'],
    ['dot-dot in the middle', 'a..b'],
    ['a single dot', '.'],
    ['a leading dot', '.bashrc'],
    ['the temporary prefix', `${TEMP_PREFIX}x`],
    ['NUL', 'a\u0000'],
    ['a tab', 'a\tb'],
    ['a carriage return', 'a\rb'],
    ['DEL', '\u007f'],
    ['a C1 control', 'a\u0085b'],
    ['a lone surrogate', 'a\ud800b'],
    ['101 ASCII bytes', 'x'.repeat(MAX_NAME_BYTES + 1)],
    ['101 bytes of UTF-8 in fewer characters', `${'é'.repeat(50)}x`],
  ])('refuses %s with ERR_ARTIFACT_NAME', (_what, name) => {
    expectArtifactErrorSync(() => {
      checkArtifactName(name);
    }, 'ERR_ARTIFACT_NAME');
    expect(isArtifactName(name)).toBe(false);
  });

  it('refuses values that are not strings with ERR_ARTIFACT_NAME', () => {
    for (const value of [undefined, null, 42, {}, ['a']]) {
      expectArtifactErrorSync(() => {
        checkArtifactName(value);
      }, 'ERR_ARTIFACT_NAME');
    }
  });
});

describe('file names', () => {
  it('names a file <name>-<digest> and parses it back, also when the name has dashes', () => {
    const fileName = artifactFileName('runc-debug', DIGEST);
    expect(fileName).toBe(`runc-debug-${DIGEST}`);
    expect(parseArtifactFileName(fileName)).toEqual({ name: 'runc-debug', digest: DIGEST });
  });

  it('refuses a malformed digest with ERR_ARTIFACT_NAME', () => {
    expectArtifactErrorSync(() => artifactFileName('x', DIGEST.toUpperCase()), 'ERR_ARTIFACT_NAME');
    expectArtifactErrorSync(() => artifactFileName('x', DIGEST.slice(1)), 'ERR_ARTIFACT_NAME');
  });

  it.each([
    ['a temporary file', `${TEMP_PREFIX}abc`],
    ['no name', `-${DIGEST}`],
    ['no dash', `x${DIGEST}`],
    ['an uppercase digest', `x-${DIGEST.toUpperCase()}`],
    ['a short digest', `x-${DIGEST.slice(1)}`],
    ['a refused name', `.x-${DIGEST}`],
    ['an unrelated file', 'notes.txt'],
  ])('does not take %s for an artifact', (_what, fileName) => {
    expect(parseArtifactFileName(fileName)).toBeUndefined();
  });
});
