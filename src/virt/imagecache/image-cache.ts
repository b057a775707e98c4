/**
 * The local image cache, `$instances_path/_base/` (imagebackend.Image.cache and its fetch functions): Glance
 * images under the SHA-1 of their id, and the blank ephemeral and swap base files Nova keeps beside them.
 * A file appears there only complete and checked; concurrent requests for one file in this process share
 * one download (Nova serialises them with a file lock).
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { getLogger, type Logger } from '../../log.js';
import { NO_METRICS, type Metrics } from '../../metrics/metrics.js';
import type { RequestContext } from '../../nova/spawn-request.js';
import { baseDirectory, cacheFileName, ephemeralCacheFileName, swapCacheFileName } from './cache-names.js';
import { runDiskCommand } from './disk-command.js';
import { ephemeralCommands, swapCommands } from './blank-disks.js';
import { ImageNotFound } from './errors/image-not-found.js';
import { downloadImage, type DownloadListener } from './glance-download.js';
import { checkApiServer } from './glance-url.js';
import type { ExpectedImage } from './image-digest.js';
import { inspectCachedImage, inspectImage, type UsableDiskInfo } from './image-inspection.js';
import { pathExists } from '../../durable-files.js';
import { publishFile, removeStaleTempFiles } from './publish-file.js';
import { SingleFlight } from './single-flight.js';

/** Far longer than any idle timeout: a temporary file this old belongs to a process that is gone. */
const STALE_TEMP_AGE_MS = 60 * 60_000;

export interface ImageCacheOptions {
  /** [DEFAULT] instances_path. */
  instancesPath: string;
  /**
   * [glance] api_servers, tried in this order (Nova shuffles them); empty means only images already cached
   * can be used. Each must be an http(s) URL: the constructor throws ConfigError otherwise.
   */
  apiServers: readonly string[];
  /** A Glance server that sends nothing for this long is given up on. Default 60 s. */
  downloadIdleTimeoutMs?: number;
  log?: Logger;
  /** Hits, misses and bytes downloaded; default none. */
  metrics?: Pick<Metrics, 'imageCache' | 'imageBytesDownloaded'>;
  /** Watches every download (the spawn command's progress bar). */
  downloadListener?: DownloadListener;
}

/** An image in the cache, as qemu-img sees it (the format probed from the content, never Glance's disk_format). */
export interface CachedImage extends UsableDiskInfo {
  id: string;
  path: string;
}

export interface InstanceKernel {
  kernel: string;
  ramdisk: string | null;
}

export class ImageCache {
  readonly baseDir: string;
  private readonly apiServers: readonly string[];
  private readonly idleTimeoutMs: number;
  private readonly log: Logger;
  private readonly metrics: Pick<Metrics, 'imageCache' | 'imageBytesDownloaded'>;
  private readonly downloadListener: DownloadListener | undefined;
  private readonly images = new SingleFlight<CachedImage>();
  private readonly blanks = new SingleFlight<string>();

  constructor(options: ImageCacheOptions) {
    this.baseDir = baseDirectory(options.instancesPath);
    options.apiServers.forEach(checkApiServer);
    this.apiServers = options.apiServers;
    this.idleTimeoutMs = options.downloadIdleTimeoutMs ?? 60_000;
    this.log = options.log ?? getLogger('nova_spawnd.imagecache');
    this.metrics = options.metrics ?? NO_METRICS;
    this.downloadListener = options.downloadListener;
  }

  /**
   * The image's file in the cache, downloaded from Glance first when absent. `expected` is the image's
   * metadata when known (the spawn's ImageMeta): the download is verified against its hash and size, and
   * its disk_format must match the content. Fails with ImageNotFound, ImageDownloadFailed,
   * ImageChecksumMismatch or ImageUnacceptable.
   */
  ensureImage(imageId: string, context: Pick<RequestContext, 'auth_token'>, expected: ExpectedImage | null): Promise<CachedImage> {
    const path = join(this.baseDir, cacheFileName(imageId));
    const claimedFormat = expected?.disk_format ?? null;
    return this.images.run(path, async () => {
      // Judged on every use, as Nova does (the rules may have grown since the file was cached); the probe
      // they judge is qemu-img's once per file and process (base-file-probes.ts).
      let info = await inspectCachedImage(imageId, path, claimedFormat);
      this.metrics.imageCache(info === null ? 'miss' : 'hit');
      if (info === null) {
        await this.fetch(imageId, path, context, expected);
        info = await inspectImage(imageId, path, claimedFormat);
      }
      return { id: imageId, path, ...info };
    });
  }

  private async fetch(imageId: string, path: string, context: Pick<RequestContext, 'auth_token'>, expected: ExpectedImage | null): Promise<void> {
    if (this.apiServers.length === 0) {
      throw new ImageNotFound(imageId, `not in the image cache (${path}) and [glance] api_servers is empty`);
    }
    await mkdir(this.baseDir, { recursive: true });
    await removeStaleTempFiles(this.baseDir, STALE_TEMP_AGE_MS);
    await publishFile(path, async (temp) => {
      const request = { imageId, apiServers: this.apiServers, authToken: context.auth_token, expected, idleTimeoutMs: this.idleTimeoutMs, log: this.log, metrics: this.metrics, listener: this.downloadListener };
      await downloadImage(request, temp);
      // Refused files never enter the cache (images.fetch_to_raw inspects the .part file).
      await inspectImage(imageId, temp, expected?.disk_format ?? null);
    });
    this.log.info('image cached', { image: imageId, path });
  }

  /** The blank, formatted ephemeral base file of that size and file system, labelled ephemeral0. */
  ensureEphemeralBase(sizeGb: number, filesystem: string): Promise<string> {
    return this.ensureBlank(ephemeralCacheFileName(sizeGb, filesystem), (temp) => ephemeralCommands(temp, sizeGb, filesystem));
  }

  /** The blank swap base file of `swapMb` MiB (driver._create_swap). */
  ensureSwapBase(swapMb: number): Promise<string> {
    return this.ensureBlank(swapCacheFileName(swapMb), (temp) => swapCommands(temp, swapMb));
  }

  private ensureBlank(name: string, commands: (temp: string) => string[][]): Promise<string> {
    const path = join(this.baseDir, name);
    return this.blanks.run(path, async () => {
      if (!(await pathExists(path))) {
        await mkdir(this.baseDir, { recursive: true });
        await publishFile(path, async (temp) => {
          for (const command of commands(temp)) await runDiskCommand(command);
        });
      }
      return path;
    });
  }

  /**
   * `<instanceDir>/kernel` and `<instanceDir>/ramdisk` for direct boot, copied from the cache as Nova's raw
   * backend does (a guest never writes them, but the instance keeps its own copy when the cache is aged).
   * Files already there are kept.
   */
  async ensureKernel(instanceDir: string, kernelId: string, ramdiskId: string | null, context: Pick<RequestContext, 'auth_token'>): Promise<InstanceKernel> {
    const kernel = await this.copyToInstance(kernelId, join(instanceDir, 'kernel'), context);
    const ramdisk = ramdiskId === null ? null : await this.copyToInstance(ramdiskId, join(instanceDir, 'ramdisk'), context);
    return { kernel, ramdisk };
  }

  private async copyToInstance(imageId: string, target: string, context: Pick<RequestContext, 'auth_token'>): Promise<string> {
    if (!(await pathExists(target))) {
      const cached = await this.ensureImage(imageId, context, null);
      await publishFile(target, (temp) => copyFile(cached.path, temp));
    }
    return target;
  }
}
