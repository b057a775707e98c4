/**
 * What a message that failed to decode still tells about itself, for the log line, the dead-letter headers
 * and the error notification: the instance uuid (only when it is a well-formed one) and the request id.
 */
import { isJsonObject } from '../nova/json-fields.js';
import { CANONICAL_UUID } from '../nova/validate.js';
import type { DecodedBody } from './oslo-envelope.js';

export interface MessageHints {
  instanceUuid: string | null;
  requestId: string | null;
  /** The sender's request context (`_context_*` keys, or a plain request's `context`), for notifications. */
  context: Record<string, unknown>;
}

export const NO_HINTS: MessageHints = { instanceUuid: null, requestId: null, context: {} };

export function messageHints(decoded: DecodedBody): MessageHints {
  if (decoded.kind === 'oslo') {
    const instance = decoded.message.args['instance'];
    const data = isJsonObject(instance) ? instance['nova_object.data'] : undefined;
    return hints(isJsonObject(data) ? data['uuid'] : undefined, decoded.message.context);
  }
  const request = decoded.request as Record<string, unknown>;
  const context = isJsonObject(request['context']) ? request['context'] : {};
  return hints(request['uuid'], {
    ...context,
    user_id: context['user_id'] ?? request['user_id'],
    project_id: context['project_id'] ?? request['project_id'],
  });
}

function hints(uuid: unknown, context: Record<string, unknown>): MessageHints {
  const requestId = context['request_id'];
  return {
    instanceUuid: typeof uuid === 'string' && CANONICAL_UUID.test(uuid) ? uuid : null,
    requestId: typeof requestId === 'string' ? requestId : null,
    context,
  };
}
