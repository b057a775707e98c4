/**
 * Everything a spawn needs on local disk before the domain is defined (driver._create_image): the kernel and
 * ramdisk for direct boot, the root disk over the cached image, the ephemeral and swap disks. Idempotent:
 * files already in the instance directory are kept.
 */
import { NO_METRICS, timed, type Metrics } from '../../metrics/metrics.js';
import type { SpawnRequest } from '../../nova/spawn-request.js';
import type { LocalDiskImages } from '../guest-disks.js';
import { ephemeralFilesystem } from './blank-disks.js';
import { ImageNotFound } from './errors/image-not-found.js';
import type { ImageCache, InstanceKernel } from './image-cache.js';
import { createLocalDisks } from './instance-disks.js';

export interface PreparedLocalDisks {
  images: LocalDiskImages;
  kernel: InstanceKernel | null;
}

export interface LocalDiskOptions {
  /** [DEFAULT] default_ephemeral_format; null picks by the image's os_type, as Nova does. */
  defaultEphemeralFormat: string | null;
}

export class LocalDiskPreparer {
  constructor(
    private readonly cache: ImageCache,
    private readonly options: LocalDiskOptions,
    /** The image step (kernel, ramdisk and root image in the cache) and the disks step, timed. */
    private readonly metrics: Pick<Metrics, 'step'> = NO_METRICS,
  ) {}

  async prepare(request: SpawnRequest, instanceDir: string): Promise<PreparedLocalDisks> {
    const { instance, image, context } = request;
    const imageId = image.id ?? instance.image_ref;
    if (!imageId) throw new ImageNotFound('(none)', `instance ${instance.uuid} names no image (booting from a volume is not supported)`);
    const { kernel, rootImage } = await timed(this.metrics, 'image', async () => ({
      kernel: instance.kernel_id ? await this.cache.ensureKernel(instanceDir, instance.kernel_id, instance.ramdisk_id || null, context) : null,
      rootImage: await this.cache.ensureImage(imageId, context, image),
    }));
    // compute.api copies the image's os_type property to instance.os_type at build time.
    const filesystem = ephemeralFilesystem(image.properties['os_type'] ?? null, this.options.defaultEphemeralFormat);
    const images = await timed(this.metrics, 'disks', () => createLocalDisks(this.cache, { instanceDir, rootImage, flavor: instance.flavor, ephemeralFilesystem: filesystem }));
    return { images, kernel };
  }
}
