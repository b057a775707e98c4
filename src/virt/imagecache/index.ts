/** The image cache and the instance's local disks (nova/virt/libvirt/imagebackend.py, imagecache.py, nova/virt/images.py). */
export { ImageCache, type CachedImage, type ImageCacheOptions, type InstanceKernel } from './image-cache.js';
export { createEphemeralDisk, createLocalDisks, createRootDisk, createSwapDisk, type LocalDisksRequest } from './instance-disks.js';
export { ephemeralFilesystem } from './blank-disks.js';
export { cacheFileName } from './cache-names.js';
export type { DownloadListener } from './glance-download.js';
export type { ExpectedImage } from './image-digest.js';
export { DiskCommandFailed } from './errors/disk-command-failed.js';
export { FlavorDiskSmallerThanImage } from './errors/flavor-disk-smaller-than-image.js';
export { ImageChecksumMismatch } from './errors/image-checksum-mismatch.js';
export { ImageDownloadFailed } from './errors/image-download-failed.js';
export { ImageNotFound } from './errors/image-not-found.js';
export { ImageUnacceptable } from './errors/image-unacceptable.js';
export { LocalDiskPreparer, type LocalDiskOptions, type PreparedLocalDisks } from './disk-preparer.js';
