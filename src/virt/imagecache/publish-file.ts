/**
 * Files that appear whole or not at all: built under a temporary name beside their final one, flushed,
 * then linked into place. link(2), unlike rename(2), never replaces a file that is already there: a disk a
 * guest has written to, or a cache file another process published first, stays as it is.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const TEMP_SUFFIX = /\.part-[0-9a-f]{16}$/;

/** Whether `path` is a file publishFile is still building (or a dead process left behind). */
export function isTempPath(path: string): boolean {
  return TEMP_SUFFIX.test(path);
}

function tempPathFor(finalPath: string): string {
  return `${finalPath}.part-${randomBytes(8).toString('hex')}`;
}

async function fsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Runs `build` on a fresh temporary path and publishes the result at `finalPath`, unless a file appeared
 * there meanwhile (then ours is dropped). The temporary file is removed whatever happens.
 */
export async function publishFile<T>(finalPath: string, build: (tempPath: string) => Promise<T>): Promise<T> {
  const tempPath = tempPathFor(finalPath);
  try {
    const result = await build(tempPath);
    await fsync(tempPath);
    try {
      await link(tempPath, finalPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    await fsync(dirname(finalPath));
    return result;
  } finally {
    await rm(tempPath, { force: true });
  }
}

/**
 * Removes temporary files in `dir` that nothing has written to for `olderThanMs`: left by a process that
 * died mid-download. A live download writes continuously (or times out), so it never looks this old.
 */
export async function removeStaleTempFiles(dir: string, olderThanMs: number, now: number = Date.now()): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!isTempPath(name)) continue;
    const path = join(dir, name);
    try {
      if (now - (await stat(path)).mtimeMs < olderThanMs) continue;
      await rm(path, { force: true });
    } catch (error) {
      // Published or cleaned up by its owner between readdir and stat.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}
