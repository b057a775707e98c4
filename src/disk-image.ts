/**
 * Disk images built in memory (config drives, qcow2 overlays) and the one way they are written to disk:
 * sparsely, exclusively, and synced.
 */
import { durableIo } from './durable-io/pool.js';

/**
 * An image as regions of bytes; everything outside the extents is zero, so a file writer can leave holes.
 * Extents are sorted by offset and do not overlap. Their bytes may share memory with the writer's input
 * (a config drive's file contents), so treat them as read-only.
 */
export interface DiskImage {
  size: number;
  extents: { offset: number; bytes: Uint8Array }[];
}

export class InvalidDiskImageError extends Error {
  override readonly name = 'InvalidDiskImageError';
  constructor(readonly field: string, readonly value: unknown, reason: string) {
    super(`invalid disk image: ${field} = ${String(value)}: ${reason}`);
  }
}

/** Writers promise sorted, non-overlapping, in-bounds extents; checking is cheap and turns a writer bug into an error instead of a corrupt drive. */
export function checkDiskImage(image: DiskImage): void {
  if (!Number.isSafeInteger(image.size) || image.size < 0) {
    throw new InvalidDiskImageError('size', image.size, 'must be a non-negative integer');
  }
  let end = 0;
  image.extents.forEach(({ offset, bytes }, index) => {
    if (!Number.isSafeInteger(offset) || offset < end) {
      throw new InvalidDiskImageError(`extents[${index}].offset`, offset, `must be an integer >= ${end} (sorted, non-overlapping)`);
    }
    end = offset + bytes.length;
    if (end > image.size) {
      throw new InvalidDiskImageError(`extents[${index}].offset`, offset, `its ${bytes.length} bytes end past the image size ${image.size}`);
    }
  });
}

/** The dense form, for tests and small images. */
export function toBuffer(image: DiskImage): Buffer {
  checkDiskImage(image);
  const buffer = Buffer.alloc(image.size);
  for (const { offset, bytes } of image.extents) buffer.set(bytes, offset);
  return buffer;
}

/**
 * Writes the image sparsely (the file is sized first, then only the extents are written) and syncs its data
 * before closing it. It never replaces an existing file (a drive or disk a guest may have seen): the file is
 * created exclusively, and a file this call created is removed again if writing it fails, so a retry is not
 * blocked by a half-written one.
 */
export async function writeDiskImage(path: string, image: DiskImage, options: { readonly exclusive: true }): Promise<void> {
  // Only exclusive creation exists; the option makes that visible at every call site.
  if (options.exclusive !== true) throw new InvalidDiskImageError('options.exclusive', options.exclusive, 'must be true');
  checkDiskImage(image);
  await durableIo('writeImage', path, image);
}
