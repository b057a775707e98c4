import { constants } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * nova.privsep.utils.supports_direct_io: can files in `dir` be opened with O_DIRECT? A file system without
 * O_DIRECT refuses the open with EINVAL; a missing directory counts as "no", as in Nova. Nova also writes
 * one 4 KiB block through an mmap-aligned buffer; Node cannot align a buffer, and an unaligned O_DIRECT write
 * fails with the same EINVAL on every file system, so only the open is tried.
 */
export async function supportsDirectIo(dir: string): Promise<boolean> {
  // A random name, as Nova's: the directory may be shared storage that other hosts probe at the same time.
  const testFile = join(dir, `.directio.test.${randomBytes(8).toString('hex')}`);
  let handle;
  try {
    handle = await open(testFile, constants.O_CREAT | constants.O_WRONLY | constants.O_DIRECT);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EINVAL' || code === 'ENOENT') return false;
    throw error;
  } finally {
    await handle?.close();
    await rm(testFile, { force: true });
  }
}
