/**
 * The instance's local disks as imagebackend.Qcow2 (Nova's default images_type) makes them: qcow2 overlays
 * in the instance directory over read-only base files in the cache. A disk that already exists is never
 * touched: after a crash the guest may already have written to it. Each disk's data is synced before its
 * name appears; the names are durable once the caller syncs the instance directory (the spawn pipeline does,
 * once for all its files, before the guest starts).
 */
import { join } from 'node:path';
import type { Flavor } from '../../nova/spawn-request.js';
import type { DiskFile, LocalDiskImages } from '../guest-disks.js';
import { FlavorDiskSmallerThanImage } from './errors/flavor-disk-smaller-than-image.js';
import type { CachedImage, ImageCache } from './image-cache.js';
import { inspectImage, type UsableDiskInfo } from './image-inspection.js';
import { placeQcow2Overlay } from './qcow2-overlay.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** A base file, with its probe when the image cache has just judged it (else it is probed here). */
interface OverlayBase {
  path: string;
  probe: Readonly<UsableDiskInfo> | null;
}

/**
 * `target` as a qcow2 overlay of `base` (probed again unless the cache just did: a base is trusted only as
 * far as its content goes), `sizeBytes` large or as large as the base; `check` may refuse the base's probed
 * size. A disk already at `target` is kept as it is (placing the overlay finds it there), without a
 * stat(2) of its own on every spawn for the rare redelivered one.
 */
async function createOverlay(
  target: string,
  base: OverlayBase,
  sizeBytes: number | null,
  check: (virtualSize: number) => void = () => {},
): Promise<DiskFile> {
  const probe = base.probe ?? (await inspectImage('base image', base.path, null));
  check(probe.virtualSize);
  await placeQcow2Overlay(target, base.path, probe, sizeBytes);
  return { path: target, format: 'qcow2' };
}

/**
 * `<instanceDir>/disk` over the cached image (its path, or the image as ensureImage returned it): flavor
 * root_gb large, or the image's own virtual size when root_gb is 0 (Nova's "size 0 means the image's
 * size"). A root_gb below the image's virtual size is FlavorDiskSmallerThanImage (Image.verify_base_size).
 */
export function createRootDisk(instanceDir: string, base: string | CachedImage, sizeGb: number): Promise<DiskFile> {
  const sizeBytes = sizeGb > 0 ? sizeGb * GiB : null;
  const overlayBase = typeof base === 'string' ? { path: base, probe: null } : { path: base.path, probe: base };
  return createOverlay(join(instanceDir, 'disk'), overlayBase, sizeBytes, (virtualSize) => {
    if (sizeBytes !== null && sizeBytes < virtualSize) throw new FlavorDiskSmallerThanImage(overlayBase.path, sizeBytes, virtualSize);
  });
}

/** `<instanceDir>/disk.local` over the formatted ephemeral base (ImageCache.ensureEphemeralBase). */
export function createEphemeralDisk(instanceDir: string, basePath: string, sizeGb: number): Promise<DiskFile> {
  return createOverlay(join(instanceDir, 'disk.local'), { path: basePath, probe: null }, sizeGb * GiB);
}

/** `<instanceDir>/disk.swap` over the swap base (ImageCache.ensureSwapBase). */
export function createSwapDisk(instanceDir: string, basePath: string, swapMb: number): Promise<DiskFile> {
  return createOverlay(join(instanceDir, 'disk.swap'), { path: basePath, probe: null }, swapMb * MiB);
}

export interface LocalDisksRequest {
  instanceDir: string;
  /** The root image, from ImageCache.ensureImage. */
  rootImage: CachedImage;
  flavor: Pick<Flavor, 'root_gb' | 'ephemeral_gb' | 'swap'>;
  /** The ephemeral disk's file system (ephemeralFilesystem(os_type, default_ephemeral_format)). */
  ephemeralFilesystem: string;
}

/** driver._create_image for an image-backed instance: root, then ephemeral and swap when the flavor has them. */
export async function createLocalDisks(cache: ImageCache, request: LocalDisksRequest): Promise<LocalDiskImages> {
  const { instanceDir, flavor } = request;
  const images: LocalDiskImages = { disk: await createRootDisk(instanceDir, request.rootImage, flavor.root_gb) };
  if (flavor.ephemeral_gb > 0) {
    const base = await cache.ensureEphemeralBase(flavor.ephemeral_gb, request.ephemeralFilesystem);
    images['disk.local'] = await createEphemeralDisk(instanceDir, base, flavor.ephemeral_gb);
  }
  if (flavor.swap > 0) {
    images['disk.swap'] = await createSwapDisk(instanceDir, await cache.ensureSwapBase(flavor.swap), flavor.swap);
  }
  return images;
}
