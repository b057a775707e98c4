import { describeValue } from '../nova/describe-value.js';

/**
 * An AMQP body that is neither an oslo.messaging envelope we can open nor a plain spawn request. `field` is
 * the envelope key at fault (`oslo.version`, `oslo.message`, `method`, `_context_request_id`, ...) or `body`
 * for the body as a whole.
 */
export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  constructor(
    readonly field: string,
    readonly reason: string,
    readonly value?: unknown,
  ) {
    super(`invalid AMQP body: ${field} ${reason}${value === undefined ? '' : ` (got ${describeValue(value)})`}`);
  }
}
