/** The names files are built under before they are linked into place, in one spelling for every writer. */
import { randomBytes } from 'node:crypto';

/** The suffix of a file being built (or left by a process that died building it). */
export const STAGED_SUFFIX = /\.part-[0-9a-f]{16}$/;

/** A fresh name beside `path` to build its file under. */
export function stagedPath(path: string): string {
  return `${path}.part-${randomBytes(8).toString('hex')}`;
}
