/**
 * No Glance server delivered the image. Transient when the servers were unreachable, too slow, dropped the
 * connection or answered 5xx (another attempt may succeed); permanent when a server refused the request
 * (401, 403, an unexpected status): the same token and image id will be refused again.
 */
export class ImageDownloadFailed extends Error {
  override readonly name = 'ImageDownloadFailed';
  constructor(
    readonly imageId: string,
    /** One line per server tried, in order: "GET <url>: <what happened>". */
    readonly attempts: readonly string[],
    readonly transient: boolean,
  ) {
    super(`download of image ${imageId} failed: ${attempts.join('; ')}`);
  }
}
