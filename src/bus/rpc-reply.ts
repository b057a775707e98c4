/**
 * The reply to an RPC call (amqpdriver.py AMQPIncomingMessage._send_reply): {result, failure, ending: true,
 * _msg_id, _unique_id} in the 2.0 envelope, published to the default exchange with the caller's `_reply_q`
 * as routing key. A failure is common.py serialize_remote_exception's JSON string; the caller rebuilds the
 * exception when its module is in its allowed_remote_exmods and raises RemoteError(class, message) otherwise.
 * Both directions: the replies the daemon sends to calls it serves, and those it reads for calls it makes.
 */
import { isJsonObject } from '../nova/json-fields.js';
import { EnvelopeError } from './envelope-error.js';
import { decodeEnvelope, encodeEnvelope, uniqueId } from './oslo-envelope.js';

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

/** A reply as the caller reads it. `ending: false` with a null result is a call monitor heartbeat. */
export interface RpcReply {
  msgId: string;
  result: unknown;
  failure: RemoteFailure | null;
  ending: boolean;
}

export function decodeRpcReply(body: Buffer, contentType?: string): RpcReply {
  const reply = decodeEnvelope(body, contentType);
  const msgId = reply['_msg_id'];
  if (typeof msgId !== 'string') throw new EnvelopeError('_msg_id', 'must be a string in a reply', msgId);
  const failure = reply['failure'] ?? null;
  if (failure !== null && typeof failure !== 'string') throw new EnvelopeError('failure', 'must be a JSON string or null', failure);
  return { msgId, result: reply['result'] ?? null, failure: failure === null ? null : deserializeRemoteException(failure), ending: reply['ending'] === true };
}

function deserializeRemoteException(text: string): RemoteFailure {
  let failure: unknown;
  try {
    failure = JSON.parse(text) as unknown;
  } catch (error) {
    throw new EnvelopeError('failure', `is not JSON: ${(error as Error).message}`, text);
  }
  if (!isJsonObject(failure)) throw new EnvelopeError('failure', 'must hold a JSON object', failure);
  const { class: className, module, message, args = [], kwargs = {} } = failure;
  if (typeof className !== 'string' || typeof module !== 'string') {
    throw new EnvelopeError('failure', 'must name the exception\'s class and module', failure);
  }
  return {
    module,
    className,
    message: typeof message === 'string' ? message : String(message),
    args: Array.isArray(args) ? args : [args],
    kwargs: isJsonObject(kwargs) ? kwargs : {},
  };
}
