/** nova.exception.FlavorDiskSmallerThanImage: the flavor's root_gb cannot hold the image's virtual size. */
export class FlavorDiskSmallerThanImage extends Error {
  override readonly name = 'FlavorDiskSmallerThanImage';
  readonly transient = false;
  constructor(
    /** The base image in the cache. */
    readonly basePath: string,
    /** flavor.root_gb in bytes. */
    readonly flavorSize: number,
    /** The image's virtual size in bytes. */
    readonly imageSize: number,
  ) {
    super(
      `flavor root_gb of ${flavorSize} bytes (${flavorSize / 2 ** 30} GiB) is smaller than the virtual size ` +
        `${imageSize} bytes of image ${basePath}`,
    );
  }
}
