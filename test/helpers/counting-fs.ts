/**
 * The {@link ConfigFileSystem} seam over the real file system, counting what happens:
 * bytes read, files still open, every open, and the size of every file fstat saw.
 * Overrides inject faults.
 */
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import type { FileSystem } from '../../src/file-system.js';

/** The calls readConfigFile makes. */
type ConfigFileSystem = Pick<FileSystem, 'open' | 'fstat' | 'read' | 'close'>;

// Descriptor-based calls: a FileHandle would try to close its descriptor again when collected.
const openFd = promisify(fs.open);
const statFd = promisify(fs.fstat);
const closeFd = promisify(fs.close);
const readFdRaw = promisify(fs.read);

export async function readFd(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
  const { bytesRead } = await readFdRaw(fd, buffer, offset, length, position);
  return { bytesRead };
}

export { openFd };

export interface CountingFs extends ConfigFileSystem {
  /** Bytes returned by every read so far. */
  bytesRead: number;
  /** Files opened and not yet closed. */
  openFiles: number;
  /** Every successful open so far. */
  opens: number;
  /** The size fstat reported, for every open file, in order. */
  readonly sizes: number[];
  /** The error code of every failed open, in order (`ENOENT` for a missing file). */
  readonly failedOpens: string[];
}

export function countingFs(overrides: Partial<ConfigFileSystem> = {}): CountingFs {
  const seam: CountingFs = {
    bytesRead: 0,
    openFiles: 0,
    opens: 0,
    sizes: [],
    failedOpens: [],
    open: async (path, flags) => {
      const fd = await (overrides.open ?? openFd)(path, flags).catch((error: unknown) => {
        seam.failedOpens.push(String((error as NodeJS.ErrnoException).code));
        throw error;
      });
      seam.openFiles++;
      seam.opens++;
      return fd;
    },
    fstat: async (fd) => {
      const stats = await (overrides.fstat ?? statFd)(fd);
      seam.sizes.push(stats.size);
      return stats;
    },
    read: async (fd, buffer, offset, length, position) => {
      const result = await (overrides.read ?? readFd)(fd, buffer, offset, length, position);
      seam.bytesRead += result.bytesRead;
      return result;
    },
    close: async (fd) => {
      seam.openFiles--;
      await (overrides.close ?? closeFd)(fd);
    },
  };
  return seam;
}
