import { EventEmitter } from 'node:events';
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultFileSystem, type FileStats } from '../../src/file-system.js';
import { PathWatch, type PathWatchOptions } from '../../src/sources/path-watch.js';
import { eventually } from '../helpers/watch-recorder.js';

let dir: string;
let watches: PathWatch[];

beforeEach(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'txconfig-path-watch-'));
  watches = [];
});

afterEach(async () => {
  for (const watch of watches) watch.close();
  await fs.rm(dir, { recursive: true, force: true });
});

/** A PathWatch on `path` that counts events and records errors. */
function start(
  path: string,
  fs = defaultFileSystem,
  osWatch?: PathWatchOptions['watch'],
): { watch: PathWatch; events: () => number; errors: unknown[] } {
  let events = 0;
  const errors: unknown[] = [];
  const watch = new PathWatch(path, {
    fs,
    persistent: false,
    onEvent: () => {
      events++;
    },
    onError: (error) => errors.push(error),
    ...(osWatch === undefined ? {} : { watch: osWatch }),
  });
  watches.push(watch);
  return { watch, events: () => events, errors };
}

describe('PathWatch', () => {
  it("passes on events in the path's directory", async () => {
    const { events } = start(join(dir, 'config.json'));
    await fs.writeFile(join(dir, 'config.json'), '{}');
    await eventually(() => events() > 0, 'an event');
  });

  it('follows a symlink into another directory once refreshed, and stops when closed', async () => {
    const elsewhere = join(dir, 'elsewhere');
    const etc = join(dir, 'etc');
    await fs.mkdir(elsewhere);
    await fs.mkdir(etc);
    await fs.writeFile(join(elsewhere, 'real.json'), '{}');
    await fs.symlink(join(elsewhere, 'real.json'), join(etc, 'config.json'));
    const { watch, events } = start(join(etc, 'config.json'));
    await watch.refresh();
    await fs.writeFile(join(elsewhere, 'real.json'), '{"v":1}');
    await eventually(() => events() > 0, 'an event from the target directory');

    watch.close();
    const closedAt = events();
    await fs.writeFile(join(elsewhere, 'real.json'), '{"v":2}');
    await fs.writeFile(join(etc, 'other.json'), '{}');
    // A second watch proves the writes raised events by now.
    const witness = start(join(etc, 'config.json'));
    await fs.writeFile(join(etc, 'other.json'), '{"v":3}');
    await eventually(() => witness.events() > 0, 'an event for the witness');
    expect(events()).toBe(closedAt);
  });

  it('makes no watch when closed while a refresh is in flight', async () => {
    const path = join(dir, 'config.json');
    let release: (() => void) | undefined;
    const slowStat = (p: string): Promise<FileStats> =>
      new Promise<void>((resolve) => (release = resolve)).then(() => defaultFileSystem.stat(p));
    const { watch, events } = start(path, { ...defaultFileSystem, stat: slowStat });
    const refreshing = watch.refresh();
    await eventually(() => release !== undefined, 'the stat to start');
    watch.close();
    release?.();
    await refreshing;
    await fs.writeFile(path, '{}');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events()).toBe(0);
  });

  it('still follows symlinks through a seam with a stat of its own', async () => {
    const elsewhere = join(dir, 'elsewhere');
    await fs.mkdir(elsewhere);
    await fs.writeFile(join(elsewhere, 'real.json'), '{}');
    await fs.symlink(join(elsewhere, 'real.json'), join(dir, 'config.json'));
    const bare = async (p: string): Promise<FileStats> => {
      const { size, mode, dev, ino } = await defaultFileSystem.stat(p);
      return {
        size,
        mode,
        dev,
        ino,
        isFile: () => false,
        isDirectory: () => true,
        isSymbolicLink: () => false,
        isFIFO: () => false,
        isSocket: () => false,
        isCharacterDevice: () => false,
        isBlockDevice: () => false,
      };
    };
    const { watch, events, errors } = start(join(dir, 'config.json'), { ...defaultFileSystem, stat: bare });
    await watch.refresh();
    await watch.refresh();
    await fs.writeFile(join(elsewhere, 'real.json'), '{"v":1}');
    await eventually(() => events() > 0, 'an event from the target directory');
    expect(errors).toEqual([]);
  });

  it('throws ERR_FILE_NOT_FOUND when the directory of the path does not exist', () => {
    expect(() => start(join(dir, 'missing', 'config.json'))).toThrow(expect.objectContaining({ code: 'ERR_FILE_NOT_FOUND' }));
  });

  describe('when an OS watch fails', () => {
    /** OS watches that the test can fail: each is recorded with its directory. */
    function failingWatches(refuse: (dir: string) => boolean = () => false) {
      const made: { dir: string; watcher: FSWatcher }[] = [];
      const watch = (dir: string, options: { readonly persistent: boolean }, listener: () => void): FSWatcher => {
        if (refuse(dir)) throw Object.assign(new Error(`ENOSPC: no inotify watches left for ${dir}`), { code: 'ENOSPC' });
        // A real watch underneath, so the test leaves nothing open once it is closed.
        const real = fsWatch(dir, options, listener);
        // Only what PathWatch uses of an FSWatcher: `on('error')` and `close()`.
        const watcher = Object.assign(new EventEmitter(), {
          close: () => {
            real.close();
          },
        }) as unknown as FSWatcher;
        made.push({ dir, watcher });
        return watcher;
      };
      return { made, watch };
    }

    it("reports a failed watch of the path's directory once, asks for a read, and watches again on refresh", async () => {
      const os = failingWatches();
      const { watch, events, errors } = start(join(dir, 'config.json'), defaultFileSystem, os.watch);
      expect(os.made.map((m) => m.dir)).toEqual([dir]);
      const failure = new Error('EPERM: watch ended');
      os.made[0]?.watcher.emit('error', failure);
      expect(errors).toEqual([failure]);
      expect(events()).toBe(1);
      await watch.refresh();
      expect(os.made.map((m) => m.dir)).toEqual([dir, dir]);
      expect(errors).toHaveLength(1);
    });

    it("treats a failed watch of the symlink target's directory as no error, and follows it again on refresh", async () => {
      const elsewhere = join(dir, 'elsewhere');
      await fs.mkdir(elsewhere);
      await fs.writeFile(join(elsewhere, 'real.json'), '{}');
      await fs.symlink(join(elsewhere, 'real.json'), join(dir, 'config.json'));
      const os = failingWatches();
      const { watch, events, errors } = start(join(dir, 'config.json'), defaultFileSystem, os.watch);
      await watch.refresh();
      const target = os.made.find((m) => m.dir === elsewhere);
      expect(target).toBeDefined();
      target?.watcher.emit('error', new Error('the directory went away'));
      expect(errors).toEqual([]);
      expect(events()).toBe(1);
      await watch.refresh();
      expect(os.made.filter((m) => m.dir === elsewhere)).toHaveLength(2);
    });

    it('carries on without the symlink target watch when the OS refuses it, and tries again on the next refresh', async () => {
      const elsewhere = join(dir, 'elsewhere');
      await fs.mkdir(elsewhere);
      await fs.writeFile(join(elsewhere, 'real.json'), '{}');
      await fs.symlink(join(elsewhere, 'real.json'), join(dir, 'config.json'));
      let refusing = true;
      const os = failingWatches((d) => refusing && d === elsewhere);
      const { watch, errors } = start(join(dir, 'config.json'), defaultFileSystem, os.watch);
      await watch.refresh();
      expect(os.made.map((m) => m.dir)).toEqual([dir]);
      refusing = false;
      await watch.refresh();
      expect(os.made.map((m) => m.dir)).toEqual([dir, elsewhere]);
      expect(errors).toEqual([]);
    });
  });
});
