import { describe, expect, it } from 'vitest';
import { escapeKey, toPointer } from '../../src/json/json-pointer.js';

describe('JSON Pointers', () => {
  it('is the empty string for the root, and a slash before every key', () => {
    expect(toPointer([])).toBe('');
    expect(toPointer(['a', 0, 'b'])).toBe('/a/0/b');
    expect(toPointer([''])).toBe('/');
  });

  it('escapes ~ before / so that an escaped key reads back as it was (RFC 6901)', () => {
    expect(escapeKey('a/b~c')).toBe('a~1b~0c');
    expect(escapeKey('~1')).toBe('~01');
    expect(escapeKey('plain')).toBe('plain');
    expect(toPointer(['a/b', '~'])).toBe('/a~1b/~0');
  });
});
