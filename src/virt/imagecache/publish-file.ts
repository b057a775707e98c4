/**
 * Image cache files (and the kernel and ramdisk copied into an instance directory): built under a temporary
 * name, synced, then linked into place (linkIntoPlace), so a file another process published first stays as
 * it is; the directory is synced at once, as a cache file must be durable before any spawn uses it.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { linkIntoPlace, syncPath } from '../../durable-files.js';
import { STAGED_SUFFIX } from '../../durable-io/staged-names.js';

/** Whether `path` is a file publishFile is still building (or a dead process left behind). */
export function isTempPath(path: string): boolean {
  return STAGED_SUFFIX.test(path);
}

/**
 * Runs `build` on a fresh temporary path and publishes the result at `finalPath`, unless a file appeared
 * there meanwhile (then ours is dropped).
 */
export async function publishFile<T>(finalPath: string, build: (tempPath: string) => Promise<T>): Promise<T> {
  const { result } = await linkIntoPlace(finalPath, async (tempPath) => {
    const built = await build(tempPath);
    await syncPath(tempPath);
    return built;
  });
  await syncPath(dirname(finalPath));
  return result;
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
