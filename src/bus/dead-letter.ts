/**
 * A message in the dead-letter queue as an operator sees it (`nova-spawnd dead-letters list`): an id, when
 * and where it was rejected and why, what it asked for (method, instance, request id), never its body nor
 * its context (admin_password, the user's token); and the message to replay it with (`replay`): the
 * original body and properties to the original exchange and routing key, without our dead-letter headers,
 * marked as a replay of that id so that a daemon that remembers the original does not take it for a
 * duplicate. Pure.
 */
import { createHash } from 'node:crypto';
import type { MessageProperties, Options } from 'amqplib';
import { messageHints } from './message-hints.js';
import { decodeBody } from './oslo-envelope.js';
import { DEAD_LETTER_HEADER } from './rejection.js';
import { REPLAY_HEADER } from './spawn-consumer.js';

export interface DeadLetterSummary {
  /** 12 hex digits of a hash of the body, when and where it was rejected: the same on every listing. */
  id: string;
  rejectedAt: string | null;
  host: string | null;
  reason: string | null;
  /** The error class and its message; the message withheld when it is about a secret field. */
  error: string | null;
  detail: string | null;
  field: string | null;
  /** The compute API method asked for; null when the body cannot be decoded. */
  method: string | null;
  instance: string | null;
  requestId: string | null;
  attempts: number | null;
  exchange: string | null;
  routingKey: string | null;
}

export interface DeadMessage {
  content: Buffer;
  properties: MessageProperties;
}

/** Our headers on a dead letter and a retry copy: what a replay leaves out. */
const OUR_HEADERS = /^x-nova-spawnd-/;
/** A field whose value an error message may quote and a listing must not show. */
const SECRET_FIELD = /password|admin_pass|token|secret/i;

function text(headers: Record<string, unknown>, name: string): string | null {
  const value = headers[name];
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return typeof value === 'number' ? String(value) : null;
}

export function deadLetterId(message: DeadMessage): string {
  const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
  const hash = createHash('sha256').update(message.content);
  for (const name of [DEAD_LETTER_HEADER.rejectedAt, DEAD_LETTER_HEADER.host, DEAD_LETTER_HEADER.originalRoutingKey]) hash.update(`\0${text(headers, name) ?? ''}`);
  return hash.digest('hex').slice(0, 12);
}

export function summarize(message: DeadMessage): DeadLetterSummary {
  const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
  let method: string | null = null;
  let hints = { instanceUuid: null as string | null, requestId: null as string | null };
  try {
    const decoded = decodeBody(message.content, message.properties.contentType as string | undefined);
    method = decoded.kind === 'oslo' ? decoded.message.method : 'build_and_run_instance (plain request)';
    hints = messageHints(decoded);
  } catch {
    // Dead-lettered because it could not be decoded: its headers say what is known.
  }
  const field = text(headers, DEAD_LETTER_HEADER.field);
  const attempts = Number(text(headers, DEAD_LETTER_HEADER.attempts));
  return {
    id: deadLetterId(message),
    rejectedAt: text(headers, DEAD_LETTER_HEADER.rejectedAt),
    host: text(headers, DEAD_LETTER_HEADER.host),
    reason: text(headers, DEAD_LETTER_HEADER.reason),
    error: text(headers, DEAD_LETTER_HEADER.error),
    detail: field !== null && SECRET_FIELD.test(field) ? `(withheld: about ${field})` : text(headers, DEAD_LETTER_HEADER.detail),
    field,
    method,
    instance: text(headers, DEAD_LETTER_HEADER.instanceUuid) ?? hints.instanceUuid,
    requestId: text(headers, DEAD_LETTER_HEADER.requestId) ?? hints.requestId,
    attempts: Number.isInteger(attempts) && text(headers, DEAD_LETTER_HEADER.attempts) !== null ? attempts : null,
    exchange: text(headers, DEAD_LETTER_HEADER.originalExchange),
    routingKey: text(headers, DEAD_LETTER_HEADER.originalRoutingKey),
  };
}

/** Where and what to publish to replay `message`; null when it does not say where it came from. */
export function replayOf(message: DeadMessage): { exchange: string; routingKey: string; properties: Options.Publish } | null {
  const summary = summarize(message);
  if (summary.exchange === null || summary.routingKey === null) return null;
  const { contentType, contentEncoding, headers, priority, correlationId, replyTo, messageId, timestamp, type, appId } = message.properties;
  const senders = Object.fromEntries(Object.entries((headers ?? {}) as Record<string, unknown>).filter(([name]) => !OUR_HEADERS.test(name) && name !== 'x-death'));
  const properties = Object.fromEntries(
    Object.entries({
      contentType, contentEncoding, priority, correlationId, replyTo, messageId, timestamp, type, appId,
      deliveryMode: 2,
      // Mandatory: a compute queue that is gone returns it, and the dead letter stays.
      mandatory: true,
      headers: { ...senders, [REPLAY_HEADER]: summary.id },
    }).filter(([, value]) => value !== undefined),
  );
  return { exchange: summary.exchange, routingKey: summary.routingKey, properties };
}
