import { randomUUID } from 'node:crypto';
import { isJsonObject } from '../nova/json-fields.js';
import { EnvelopeError } from './envelope-error.js';
import { versionIsCompatible } from './oslo-version.js';

/**
 * One RPC message as oslo.messaging's rabbit driver sends it (amqpdriver.py _send): the RPC client's
 * `{method, args, version, namespace}` plus `_unique_id`, the request context flattened into `_context_*`
 * keys (amqp.py pack_context) and, for calls only, `_msg_id`, `_reply_q` and `_timeout`.
 */
export interface OsloMessage {
  method: string;
  /** Still serialized: NovaObject primitives and plain values, as the sender's serializer made them. */
  args: Record<string, unknown>;
  /** The dispatcher reads a missing version as "1.0" (rpc/dispatcher.py). */
  version: string;
  namespace: string | null;
  /** uuid4 hex that oslo.messaging uses to drop redelivered casts; null when the sender set none. */
  unique_id: string | null;
  /** `_context_<key>` entries with the prefix removed (amqp.py unpack_context). */
  context: Record<string, unknown>;
  /** Set on calls: where and under which id the reply goes. */
  msg_id: string | null;
  reply_q: string | null;
  /** The caller's call_monitor_timeout in seconds, null when none. */
  timeout: number | null;
}

export type DecodedBody = { kind: 'oslo'; message: OsloMessage } | { kind: 'plain'; request: unknown };

/** The envelope version this daemon implements (common.py _RPC_ENVELOPE_VERSION). */
export const OSLO_ENVELOPE_VERSION = '2.0';

/**
 * The top-level key that marks a body as our plain spawn request (docs/spawn-request.md). Its value is the
 * plain format's version, checked by the plain request decoder, not here.
 */
export const PLAIN_REQUEST_KEY = 'nova_spawnd';

const CONTEXT_PREFIX = '_context_';

/**
 * Opens an AMQP body: an oslo.messaging envelope `{"oslo.version": "2.0", "oslo.message": "<JSON>"}` becomes
 * an OsloMessage; a JSON object carrying PLAIN_REQUEST_KEY and no envelope keys is handed back as a plain
 * request, still unvalidated. Anything else throws EnvelopeError. oslo.messaging itself passes a dict
 * without both envelope keys through as a pre-envelope (1.0) message; nothing has sent those since
 * Grizzly, so here such a body is an error unless it is a plain request.
 */
export function decodeBody(body: Buffer, contentType?: string): DecodedBody {
  const top = jsonObjectBody(body, contentType);
  if (isEnvelope(top)) return { kind: 'oslo', message: rpcMessage(envelopeContent(top)) };
  if (PLAIN_REQUEST_KEY in top) return { kind: 'plain', request: top };
  throw new EnvelopeError(
    'body',
    `is neither an oslo.messaging envelope (oslo.version, oslo.message) nor a plain spawn request (${PLAIN_REQUEST_KEY})`,
    Object.keys(top),
  );
}

/** Opens an oslo.messaging envelope whatever it carries (an RPC reply has no method): the inner message dict. */
export function decodeEnvelope(body: Buffer, contentType?: string): Record<string, unknown> {
  const top = jsonObjectBody(body, contentType);
  if (!isEnvelope(top)) throw new EnvelopeError('body', 'is not an oslo.messaging envelope (oslo.version, oslo.message)', Object.keys(top));
  return envelopeContent(top);
}

/** Either key makes a body an envelope (envelopeContent then requires both). */
function isEnvelope(top: Record<string, unknown>): boolean {
  return 'oslo.version' in top || 'oslo.message' in top;
}

function jsonObjectBody(body: Buffer, contentType: string | undefined): Record<string, unknown> {
  if (contentType !== undefined && !/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new EnvelopeError('content_type', 'must be application/json', contentType);
  }
  const top = parseJson(utf8(body, 'body'), 'body');
  if (!isJsonObject(top)) throw new EnvelopeError('body', 'must be a JSON object', top);
  return top;
}

function envelopeContent(top: Record<string, unknown>): Record<string, unknown> {
  if (!('oslo.version' in top)) throw new EnvelopeError('oslo.version', 'is missing beside oslo.message');
  if (!('oslo.message' in top)) throw new EnvelopeError('oslo.message', 'is missing beside oslo.version');
  const version = top['oslo.version'];
  const message = top['oslo.message'];
  if (typeof version !== 'string' || !versionIsCompatible(OSLO_ENVELOPE_VERSION, version)) {
    throw new EnvelopeError('oslo.version', `is not supported (this daemon speaks ${OSLO_ENVELOPE_VERSION})`, version);
  }
  if (typeof message !== 'string') throw new EnvelopeError('oslo.message', 'must be a JSON string', message);
  const inner = parseJson(message, 'oslo.message');
  if (!isJsonObject(inner)) throw new EnvelopeError('oslo.message', 'must hold a JSON object', inner);
  return inner;
}

function rpcMessage(inner: Record<string, unknown>): OsloMessage {
  const method = inner['method'];
  if (method === undefined) throw new EnvelopeError('method', 'is missing');
  if (typeof method !== 'string' || method === '') {
    throw new EnvelopeError('method', 'must be a non-empty string', method);
  }
  const args = inner['args'] ?? {};
  if (!isJsonObject(args)) throw new EnvelopeError('args', 'must be an object', args);

  const context: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(inner)) {
    if (key.startsWith(CONTEXT_PREFIX)) context[key.slice(CONTEXT_PREFIX.length)] = value;
  }
  const timeout = inner['_timeout'] ?? null;
  if (timeout !== null && typeof timeout !== 'number') {
    throw new EnvelopeError('_timeout', 'must be a number of seconds or null', timeout);
  }
  return {
    method,
    args,
    version: optionalString(inner, 'version') ?? '1.0',
    namespace: optionalString(inner, 'namespace'),
    unique_id: optionalString(inner, '_unique_id'),
    context,
    msg_id: optionalString(inner, '_msg_id'),
    reply_q: optionalString(inner, '_reply_q'),
    timeout,
  };
}

function optionalString(inner: Record<string, unknown>, key: string): string | null {
  const value = inner[key] ?? null;
  if (value !== null && typeof value !== 'string') throw new EnvelopeError(key, 'must be a string or null', value);
  return value;
}

function utf8(bytes: Buffer, field: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new EnvelopeError(field, 'is not valid UTF-8', bytes);
  }
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new EnvelopeError(field, `is not JSON: ${(error as Error).message}`, text);
  }
}

/**
 * The other direction (common.py serialize_msg): a message dict in the 2.0 envelope, as the rabbit driver
 * puts RPC replies and messagingv2 notifications on the wire.
 */
export function encodeEnvelope(message: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify({ 'oslo.version': OSLO_ENVELOPE_VERSION, 'oslo.message': JSON.stringify(message) }));
}

/** amqp.py _add_unique_id: a uuid4 hex that receivers use to drop duplicates. */
export function uniqueId(): string {
  return randomUUID().replace(/-/g, '');
}

/** amqp.py pack_context: the request context flattened into `_context_<key>` entries. */
export function packContext(context: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(context).map(([key, value]) => [`${CONTEXT_PREFIX}${key}`, value]));
}
