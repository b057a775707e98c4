/** Names of files in the image cache, `$instances_path/_base/` (nova.virt.libvirt.imagecache and driver.py). */
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** [image_cache] subdirectory_name's default. */
const SUBDIRECTORY_NAME = '_base';

export function baseDirectory(instancesPath: string): string {
  return join(instancesPath, SUBDIRECTORY_NAME);
}

/** Whether `path` names a file directly in an image cache directory (published or still being written). */
export function inBaseDirectory(path: string): boolean {
  return basename(dirname(path)) === SUBDIRECTORY_NAME;
}

/** imagecache.get_cache_fname: the SHA-1 of the image id, so the cache manager can tell image files apart. */
export function cacheFileName(imageId: string): string {
  return createHash('sha1').update(imageId, 'utf8').digest('hex');
}

/**
 * driver.py's "ephemeral_%s_%s" % (ephemeral_gb, file_extension): the extension is the first 7 hex digits
 * of the MD5 of the file system's name (privsep.fs.get_file_extension_for_os_type), so a base file is
 * shared only by disks of the same size and file system.
 */
export function ephemeralCacheFileName(sizeGb: number, filesystem: string): string {
  return `ephemeral_${sizeGb}_${createHash('md5').update(filesystem, 'utf8').digest('hex').slice(0, 7)}`;
}

/** driver.py's "swap_%s" % swap_mb. */
export function swapCacheFileName(swapMb: number): string {
  return `swap_${swapMb}`;
}
