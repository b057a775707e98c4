/** The image is neither in the local _base cache nor obtainable: no [glance] api_servers, or Glance says 404. */
export class ImageNotFound extends Error {
  override readonly name = 'ImageNotFound';
  /** Glance will not grow the image by itself: the same request fails the same way. */
  readonly transient = false;
  constructor(
    readonly imageId: string,
    /** What was tried, e.g. "no [glance] api_servers configured" or "GET http://g:9292/v2/images/ID/file: 404". */
    readonly tried: string,
  ) {
    super(`image ${imageId} not found: ${tried}`);
  }
}
