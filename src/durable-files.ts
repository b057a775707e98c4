/**
 * Files that survive a power cut: data synced before a name points at it, and the directory synced after
 * the name appears. The spawn pipeline syncs the instance directory once for all the files it holds.
 */
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { checkDiskImage, type DiskImage } from './disk-image.js';
import { durableIo } from './durable-io/pool.js';
import { stagedPath } from './durable-io/staged-names.js';

/**
 * fsync(2) of a file (its data survives a power cut once this returns) or of a directory (the names created,
 * linked or renamed in it do).
 */
export function syncPath(path: string): Promise<void> {
  return durableIo('syncPath', path);
}

/**
 * The directories whose entries a `mkdir(..., { recursive: true })` added at or above `path`, given what it
 * returned (the first directory it created, or undefined): the parent of each directory it created there.
 */
export function parentsOfCreated(path: string, created: string | undefined): string[] {
  if (created === undefined) return [];
  const first = resolve(created);
  const parents: string[] = [];
  for (let directory = resolve(path); directory !== dirname(directory); directory = dirname(directory)) {
    parents.push(dirname(directory));
    if (directory === first) return parents;
  }
  // What it created is below `path`.
  return [];
}

/**
 * Replaces `path` with `data` atomically: a reader, or a crash, sees the old file or the new one, whole. The
 * data is staged under a name of its own beside `path` and synced before the rename; the new name is
 * durable once the directory is synced.
 */
export function replaceFile(path: string, data: string, mode = 0o666): Promise<void> {
  return durableIo('replaceFile', path, data, mode);
}

/**
 * linkIntoPlace for an image built in memory, as one operation: `image` is written under a name of its own
 * beside `path`, its data synced, and linked to `path` unless a file is there already (then it is dropped).
 * The new name is durable once the directory is synced.
 */
export function placeImage(path: string, image: DiskImage): Promise<'created' | 'exists'> {
  checkDiskImage(image);
  return durableIo('placeImage', path, image);
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Files that appear whole or not at all and never replace one already there: `build` writes the file under
 * a name of its own beside `finalPath` and leaves its data synced; link(2), which unlike rename(2) never
 * replaces a file, then gives it its name. The staged name is removed whatever happens. The new name is
 * durable once the directory is synced (callers sync it, once for all the files they place there).
 */
export async function linkIntoPlace<T>(
  finalPath: string,
  build: (stagedPath: string) => Promise<T>,
): Promise<{ outcome: 'created' | 'exists'; result: T }> {
  const staged = stagedPath(finalPath);
  let result: T;
  try {
    result = await build(staged);
  } catch (error) {
    await durableIo('removeIfPresent', staged);
    throw error;
  }
  return { outcome: await durableIo('linkStaged', staged, finalPath), result };
}

const ignore = (): void => undefined;

/**
 * Group commit for directories that many callers change at once (instances_path gets one mkdir per spawn).
 * A caller is answered by a sync that began after its call; callers that come while a sync of the same
 * directory runs share the next one.
 */
export class DirectorySyncGroup {
  private readonly running = new Map<string, Promise<void>>();
  private readonly next = new Map<string, Promise<void>>();

  constructor(private readonly syncOne: (path: string) => Promise<void> = syncPath) {}

  sync(path: string): Promise<void> {
    const running = this.running.get(path);
    if (running === undefined) return this.begin(path);
    // The sync in flight may have begun before the caller's change: the caller needs the next one.
    let next = this.next.get(path);
    if (next === undefined) {
      next = running.then(ignore, ignore).then(() => {
        this.next.delete(path);
        return this.begin(path);
      });
      this.next.set(path, next);
    }
    return next;
  }

  private begin(path: string): Promise<void> {
    const sync = this.syncOne(path);
    this.running.set(path, sync);
    const finished = (): void => {
      if (this.running.get(path) === sync) this.running.delete(path);
    };
    void sync.then(finished, finished);
    return sync;
  }
}
