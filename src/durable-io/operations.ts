/**
 * The durable file operations, as plain system calls in the order durability needs (data synced before a
 * name points at it). They block, so they run on the durable-io workers (pool.ts), never on the main
 * thread: one message there and back costs the main thread what one libuv request does, where an
 * operation is four to seven of them.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, fsyncSync, ftruncateSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import type { DiskImage } from '../disk-image.js';
import { stagedPath } from './staged-names.js';

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written, bytes.length - written, position + written);
}

/** Writes `image` to a new file at `path` (which must not exist) sparsely, and syncs its data; a failure removes the file. */
function writeImage(path: string, image: DiskImage): void {
  const fd = openSync(path, 'wx');
  try {
    try {
      ftruncateSync(fd, image.size);
      for (const { offset, bytes } of image.extents) writeFully(fd, bytes, offset);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    unlinkQuietly(path);
    throw error;
  }
}

/**
 * Gives the file built at `staged` (its data synced) the name `path` with link(2), which unlike rename(2)
 * never replaces a file: 'exists' when one is there already. The staged name is removed whatever happens.
 */
function linkStaged(staged: string, path: string): 'created' | 'exists' {
  try {
    linkSync(staged, path);
    return 'created';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return 'exists';
  } finally {
    unlinkQuietly(staged);
  }
}

export const operations = {
  /**
   * fsync(2) of a file (its data survives a power cut once this returns) or of a directory (the names
   * created, linked or renamed in it do).
   */
  syncPath(path: string): void {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },

  /** See durable-files.ts replaceFile. */
  replaceFile(path: string, data: string | Uint8Array, mode: number): void {
    const staged = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const fd = openSync(staged, 'wx', mode);
      try {
        writeFully(fd, typeof data === 'string' ? Buffer.from(data) : data, 0);
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(staged, path);
    } catch (error) {
      unlinkQuietly(staged);
      throw error;
    }
  },

  writeImage,

  /** See durable-files.ts placeImage. */
  placeImage(path: string, image: DiskImage): 'created' | 'exists' {
    const staged = stagedPath(path);
    writeImage(staged, image);
    return linkStaged(staged, path);
  },

  linkStaged,

  removeIfPresent: unlinkQuietly,
};

export type Operations = typeof operations;
export type OperationName = keyof Operations;
