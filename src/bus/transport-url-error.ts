/** `[DEFAULT] transport_url` (or the notifications' own) cannot be used to reach RabbitMQ. */
export class TransportUrlError extends Error {
  override readonly name = 'TransportUrlError';
  constructor(
    /** The URL with its passwords masked: it ends up in logs. */
    readonly url: string,
    readonly reason: string,
  ) {
    super(`transport_url ${JSON.stringify(url)}: ${reason}`);
  }
}
