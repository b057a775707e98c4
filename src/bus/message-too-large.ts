/** A body larger than any spawn request: refused before it is parsed. */
export class MessageTooLarge extends Error {
  override readonly name = 'MessageTooLarge';
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`message body is ${size} bytes, more than the ${limit} bytes a spawn request may have`);
  }
}
