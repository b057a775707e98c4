/**
 * The bytes Glance sent do not match the image's metadata (os_hash_value, checksum or size); nothing was
 * cached. Transient: the copy was damaged on the way or in one store, and another download may be good.
 */
export class ImageChecksumMismatch extends Error {
  override readonly name = 'ImageChecksumMismatch';
  readonly transient = true;
  constructor(
    readonly imageId: string,
    readonly url: string,
    /** What was compared: a hash algorithm (sha512, md5, ...) or "size". */
    readonly check: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`image ${imageId} from ${url}: ${check} is ${actual}, the image metadata says ${expected} (not cached; a new download may succeed)`);
  }
}
