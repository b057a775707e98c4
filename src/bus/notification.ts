/**
 * oslo.messaging's notification message (notify/notifier.py _notify, then amqpdriver.py _send with
 * notify=True): {message_id, publisher_id, event_type, priority, payload, timestamp} plus `_unique_id` and
 * the sanitized request context as `_context_*` keys; in the 2.0 envelope for the messagingv2 driver, bare
 * JSON for messaging (1.0). Routing key `<topic>.<priority in lower case>` on the control exchange.
 */
import { randomUUID } from 'node:crypto';
import type { NotificationDriver } from './bus-options.js';
import { encodeEnvelope, packContext, uniqueId } from './oslo-envelope.js';

export type NotificationPriority = 'INFO' | 'ERROR';

export interface VersionedNotification {
  eventType: string;
  priority: NotificationPriority;
  publisherId: string;
  payload: unknown;
  /** The request context as the sender packed it (any keys); only oslo's safe keys are passed on. */
  context: Record<string, unknown>;
}

/** notifier.py _sanitize_context: the context keys a notification may carry (no token, no secrets). */
const SAFE_CONTEXT_KEYS = new Set([
  'user_id', 'project_id', 'domain_id', 'user_domain_id', 'project_domain_id', 'is_admin', 'request_id', 'roles',
  'user_name', 'project_name', 'domain_name', 'user_domain_name', 'project_domain_name', 'service_user_id',
  'service_user_domain_id', 'service_user_domain_name', 'service_project_id', 'service_project_name',
  'service_project_domain_id', 'service_project_domain_name', 'service_roles', 'global_request_id', 'system_scope',
  'user', 'domain', 'user_domain', 'project_domain',
]);

/** str(timeutils.utcnow()): Python's datetime str, microseconds left out when they are zero. */
export function pythonUtcTimestamp(date: Date): string {
  const iso = date.toISOString();
  const millis = date.getUTCMilliseconds();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${millis === 0 ? '' : `.${String(millis * 1000).padStart(6, '0')}`}`;
}

export function routingKey(topic: string, priority: NotificationPriority): string {
  return `${topic}.${priority.toLowerCase()}`;
}

/** The message dict, before the driver's envelope. */
export function notificationMessage(notification: VersionedNotification, now: Date): Record<string, unknown> {
  const context = Object.fromEntries(Object.entries(notification.context).filter(([key]) => SAFE_CONTEXT_KEYS.has(key)));
  return {
    message_id: randomUUID(),
    publisher_id: notification.publisherId,
    event_type: notification.eventType,
    priority: notification.priority,
    payload: notification.payload,
    timestamp: pythonUtcTimestamp(now),
    _unique_id: uniqueId(),
    ...packContext(context),
  };
}

export function notificationBody(message: Record<string, unknown>, driver: NotificationDriver): Buffer {
  return driver === 'messagingv2' ? encodeEnvelope(message) : Buffer.from(JSON.stringify(message));
}
