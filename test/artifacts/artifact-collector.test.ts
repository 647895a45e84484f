import { describe, expect, it } from 'vitest';

import { ArtifactCollector, type CollectorBackend } from '../../src/artifacts/artifact-collector.js';
import type { Artifact } from '../../src/artifacts/artifact.js';
import type { ExternalRoot } from '../../src/artifacts/gc-report.js';
import { expectArtifactError } from '../helpers/artifact-errors.js';

function artifact(name: string): Artifact {
  return { name, digest: name.padEnd(64, '0'), path: `test:${name}`, size: 1 };
}

/** A backend holding a set of artifacts, whose removals can be held at a gate. */
class FakeBackend implements CollectorBackend {
  readonly files = new Map<string, Artifact>();
  readonly removing: string[] = [];
  gate: Promise<void> | undefined;
  failOn = new Set<string>();

  add(...artifacts: Artifact[]): void {
    for (const a of artifacts) this.files.set(a.path, a);
  }

  list(): Promise<readonly Artifact[]> {
    return Promise.resolve([...this.files.values()]);
  }

  async remove(a: Artifact): Promise<void> {
    this.removing.push(a.path);
    await this.gate;
    if (this.failOn.has(a.path)) throw Object.assign(new Error('injected'), { code: 'EIO' });
    this.files.delete(a.path);
  }
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A collection of one artifact `x`, held in the middle of removing it until `hold.open()`. */
async function collectionRemovingX() {
  const backend = new FakeBackend();
  const x = artifact('x');
  backend.add(x);
  const hold = gate();
  backend.gate = hold.promise;
  const collector = new ArtifactCollector(backend);
  const collecting = collector.collect();
  while (backend.removing.length === 0) await tick();
  return { backend, x, hold, collector, collecting };
}

describe('ArtifactCollector', () => {
  it('lists every artifact sorted by path, with every root holding it', async () => {
    const backend = new FakeBackend();
    const [a, b, c] = [artifact('c'), artifact('a'), artifact('b')];
    backend.add(a, b, c);
    const collector = new ArtifactCollector(backend, [b.path]);
    collector.lease(b, 'holder 1');
    collector.lease(b, 'holder 2');
    const roots = (): ExternalRoot[] => [
      { artifact: b, root: { kind: 'pin', detail: 'generation 3' } },
      { artifact: c, root: { kind: 'live', detail: 'generation 5' } },
    ];
    const report = await collector.collect({ dryRun: true, roots });
    expect(report.entries.map((e) => [e.artifact.name, e.action, e.roots.map((r) => `${r.kind}:${r.detail}`)])).toEqual([
      ['a', 'kept', ['pin:generation 3', 'lease:holder 1', 'lease:holder 2', 'keep:keep-list']],
      ['b', 'kept', ['live:generation 5']],
      ['c', 'would-remove', []],
    ]);
    expect(backend.files.size).toBe(3);
  });

  it('marks a deletion in the same turn as its decision: a put starting then waits for the removal', async () => {
    const { backend, x, hold, collector, collecting } = await collectionRemovingX();
    expect(collector.isDeleting(x.path)).toBe(true);
    const endPut = collector.beginPut(x.path);
    let waited = false;
    const waiting = collector.deletionSettled(x.path).then(() => (waited = true));
    await tick();
    expect(waited).toBe(false);
    hold.open();
    await waiting;
    expect(backend.files.has(x.path)).toBe(false);
    expect(collector.isDeleting(x.path)).toBe(false);
    endPut();
    expect((await collecting).removed).toEqual([x]);
  });

  it('does not delete a path whose put began before the collection and ended during it', async () => {
    const backend = new FakeBackend();
    const x = artifact('x');
    backend.add(x);
    const collector = new ArtifactCollector(backend);
    const endPut = collector.beginPut(x.path);
    const hold = gate();
    const listing = gate();
    const list = backend.list.bind(backend);
    backend.list = async () => {
      listing.open();
      await hold.promise;
      return list();
    };
    const collecting = collector.collect();
    await listing.promise;
    endPut();
    hold.open();
    const report = await collecting;
    expect(report.entries).toEqual([{ artifact: x, roots: [{ kind: 'in-flight', detail: 'put during collection' }], action: 'kept' }]);
    // The next collection no longer sees a writer.
    expect((await collector.collect()).removed).toEqual([x]);
  });

  it('calls roots() again before each deletion and honours a root that appeared meanwhile', async () => {
    const backend = new FakeBackend();
    const [a, b] = [artifact('a'), artifact('b')];
    backend.add(a, b);
    const collector = new ArtifactCollector(backend);
    const live: ExternalRoot[] = [];
    let calls = 0;
    const report = await collector.collect({
      roots: () => {
        calls++;
        return live;
      },
    });
    expect(calls).toBe(3);
    expect(report.removed).toEqual([a, b]);

    backend.add(a, b);
    const hold = gate();
    backend.gate = hold.promise;
    const collecting = collector.collect({ roots: () => live });
    while (backend.removing.length < 3) await tick();
    // While a is being removed, b becomes live: the collection must see it.
    live.push({ artifact: b, root: { kind: 'transaction', detail: 'txn 9' } });
    hold.open();
    const second = await collecting;
    expect(second.removed).toEqual([a]);
    expect(backend.files.has(b.path)).toBe(true);
  });

  it('lets a holder who leased during a removal see it through settled(), and then keeps the path for them', async () => {
    const { backend, x, hold, collector, collecting } = await collectionRemovingX();
    const lease = collector.lease(x, 'late');
    const settled = collector.settled(x.path);
    hold.open();
    await settled;
    // The lease could not stop a removal already decided: the holder sees the file gone and puts it again.
    expect(backend.files.has(x.path)).toBe(false);
    await collecting;
    backend.add(x);
    expect((await collector.collect()).entries[0]?.roots).toEqual([{ kind: 'lease', detail: 'late' }]);
    lease[Symbol.dispose]();
    expect(lease.released).toBe(true);
    expect((await collector.collect()).removed).toEqual([x]);
  });

  it('settled waits for puts of the path in flight as well as deletions', async () => {
    const collector = new ArtifactCollector(new FakeBackend());
    const endOne = collector.beginPut('p');
    const endTwo = collector.beginPut('p');
    let done = false;
    const settled = collector.settled('p').then(() => (done = true));
    endOne();
    endOne();
    await tick();
    expect(done).toBe(false);
    endTwo();
    await settled;
    expect(done).toBe(true);
  });

  it('keeps removing after a failed removal, then reports ERR_ARTIFACT_IO with the cause', async () => {
    const backend = new FakeBackend();
    const [a, b] = [artifact('a'), artifact('b')];
    backend.add(a, b);
    backend.failOn.add(a.path);
    const collector = new ArtifactCollector(backend);
    const error = await expectArtifactError(collector.collect(), 'ERR_ARTIFACT_IO');
    expect(error.cause).toMatchObject({ code: 'EIO' });
    expect([...backend.files.keys()]).toEqual([a.path]);
    // A failed collection does not block the next one.
    backend.failOn.clear();
    expect((await collector.collect()).removed).toEqual([a]);
  });

  it('lets an error thrown by roots() abort the collection before any deletion', async () => {
    const backend = new FakeBackend();
    backend.add(artifact('a'));
    const collector = new ArtifactCollector(backend);
    const boom = new Error('roots failed');
    await expect(
      collector.collect({
        roots: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
    expect(backend.removing).toEqual([]);
  });
});
