import { describe, expect, it } from 'vitest';

import {
  artifactFileName,
  checkArtifactName,
  checkMode,
  contentBytes,
  isArtifactName,
  isTempFileName,
  MAX_NAME_BYTES,
  parseArtifactFileName,
  sha256,
  TEMP_PREFIX,
} from '../../src/artifacts/content-name.js';
import { expectArtifactErrorSync } from '../helpers/artifact-store-contract.js';

const DIGEST = sha256(Buffer.from('x'));

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
  it('hashes with SHA-256 as 64 lowercase hex characters', () => {
    expect(sha256(Buffer.from(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

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

  it('recognises temporary file names, which no valid artifact name can produce', () => {
    expect(isTempFileName(`${TEMP_PREFIX}abc`)).toBe(true);
    expect(isTempFileName(artifactFileName('tmp', DIGEST))).toBe(false);
  });
});

describe('contentBytes and checkMode', () => {
  it('copies bytes, so later changes to the caller’s array do not reach the store', () => {
    const input = new Uint8Array([1, 2, 3]);
    const bytes = contentBytes(input);
    input[0] = 9;
    expect([...bytes]).toEqual([1, 2, 3]);
    expect(contentBytes('é').byteLength).toBe(2);
  });

  it('refuses modes outside 0..0o7777 with ERR_ARTIFACT_IO', () => {
    expect(checkMode(0o755)).toBe(0o755);
    for (const mode of [-1, 0o10000, 1.5, Number.NaN]) expectArtifactErrorSync(() => checkMode(mode), 'ERR_ARTIFACT_IO');
  });
});
