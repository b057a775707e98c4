/**
 * The reply to an RPC call (amqpdriver.py AMQPIncomingMessage._send_reply): {result, failure, ending: true,
 * _msg_id, _unique_id} in the 2.0 envelope, published to the default exchange with the caller's `_reply_q`
 * as routing key. A failure is common.py serialize_remote_exception's JSON string; the caller rebuilds the
 * exception when its module is in its allowed_remote_exmods and raises RemoteError(class, message) otherwise.
 */
import { encodeEnvelope, uniqueId } from './oslo-envelope.js';

/** An exception as the caller will see it: Python module and class, the message and constructor arguments. */
export interface RemoteFailure {
  module: string;
  className: string;
  message: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
}

function serializeRemoteException(failure: RemoteFailure): string {
  return JSON.stringify({
    class: failure.className,
    module: failure.module,
    message: failure.message,
    tb: [],
    args: failure.args,
    kwargs: failure.kwargs,
  });
}

export function rpcReplyBody(msgId: string, outcome: { result: unknown } | { failure: RemoteFailure }): Buffer {
  return encodeEnvelope({
    result: 'result' in outcome ? outcome.result : null,
    failure: 'failure' in outcome ? serializeRemoteException(outcome.failure) : null,
    ending: true,
    _msg_id: msgId,
    _unique_id: uniqueId(),
  });
}
