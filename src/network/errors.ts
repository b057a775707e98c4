/**
 * What nova-spawnd's network layer refuses, named as Nova's exception for the same case (PortInUse,
 * NetworkAmbiguous, PortBindingFailed, ...), with Nova's message. The request (or Neutron's state) has to
 * change first: retrying the same allocation cannot help. Neutron failing to answer is a ServiceCallFailed
 * (src/clients/errors.ts), retryable by its status.
 */
export class NetworkRequestRefused extends Error {
  override readonly name = 'NetworkRequestRefused';
  readonly retryable = false;
  constructor(
    /** Nova's exception class for the case, e.g. PortBindingFailed. */
    readonly kind: string,
    message: string,
  ) {
    super(`${kind}: ${message}`);
  }
}
