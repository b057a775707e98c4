import { describeValue } from './describe-value.js';

/**
 * A compute request (a cast of Nova's compute RPC API, or our plain spawn request) that cannot be decoded into
 * what the daemon acts on. `field` is the path in the request as its sender wrote it (`instance.uuid`,
 * `injected_files[1].path`, `files[0].contents_base64`; "" for the request as a whole); `value` is what
 * was found there (undefined when the field is missing).
 */
export class InvalidComputeRequest extends Error {
  override readonly name = 'InvalidComputeRequest';
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`invalid request: ${field || 'the request'} ${reason} (got ${describeValue(value)})`);
  }
}
