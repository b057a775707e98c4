/** Reading what the daemon published: dead letters, notifications, RPC replies. */
import type { Channel } from 'amqplib';

export interface Observed {
  body: Buffer;
  headers: Record<string, unknown>;
  routingKey: string;
}

/** Consumes `queue` (no ack needed) into an array that fills as messages arrive. */
export async function observeQueue(channel: Channel, queue: string): Promise<Observed[]> {
  const seen: Observed[] = [];
  await channel.consume(
    queue,
    (message) => {
      if (message) seen.push({ body: message.content, headers: (message.properties.headers ?? {}) as Record<string, unknown>, routingKey: message.fields.routingKey });
    },
    { noAck: true },
  );
  return seen;
}

/** The message inside an oslo 2.0 envelope. */
export function unwrap(body: Buffer): Record<string, unknown> {
  const outer = JSON.parse(body.toString()) as Record<string, unknown>;
  expect(outer['oslo.version']).toBe('2.0');
  return JSON.parse(outer['oslo.message'] as string) as Record<string, unknown>;
}

export interface NotificationSeen {
  event_type: string;
  priority: string;
  publisher_id: string;
  payload: { 'nova_object.name': string; 'nova_object.version': string; 'nova_object.data': Record<string, unknown> };
  [key: string]: unknown;
}

export function notifications(seen: Observed[]): NotificationSeen[] {
  return seen.map((message) => unwrap(message.body) as NotificationSeen);
}

export function notificationsFor(seen: Observed[], uuid: string): NotificationSeen[] {
  return notifications(seen).filter((n) => n.payload['nova_object.data']['uuid'] === uuid);
}
