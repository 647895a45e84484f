import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArgumentError, SecretError } from '../../../src/errors.js';
import { resolveSecrets } from '../../../src/pipeline/resolve-secrets.js';
import { fileSecrets, type FileSecretsOptions } from '../../../src/sources/secrets/file-secrets.js';
import { rejection, thrownBy } from '../../helpers/rejection.js';
import { expectNoCanary, makeCanary } from '../../helpers/secret-canary.js';
import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.js';
import { eventually } from '../../helpers/watch-recorder.js';

let dir: string;
/** The one allowed root, `<dir>/roots/a`; `<dir>/outside` is beside it. */
let root: string;
let outside: string;
let stops: (() => void)[];

beforeEach(async () => {
  dir = await makeTempDir('txconfig-file-secrets-');
  root = join(dir, 'roots', 'a');
  outside = join(dir, 'outside');
  await mkdir(root, { recursive: true });
  await mkdir(outside);
  stops = [];
});

afterEach(async () => {
  for (const stop of stops) stop();
  await removeTempDir(dir);
});

const signal = new AbortController().signal;

function resolveWith(reference: string, options: Partial<FileSecretsOptions> = {}): Promise<string> {
  return fileSecrets({ roots: [root], ...options }).resolve(reference, { signal, pointer: '/db/password' });
}

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A Kubernetes Secret volume in `volume`: `password -> ..data/password`, `..data -> ..v<version>`, swapped by one rename. */
async function writeVolume(volume: string, version: number, password: string): Promise<void> {
  const stamp = join(volume, `..v${version}`);
  await mkdir(stamp, { recursive: true });
  await writeFile(join(stamp, 'password'), password);
  await symlink(`..v${version}`, join(volume, '..data_tmp'));
  await rename(join(volume, '..data_tmp'), join(volume, '..data'));
}

describe('fileSecrets: reading', () => {
  it("gives the file's text with one trailing newline removed by default", async () => {
    await writeFile(join(root, 'lf'), 's3cret\n');
    await writeFile(join(root, 'crlf'), 's3cret\r\n');
    await writeFile(join(root, 'two'), 's3cret\n\n');
    await writeFile(join(root, 'none'), ' s3cret ');
    expect(await resolveWith(join(root, 'lf'))).toBe('s3cret');
    expect(await resolveWith(join(root, 'crlf'))).toBe('s3cret');
    expect(await resolveWith(join(root, 'two'))).toBe('s3cret\n');
    expect(await resolveWith(join(root, 'none'))).toBe(' s3cret ');
  });

  it("keeps the text as it is with trailingNewline: 'keep', a leading BOM aside", async () => {
    await writeFile(join(root, 'lf'), '\uFEFFs3cret\r\n');
    expect(await resolveWith(join(root, 'lf'), { trailingNewline: 'keep' })).toBe('s3cret\r\n');
    expect(await resolveWith(join(root, 'lf'))).toBe('s3cret');
  });

  it('reads through in-root symlinks and a root that is itself a symlink', async () => {
    await writeFile(join(root, 'real'), 'value');
    await symlink('real', join(root, 'link'));
    await symlink(root, join(dir, 'root-link'));
    expect(await resolveWith(join(root, 'link'))).toBe('value');
    expect(await fileSecrets({ roots: [join(dir, 'root-link')] }).resolve(join(dir, 'root-link', 'link'), { signal, pointer: '' })).toBe('value');
  });

  it('reads each version of a Kubernetes Secret volume through its ..data symlink', async () => {
    const volume = join(root, 'db');
    await writeVolume(volume, 1, 'one\n');
    await symlink('..data/password', join(volume, 'password'));
    const secrets = fileSecrets({ roots: [root] });
    expect(await secrets.resolve(join(volume, 'password'), { signal, pointer: '' })).toBe('one');
    await writeVolume(volume, 2, 'two\n');
    await rm(join(volume, '..v1'), { recursive: true });
    expect(await secrets.resolve(join(volume, 'password'), { signal, pointer: '' })).toBe('two');
  });
});

describe('fileSecrets: refusals', () => {
  /** Asserts a SecretError naming the reference and pointer; returns it. */
  async function refused(reference: string, options: Partial<FileSecretsOptions> = {}): Promise<SecretError> {
    const error = await rejection(resolveWith(reference, options));
    expect(error).toBeInstanceOf(SecretError);
    expect(error).toMatchObject({ code: 'ERR_SECRET', reference: `file:${reference}`, pointer: '/db/password' });
    return error as SecretError;
  }

  it('refuses a path that leaves the roots by .., without touching the file', async () => {
    const canary = makeCanary();
    await writeFile(join(outside, 'secret'), canary);
    const error = await refused(join(root, '..', '..', 'outside', 'secret'));
    expect(error.cause).toBeUndefined();
    expectNoCanary(error, canary);
    await refused(`${root}/../../../../../../etc/passwd`);
    await refused('/etc/passwd');
    // A sibling whose name starts like the root is not under it.
    await mkdir(`${root}-evil`);
    await writeFile(join(`${root}-evil`, 'secret'), canary);
    expectNoCanary(await refused(join(`${root}-evil`, 'secret')), canary);
  });

  it('refuses a symlink in the roots that leads outside them, to a file or through a directory', async () => {
    const canary = makeCanary();
    await writeFile(join(outside, 'secret'), canary);
    await symlink(join(outside, 'secret'), join(root, 'file-link'));
    await symlink(outside, join(root, 'dir-link'));
    expectNoCanary(await refused(join(root, 'file-link')), canary);
    expectNoCanary(await refused(join(root, 'dir-link', 'secret')), canary);
  });

  it('refuses a relative path', async () => {
    await refused('relative/secret');
  });

  it('refuses a missing file, with ERR_FILE_NOT_FOUND as cause', async () => {
    const error = await refused(join(root, 'missing'));
    expect(error.cause).toMatchObject({ code: 'ERR_FILE_NOT_FOUND' });
    expect((await refused(join(root, 'missing', 'deeper'))).cause).toMatchObject({ code: 'ERR_FILE_NOT_FOUND' });
  });

  it('refuses a directory, with ERR_FILE_TYPE as cause', async () => {
    expect((await refused(root)).cause).toMatchObject({ code: 'ERR_FILE_TYPE' });
  });

  it('refuses an empty file, and one that is only the newline it strips', async () => {
    await writeFile(join(root, 'empty'), '');
    await writeFile(join(root, 'newline'), '\n');
    await refused(join(root, 'empty'));
    await refused(join(root, 'newline'));
    expect(await resolveWith(join(root, 'newline'), { trailingNewline: 'keep' })).toBe('\n');
  });

  it('refuses a file over maxBytes (64 KiB by default), with ERR_FILE_TOO_LARGE as cause', async () => {
    const canary = makeCanary();
    await writeFile(join(root, 'huge'), canary.repeat(Math.ceil((64 * 1024 + 1) / canary.length)));
    await writeFile(join(root, 'small'), canary);
    const error = await refused(join(root, 'huge'));
    expect(error.cause).toMatchObject({ code: 'ERR_FILE_TOO_LARGE' });
    expectNoCanary(error, canary);
    expectNoCanary(await refused(join(root, 'small'), { maxBytes: 8 }), canary);
    expect(await resolveWith(join(root, 'small'), { maxBytes: canary.length })).toBe(canary);
  });

  it('refuses a file that is not UTF-8, with ERR_FILE_ENCODING as cause', async () => {
    const canary = makeCanary();
    await writeFile(join(root, 'latin1'), Buffer.concat([Buffer.from(canary), Buffer.from([0xff, 0xfe, 0x41])]));
    const error = await refused(join(root, 'latin1'));
    expect(error.cause).toMatchObject({ code: 'ERR_FILE_ENCODING' });
    expectNoCanary(error, canary);
  });

  it('shows no secret when a refusal reaches resolveSecrets, and names the reference there too', async () => {
    const canary = makeCanary();
    await writeFile(join(outside, 'secret'), canary);
    await symlink(join(outside, 'secret'), join(root, 'link'));
    const reference = `file:${join(root, 'link')}`;
    const error = await rejection(resolveSecrets({ db: [{ $secret: reference }] }, new Map([['file', fileSecrets({ roots: [root] })]]), signal));
    expect(error).toMatchObject({ code: 'ERR_SECRET', reference, pointer: '/db/0' });
    expectNoCanary(error, canary);
  });

  it('refuses bad options at construction', () => {
    const cases: [unknown, string][] = [
      [undefined, 'options'],
      [{}, 'roots'],
      [{ roots: [] }, 'roots'],
      [{ roots: ['relative'] }, 'roots[0]'],
      [{ roots: ['/ok', 7] }, 'roots[1]'],
      [{ roots: ['/ok'], maxBytes: 0 }, 'maxBytes'],
      [{ roots: ['/ok'], maxBytes: 1.5 }, 'maxBytes'],
      [{ roots: ['/ok'], trailingNewline: 'trim' }, 'trailingNewline'],
    ];
    for (const [options, argument] of cases) {
      const error = thrownBy(() => fileSecrets(options as FileSecretsOptions));
      expect(error).toBeInstanceOf(ArgumentError);
      expect(error).toMatchObject({ code: 'ERR_ARGUMENT', argument });
    }
  });
});

describe('fileSecrets: watch', () => {
  /** Starts a watch and counts its calls. */
  function watchCount(secrets: ReturnType<typeof fileSecrets>, reference: string): { readonly count: () => number } {
    let calls = 0;
    const stop = secrets.watch?.(reference, () => {
      calls++;
    });
    if (stop === undefined) throw new Error('fileSecrets has a watch');
    stops.push(stop);
    return { count: () => calls };
  }

  it('reports a Kubernetes Secret volume swap of ..data once, and nothing before it', async () => {
    const volume = join(root, 'db');
    await writeVolume(volume, 1, 'one');
    await symlink('..data/password', join(volume, 'password'));
    const reference = join(volume, 'password');
    const secrets = fileSecrets({ roots: [root] });
    expect(await secrets.resolve(reference, { signal, pointer: '' })).toBe('one');
    const watch = watchCount(secrets, reference);
    await settle(400);
    expect(watch.count()).toBe(0);
    await writeVolume(volume, 2, 'two');
    await rm(join(volume, '..v1'), { recursive: true });
    await eventually(() => watch.count() > 0, 'the swap reported');
    expect(await secrets.resolve(reference, { signal, pointer: '' })).toBe('two');
    await settle(600);
    expect(watch.count()).toBe(1);
  });

  it('reports at once a change made between the resolve and the start of the watch', async () => {
    const path = join(root, 'token');
    await writeFile(path, 'one');
    const secrets = fileSecrets({ roots: [root] });
    await secrets.resolve(path, { signal, pointer: '' });
    await writeFile(path, 'two');
    const watch = watchCount(secrets, path);
    await eventually(() => watch.count() === 1, 'the change reported');
    await settle(300);
    expect(watch.count()).toBe(1);
  });

  it('reports a file that goes missing, so the reload says why', async () => {
    const path = join(root, 'token');
    await writeFile(path, 'one');
    const secrets = fileSecrets({ roots: [root] });
    await secrets.resolve(path, { signal, pointer: '' });
    const watch = watchCount(secrets, path);
    await settle(200);
    await rm(path);
    await eventually(() => watch.count() > 0, 'the removal reported');
  });

  it('watches nothing for a reference it would refuse', async () => {
    const canary = join(outside, 'secret');
    await writeFile(canary, 'one');
    const secrets = fileSecrets({ roots: [root] });
    const watch = watchCount(secrets, canary);
    const relative = watchCount(secrets, 'relative');
    await writeFile(canary, 'two');
    await settle(400);
    expect(watch.count()).toBe(0);
    expect(relative.count()).toBe(0);
  });
});
