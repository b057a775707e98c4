/**
 * The image's content is not safe or not usable as a disk here (nova.exception.ImageUnacceptable): a
 * backing file or external data file, a format other than raw/qcow2, content that contradicts its
 * disk_format, or a file qemu-img cannot read. Permanent: the same image is refused again.
 */
export class ImageUnacceptable extends Error {
  override readonly name = 'ImageUnacceptable';
  readonly transient = false;
  constructor(
    /** The image id, or "base image" when only the cached file is known. */
    readonly image: string,
    /** The file that was inspected. */
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${image} (${path}) is unacceptable: ${reason}`);
  }
}
