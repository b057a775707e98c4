/**
 * One publish on a confirm channel, resolved once the broker has confirmed it: PublishRefused when the broker
 * nacked it or (mandatory) returned it unroutable, ConnectionLost when the channel went away first.
 * RabbitMQ sends a mandatory message's basic.return before its basic.ack, so a return seen by the time of the
 * ack is that message's; returns name no delivery tag, so the message is matched by exchange, routing key
 * and body.
 */
import type { ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { ConnectionLost } from './connection-lost.js';
import { PublishRefused } from './publish-refused.js';

interface Mandatory {
  exchange: string;
  routingKey: string;
  body: Buffer;
  returned: boolean;
}

/** The mandatory publishes of each channel awaiting their confirm. */
const awaiting = new WeakMap<ConfirmChannel, Mandatory[]>();

function mandatoryOf(channel: ConfirmChannel): Mandatory[] {
  let list = awaiting.get(channel);
  if (list === undefined) {
    const pending: Mandatory[] = [];
    channel.on('return', (message: ConsumeMessage) => {
      const match = pending.find(
        (entry) => !entry.returned && entry.exchange === message.fields.exchange && entry.routingKey === message.fields.routingKey && entry.body.equals(message.content),
      );
      if (match) match.returned = true;
    });
    awaiting.set(channel, pending);
    list = pending;
  }
  return list;
}

export function publishConfirmed(channel: ConfirmChannel, exchange: string, routingKey: string, body: Buffer, properties: Options.Publish): Promise<void> {
  const operation = `publish to ${exchange === '' ? 'the default exchange' : exchange} (${routingKey})`;
  const pending = properties.mandatory ? mandatoryOf(channel) : null;
  const entry: Mandatory = { exchange, routingKey, body, returned: false };
  pending?.push(entry);
  const done = (): void => {
    const index = pending?.indexOf(entry) ?? -1;
    if (index >= 0) pending!.splice(index, 1);
  };
  return new Promise<void>((resolve, reject) => {
    const settle = (error: unknown): void => {
      done();
      if (error instanceof Error && error.message === 'message nacked') reject(new PublishRefused(operation, 'nacked'));
      else if (error) reject(new ConnectionLost(operation, `not confirmed by the broker: ${String((error as Error)?.message ?? error)}`));
      else if (entry.returned) reject(new PublishRefused(operation, 'unroutable'));
      else resolve();
    };
    try {
      channel.publish(exchange, routingKey, body, properties, settle);
    } catch (error) {
      done();
      // amqplib throws synchronously on a channel that has closed, RangeError on an oversized header table.
      if (error instanceof RangeError) reject(error);
      else reject(new ConnectionLost(operation, (error as Error).message));
    }
  });
}
