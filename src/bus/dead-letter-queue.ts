/**
 * Declares the dead-letter exchange and queue (topology.ts deadLetterTopology) on a connection, including
 * over a queue an earlier nova-spawnd declared with other arguments (unbounded before
 * [nova_spawnd] dead_letter_max_length, or another bound), which RabbitMQ refuses to re-declare
 * (406 PRECONDITION_FAILED, closing the channel):
 * - the old queue empty: deleted (if-empty, so a dead letter that just arrived keeps it) and declared anew.
 *   A dead letter published in between finds no queue: dead letters are published mandatory, so the broker
 *   returns it and its message is retried;
 * - the old queue holding messages: kept as it is (bound to the exchange, without the new bound) and a
 *   warning says so; once `nova-spawnd dead-letters replay` has emptied it, the next (re)connect declares it
 *   anew.
 * Each attempt on a channel of its own, closed after.
 */
import type { Channel, ChannelModel } from 'amqplib';
import type { Logger } from '../log.js';
import type { QueueDeclaration, Topology } from './topology.js';

function preconditionFailed(error: unknown): boolean {
  return (error as { code?: unknown }).code === 406;
}

async function onChannel<T>(model: ChannelModel, work: (channel: Channel) => Promise<T>): Promise<T> {
  const channel = await model.createChannel();
  // A refused declaration closes the channel with an error event; the failed call rejects with it.
  channel.on('error', () => undefined);
  try {
    return await work(channel);
  } finally {
    await channel.close().catch(() => undefined);
  }
}

function assertQueue(channel: Channel, queue: QueueDeclaration): Promise<unknown> {
  return channel.assertQueue(queue.name, { durable: queue.durable, autoDelete: queue.autoDelete, arguments: queue.arguments });
}

/** Resolves with whether the queue has the arguments asked for ('declared') or an old queue was kept ('kept'). */
export async function declareDeadLetterQueue(model: ChannelModel, topology: Topology, log: Logger): Promise<'declared' | 'kept'> {
  const [queue] = topology.queues as [QueueDeclaration];
  const bind = (channel: Channel): Promise<unknown> => channel.bindQueue(queue.name, queue.exchange!, queue.routingKey);
  try {
    await onChannel(model, async (channel) => {
      for (const exchange of topology.exchanges) await channel.assertExchange(exchange.name, exchange.type, { durable: exchange.durable, autoDelete: exchange.autoDelete });
      await assertQueue(channel, queue);
      await bind(channel);
    });
    return 'declared';
  } catch (error) {
    if (!preconditionFailed(error)) throw error;
  }
  const wanted = JSON.stringify(queue.arguments);
  const { messageCount } = await onChannel(model, (channel) => channel.checkQueue(queue.name));
  if (messageCount === 0) {
    try {
      await onChannel(model, async (channel) => {
        await channel.deleteQueue(queue.name, { ifEmpty: true });
        await assertQueue(channel, queue);
        await bind(channel);
      });
      log.info(`dead-letter queue ${queue.name} re-declared with its new arguments ${wanted}`);
      return 'declared';
    } catch (error) {
      if (!preconditionFailed(error)) throw error;
    }
  }
  await onChannel(model, bind);
  log.warning(
    `dead-letter queue ${queue.name} was declared with other arguments than ${wanted} (by an earlier nova-spawnd, or another dead_letter_max_length) and holds messages: kept as it is, without the new bound, until it is empty (nova-spawnd dead-letters list, replay); the next connection declares it anew then`,
    { queue: queue.name, messages: messageCount },
  );
  return 'kept';
}
