import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  ArtifactError,
  ConfigFileError,
  ConfigurationError,
  ConflictError,
  ERROR_CODES,
  MissingDependencyError,
  ParseError,
  ReloadError,
  SynchronizeError,
  TransactionStateError,
  TxConfigError,
  UnsafeKeyError,
  InternalError,
  ValidationError,
  hasErrorCode,
  isReloadError,
  isTxConfigError,
} from '../src/index.js';

describe('errors', () => {
  const samples: TxConfigError[] = [
    new ValidationError([{ path: '/a', message: 'must be integer' }]),
    new ReloadError('ERR_PREPARE', [{ participant: 'p', phase: 'prepare', error: new Error('inner') }]),
    new TransactionStateError('committed', 'commit'),
    new SynchronizeError('ERR_SYNC_TIMEOUT', [1]),
    new ConfigurationError('ERR_SCHEMA', 'bad schema'),
    new ConfigFileError('ERR_FILE_NOT_FOUND', '/x', 'missing', { cause: new Error('ENOENT') }),
    new ParseError('/x', 'unexpected token', 2, 5),
    new UnsafeKeyError('/x', '__proto__', '/a', 1, 2),
    new ArtifactError('ERR_ARTIFACT_NAME', 'bad name'),
    new ArgumentError('timeoutMs', 'must be a number'),
    new InternalError('an invariant broke', { cause: new Error('why') }),
    new ReloadError('ERR_ROLLBACK', [{ participant: 'p', phase: 'rollback', error: new Error('stuck') }]),
    new ReloadError('ERR_CLOSED', []),
    new MissingDependencyError('js-yaml', 'reading YAML files'),
    new ConflictError('/port', { layer: 'file', origin: { file: '/etc/a.json', line: 1, column: 9 } }, { layer: 'argv', origin: { flag: '--port' } }),
  ];

  it('gives every error a code from the published list, a name and the base class', () => {
    for (const error of samples) {
      expect(error).toBeInstanceOf(TxConfigError);
      expect(error).toBeInstanceOf(Error);
      expect(ERROR_CODES).toContain(error.code);
      expect(error.name).toBe(error.constructor.name);
      expect(isTxConfigError(error)).toBe(true);
    }
  });

  it('keeps the wrapped failure as cause', () => {
    const inner = new Error('inner');
    expect(new ReloadError('ERR_PREPARE', [{ participant: 'p', phase: 'prepare', error: inner }]).cause).toBe(inner);
    expect(new ArtifactError('ERR_ARTIFACT_IO', 'io', { cause: inner }).cause).toBe(inner);
  });

  it('collects validation issues into ReloadError.issues', () => {
    const validation = new ValidationError([{ path: '/a', message: 'x' }, { path: '/b', message: 'y' }]);
    const error = new ReloadError('ERR_VALIDATION', [{ participant: null, phase: 'validate', error: validation }]);
    expect(error.issues.map((i) => i.path)).toEqual(['/a', '/b']);
  });

  it('rejects a reload with ERR_UNSAFE_KEY: a ReloadError (isReloadError) whose cause is the UnsafeKeyError', () => {
    const unsafe = new UnsafeKeyError('reload()', 'constructor', '/a');
    const error = new ReloadError('ERR_UNSAFE_KEY', [{ participant: null, phase: 'validate', error: unsafe }]);
    expect(isReloadError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_UNSAFE_KEY', cause: unsafe, issues: [] });
    expect(unsafe).toMatchObject({ code: 'ERR_UNSAFE_KEY', path: 'reload()', key: 'constructor', pointer: '/a', line: undefined, column: undefined });
  });

  it('names the package to install in a MissingDependencyError, a ConfigurationError', () => {
    const error = new MissingDependencyError('smol-toml', 'reading TOML files');
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.code).toBe('ERR_MISSING_DEPENDENCY');
    expect(error.packageName).toBe('smol-toml');
    expect(error.message).toContain('npm install smol-toml');
  });

  it('names both origins in a ConflictError', () => {
    const error = new ConflictError('/port', { layer: 'file', origin: { file: '/etc/a.json', line: 1, column: 9 } }, { layer: 'argv', origin: { flag: '--port' } });
    expect(error.code).toBe('ERR_CONFLICT');
    expect(error.pointer).toBe('/port');
    expect(error.sides.map((side) => side.layer)).toStrictEqual(['file', 'argv']);
    expect(error.message).toContain('/etc/a.json');
    expect(error.message).toContain('--port');
  });

  it('names the argument at fault in an ArgumentError', () => {
    const error = new ArgumentError('participants[1].name', 'two participants are named "a"');
    expect(error).toMatchObject({ code: 'ERR_ARGUMENT', argument: 'participants[1].name' });
    expect(error.message).toContain('participants[1].name');
  });

  it('checks codes by brand, not by class: hasErrorCode', () => {
    expect(hasErrorCode(new ReloadError('ERR_CLOSED', []), 'ERR_CLOSED', 'ERR_ABORTED')).toBe(true);
    expect(hasErrorCode(new ReloadError('ERR_PREPARE', []), 'ERR_CLOSED')).toBe(false);
    expect(hasErrorCode(Object.assign(new Error('x'), { code: 'ERR_CLOSED' }), 'ERR_CLOSED')).toBe(false);
  });

  it('does not take foreign errors or look-alikes for ours', () => {
    expect(isTxConfigError(new Error('x'))).toBe(false);
    expect(isTxConfigError({ code: 'ERR_PARSE' })).toBe(false);
    expect(isTxConfigError(null)).toBe(false);
  });

  it('recognises an error raised by a second installed copy of the package', () => {
    const dist = resolve(import.meta.dirname, '../dist');
    const dir = mkdtempSync(join(tmpdir(), 'txconfig-copy-'));
    try {
      cpSync(dist, join(dir, 'dist'), { recursive: true });
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
      const script = `import { ValidationError } from ${JSON.stringify(join(dir, 'dist/errors.js'))};
import { isTxConfigError } from ${JSON.stringify(join(dist, 'index.js'))};
const foreign = new ValidationError([]);
process.stdout.write(JSON.stringify({ brand: isTxConfigError(foreign), code: foreign.code }));`;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: dir });
      expect(JSON.parse(out)).toEqual({ brand: true, code: 'ERR_VALIDATION' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('error edge cases', () => {
  it('builds a ValidationError with no issues', () => {
    const error = new ValidationError([]);
    expect(error.code).toBe('ERR_VALIDATION');
    expect(error.issues).toEqual([]);
    expect(error.message.length).toBeGreaterThan(0);
  });

  it('builds a ValidationError whose first issue is at the root', () => {
    const error = new ValidationError([{ path: '', message: 'must be object' }]);
    expect(error.issues[0]?.path).toBe('');
    expect(isTxConfigError(error)).toBe(true);
  });

  it('builds a ReloadError with no failures and no cause', () => {
    const error = new ReloadError('ERR_PREPARE', []);
    expect(error.failures).toEqual([]);
    expect(error.cause).toBeUndefined();
    expect(error.issues).toEqual([]);
  });

  it('keeps a thrown non-error as the cause of a ReloadError', () => {
    const error = new ReloadError('ERR_PREPARE', [{ participant: 'p', phase: 'prepare', error: 'a string' }]);
    expect(error.cause).toBe('a string');
    expect(error.message).toContain('a string');
  });

  it('builds a SynchronizeError with nothing pinned', () => {
    const error = new SynchronizeError('ERR_SYNC_TIMEOUT', []);
    expect(error.code).toBe('ERR_SYNC_TIMEOUT');
    expect(error.pinnedGenerations).toEqual([]);
    expect(Object.isFrozen(error.pinnedGenerations)).toBe(true);
  });
});
