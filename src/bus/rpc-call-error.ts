import type { RemoteFailure } from './rpc-reply.js';

/**
 * Why an RPC call failed, in oslo.messaging's words: no reply in time (MessagingTimeout), the broker connection
 * went away before the reply came (the call may or may not have run), or the server answered with an exception.
 */
export type RpcCallFailure = 'MessagingTimeout' | 'ConnectionLost' | 'RemoteError';

export class RpcCallError extends Error {
  override readonly name = 'RpcCallError';
  constructor(
    readonly failure: RpcCallFailure,
    /** `<method> to <routing key>`. */
    readonly call: string,
    detail: string,
    /** The server's exception (Python class, module, message), for RemoteError only. */
    readonly remote: RemoteFailure | null = null,
  ) {
    super(`${call}: ${failure}: ${detail}`);
  }

  /**
   * Whether the same call may succeed later: after a timeout or a lost connection the server may be back; a
   * remote exception is the server's answer, and it would give it again.
   */
  get retryable(): boolean {
    return this.failure !== 'RemoteError';
  }
}
