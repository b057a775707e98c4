/**
 * Why a message ends in the dead-letter queue instead of a running guest: one stable reason code per kind
 * of failure (operators filter on it), the error message that names the field and value, and what is known
 * of the instance. Pure: turning it into headers, an RPC failure and a notification fault happens here too.
 */
import { OperationFailed } from '../compute/operation-failed.js';
import type { NotificationFault } from '../nova/instance-payload.js';
import { InvalidComputeRequest } from '../nova/invalid-compute-request.js';
import { EnvelopeError } from './envelope-error.js';
import type { MessageHints } from './message-hints.js';
import { MessageTooLarge } from './message-too-large.js';
import type { RemoteFailure } from './rpc-reply.js';
import { UnsupportedMethod } from './unsupported-method.js';

export type RejectionReason =
  /** The body is over MAX_MESSAGE_BYTES. */
  | 'message-too-large'
  /** Not JSON, not UTF-8, wrong content type, not an oslo envelope nor a plain request. */
  | 'malformed-message'
  /** An oslo message for another method or namespace of the compute API. */
  | 'unsupported-method'
  /** build_and_run_instance at an RPC version this daemon does not serve. */
  | 'unsupported-version'
  /** The spawn request does not validate (bad uuid, path traversal, oversized user_data, zero memory, ...). */
  | 'invalid-request'
  /** The spawn failed in a way that another attempt would repeat (missing image, invalid domain). */
  | 'spawn-failed'
  /** The spawn kept failing transiently (libvirt unreachable, disk full) until the retry limit. */
  | 'retries-exhausted'
  /** The daemon itself failed on this message (a bug): kept for a developer to look at. */
  | 'internal-error';

export interface Rejection {
  reason: RejectionReason;
  /** The error class: EnvelopeError, InvalidComputeRequest, OperationFailed, ... */
  error: string;
  /** Its message, naming the field and the value at fault. */
  detail: string;
  /** The field at fault, when the error names one. */
  field: string | null;
  instanceUuid: string | null;
  requestId: string | null;
  /** Spawn attempts made (0 when the message never got to the spawn pipeline). */
  attempts: number;
}

export function rejectionFor(error: unknown, hints: MessageHints, attempts: number): Rejection {
  const base = {
    error: error instanceof Error ? error.name : typeof error,
    detail: error instanceof Error ? error.message : String(error),
    instanceUuid: hints.instanceUuid,
    requestId: hints.requestId,
    attempts,
  };
  if (error instanceof MessageTooLarge) return { ...base, reason: 'message-too-large', field: 'body' };
  if (error instanceof EnvelopeError) return { ...base, reason: 'malformed-message', field: error.field };
  if (error instanceof UnsupportedMethod) return { ...base, reason: 'unsupported-method', field: 'method' };
  if (error instanceof InvalidComputeRequest) {
    return { ...base, reason: error.field === 'version' ? 'unsupported-version' : 'invalid-request', field: error.field };
  }
  if (error instanceof OperationFailed) {
    return { ...base, reason: error.transient ? 'retries-exhausted' : 'spawn-failed', field: null, instanceUuid: error.uuid };
  }
  return { ...base, reason: 'internal-error', field: null };
}

/** Header names of a dead-lettered message; the original body and properties travel unchanged. */
export const DEAD_LETTER_HEADER = {
  reason: 'x-nova-spawnd-reason',
  error: 'x-nova-spawnd-error',
  detail: 'x-nova-spawnd-detail',
  field: 'x-nova-spawnd-field',
  instanceUuid: 'x-nova-spawnd-instance-uuid',
  requestId: 'x-nova-spawnd-request-id',
  attempts: 'x-nova-spawnd-attempts',
  host: 'x-nova-spawnd-host',
  rejectedAt: 'x-nova-spawnd-rejected-at',
  originalExchange: 'x-nova-spawnd-original-exchange',
  originalRoutingKey: 'x-nova-spawnd-original-routing-key',
} as const;

/** An AMQP header table is limited to 64 KiB; the detail quotes at most 80 characters of a value anyway. */
const MAX_DETAIL = 4000;

export function deadLetterHeaders(
  rejection: Rejection,
  origin: { exchange: string; routingKey: string; host: string; now: Date },
): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    [DEAD_LETTER_HEADER.reason]: rejection.reason,
    [DEAD_LETTER_HEADER.error]: rejection.error,
    [DEAD_LETTER_HEADER.detail]: rejection.detail.slice(0, MAX_DETAIL),
    [DEAD_LETTER_HEADER.attempts]: rejection.attempts,
    [DEAD_LETTER_HEADER.host]: origin.host,
    [DEAD_LETTER_HEADER.rejectedAt]: origin.now.toISOString(),
    [DEAD_LETTER_HEADER.originalExchange]: origin.exchange,
    [DEAD_LETTER_HEADER.originalRoutingKey]: origin.routingKey,
  };
  if (rejection.field !== null) headers[DEAD_LETTER_HEADER.field] = rejection.field;
  if (rejection.instanceUuid !== null) headers[DEAD_LETTER_HEADER.instanceUuid] = rejection.instanceUuid;
  if (rejection.requestId !== null) headers[DEAD_LETTER_HEADER.requestId] = rejection.requestId;
  return headers;
}

/**
 * The exception an RPC caller gets back: oslo's own dispatcher errors for a method or version we do not
 * serve (rebuilt with arguments that reproduce their message), Nova's BuildAbortException for a spawn of a
 * known instance that will not happen, InvalidInput otherwise.
 */
export function remoteFailure(rejection: Rejection, message: { method: string; version: string }): RemoteFailure {
  if (rejection.reason === 'unsupported-method') {
    return {
      module: 'oslo_messaging.rpc.dispatcher',
      className: 'NoSuchMethod',
      message: `Endpoint does not support RPC method ${message.method}`,
      args: [message.method],
      kwargs: {},
    };
  }
  if (rejection.reason === 'unsupported-version') {
    return {
      module: 'oslo_messaging.rpc.dispatcher',
      className: 'UnsupportedVersion',
      message: `Endpoint does not support RPC version ${message.version}. Attempted method: ${message.method}`,
      args: [message.version],
      kwargs: { method: message.method },
    };
  }
  if (rejection.instanceUuid !== null) {
    return {
      module: 'nova.exception',
      className: 'BuildAbortException',
      message: `Build of instance ${rejection.instanceUuid} aborted: ${rejection.detail}`,
      args: [],
      kwargs: { instance_uuid: rejection.instanceUuid, reason: rejection.detail },
    };
  }
  return {
    module: 'nova.exception',
    className: 'InvalidInput',
    message: `Invalid input received: ${rejection.detail}`,
    args: [],
    kwargs: { reason: rejection.detail },
  };
}

export function notificationFault(rejection: Rejection): NotificationFault {
  return {
    module_name: 'nova_spawnd.bus',
    function_name: 'build_and_run_instance',
    exception: rejection.error,
    exception_message: rejection.detail,
    traceback: '',
  };
}
