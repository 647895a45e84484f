import { access, readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigStore, FsArtifactStore, ReloadError, type Participant } from '../../src/index.js';
import { deferred } from '../helpers/store-fixtures.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

const schema = {
  type: 'object',
  properties: { scripts: { type: 'object', additionalProperties: { type: 'string' }, default: {} }, fail: { type: 'boolean', default: false } },
  additionalProperties: false,
} as const;

interface Cfg {
  scripts: Record<string, string>;
  fail: boolean;
}

/** Writes one artifact per script, then refuses when the config says `fail`. */
function scripts(counter: { puts: number; hold?: Promise<void> }): Participant<Cfg, 'scripts', Record<string, string>> {
  return {
    name: 'scripts',
    async prepare(ctx) {
      const paths: Record<string, string> = {};
      for (const [name, text] of Object.entries(ctx.config.scripts)) {
        paths[name] = (await ctx.artifacts.put(name, text, { mode: 0o700 })).path;
        counter.puts++;
      }
      if (counter.hold !== undefined) await counter.hold;
      if (ctx.config.fail) throw new Error('refused after writing');
      return { derived: paths };
    },
  };
}

const exists = (path: string) => access(path).then(() => true, () => false);

describe('ConfigStore with an artifact store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('txconfig-store-gc-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('records what participants write in the snapshot and keeps the live snapshot\'s files', async () => {
    const artifacts = await FsArtifactStore.open(dir);
    const counter = { puts: 0 };
    const store = await ConfigStore.create({ schema, initial: { scripts: { a: 'A' } }, participants: [scripts(counter)], artifacts });
    const snap = store.load();
    expect(snap.artifacts.map((a) => a.name)).toEqual(['a']);
    expect(snap.derived.scripts.a).toBe(snap.artifacts[0]?.path);
    const report = await store.collectGarbage();
    expect(report.removed).toEqual([]);
    expect(report.entries).toMatchObject([{ action: 'kept', roots: [{ kind: 'live', detail: 'generation 1' }] }]);
  });

  it('writes no artifact for an unchanged reload', async () => {
    const artifacts = await FsArtifactStore.open(dir);
    const counter = { puts: 0 };
    const store = await ConfigStore.create({ schema, initial: { scripts: { a: 'A' } }, participants: [scripts(counter)], artifacts });
    const files = await readdir(dir);
    expect((await store.reload({ scripts: { a: 'A' } })).status).toBe('unchanged');
    expect(counter.puts).toBe(1);
    expect(await readdir(dir)).toEqual(files);
  });

  it('keeps a dropped artifact while a pin holds its generation, and removes it after', async () => {
    const artifacts = await FsArtifactStore.open(dir);
    const store = await ConfigStore.create({ schema, initial: { scripts: { old: 'OLD' } }, participants: [scripts({ puts: 0 })], artifacts });
    const pin = store.pin();
    const oldPath = store.load().artifacts[0]!.path;
    await store.reload({ scripts: { new: 'NEW' } });
    const dry = await store.collectGarbage({ dryRun: true });
    expect(dry.entries.find((e) => e.artifact.path === oldPath)).toMatchObject({ action: 'kept', roots: [{ kind: 'pin', detail: 'generation 1' }] });
    expect((await store.collectGarbage()).removed).toEqual([]);
    pin.release();
    const report = await store.collectGarbage();
    expect(report.removed.map((a) => a.path)).toEqual([oldPath]);
    expect(await exists(oldPath)).toBe(false);
    expect(await exists(store.load().artifacts[0]!.path)).toBe(true);
  });

  it('holds what an open transaction wrote, and lets the next collection remove what a rejected reload left', async () => {
    const artifacts = await FsArtifactStore.open(dir);
    const control: { puts: number; hold?: Promise<void> } = { puts: 0 };
    const store = await ConfigStore.create({ schema, initial: {}, participants: [scripts(control)], artifacts });
    const gate = deferred();
    control.hold = gate.promise;
    const reloading = store.reload({ scripts: { doomed: 'D' }, fail: true });
    while (control.puts === 0) await new Promise((resolve) => setImmediate(resolve));
    const during = await store.collectGarbage();
    expect(during.removed).toEqual([]);
    expect(during.entries).toMatchObject([{ artifact: { name: 'doomed' }, action: 'kept', roots: [{ kind: 'transaction' }] }]);
    gate.resolve();
    await expect(reloading).rejects.toBeInstanceOf(ReloadError);
    const doomed = during.entries[0]!.artifact.path;
    expect(await exists(doomed)).toBe(true);
    const after = await store.collectGarbage();
    expect(after.removed.map((a) => a.path)).toEqual([doomed]);
    expect(await exists(doomed)).toBe(false);
  });
});
