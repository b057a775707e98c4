/**
 * The exchanges and queues the daemon declares, as data: exactly what nova-compute's oslo.messaging rabbit
 * driver declares for an RPC server on topic "compute" and server `host` (amqpdriver.py listen ->
 * impl_rabbit.py declare_topic_consumer x2 + declare_fanout_consumer), what its notifier declares before
 * publishing (_publish_and_creates_default_queue), and our own: the dead-letter exchange and queue, and the
 * retry queues where a spawn waits out its backoff. RabbitMQ refuses
 * (406 PRECONDITION_FAILED) a redeclaration whose flags or arguments differ, so every flag here is oslo's.
 */
import { randomUUID } from 'node:crypto';
import type { Channel } from 'amqplib';
import { uniqueId } from './oslo-envelope.js';

export const COMPUTE_TOPIC = 'compute';

/** Where messages we cannot or will not process go, with headers naming why (rejection.ts). */
export const DEAD_LETTER_EXCHANGE = 'nova-spawnd.dead';
export const DEAD_LETTER_QUEUE = 'nova-spawnd.dead';

/**
 * The dead-letter exchange and its one queue, shared by every host on the broker; bounded to `maxLength`
 * messages (0: unbounded) with RabbitMQ's reject-publish overflow, so that a full queue nacks the next
 * dead letter instead of dropping its oldest one. Declared apart (dead-letter-queue.ts): its arguments
 * change with the bound, which RabbitMQ refuses on a queue that exists.
 */
export function deadLetterTopology(maxLength: number): Topology {
  return {
    exchanges: [{ name: DEAD_LETTER_EXCHANGE, type: 'fanout', durable: true, autoDelete: false }],
    queues: [
      {
        name: DEAD_LETTER_QUEUE,
        durable: true,
        autoDelete: false,
        arguments: maxLength > 0 ? { 'x-max-length': maxLength, 'x-overflow': 'reject-publish' } : {},
        exchange: DEAD_LETTER_EXCHANGE,
        routingKey: '',
      },
    ],
  };
}

/**
 * Where a spawn that failed transiently waits out its backoff before attempt `attempt + 1`: a queue without
 * consumers whose messages expire (per-message TTL, the backoff delay) back into compute.<host>. One queue
 * per attempt, because RabbitMQ expires only the message at a queue's head: within one attempt's queue
 * the delays differ by the jitter alone, so a message waits at most that much longer than its own delay.
 */
export function retryQueueName(host: string, attempt: number): string {
  return `nova-spawnd.retry.${host}.${attempt}`;
}

/** oslo's rabbit_transient_queues_ttl default: an unused fanout queue disappears after 30 minutes. */
const TRANSIENT_QUEUE_TTL_MS = 1_800_000;

export interface ExchangeDeclaration {
  name: string;
  type: 'topic' | 'fanout';
  durable: boolean;
  autoDelete: boolean;
}

export interface QueueDeclaration {
  name: string;
  durable: boolean;
  autoDelete: boolean;
  arguments: Record<string, unknown>;
  /** null: not bound; published to through the default exchange (by queue name). */
  exchange: string | null;
  routingKey: string;
}

export interface Topology {
  exchanges: ExchangeDeclaration[];
  queues: QueueDeclaration[];
}

export interface RpcTopologyOptions {
  controlExchange: string;
  host: string;
  queueMode: QueueMode;
  /** Chosen once per process (fanoutQueueName) and kept across reconnects, as oslo's Consumer keeps it. */
  fanoutQueue: string;
  /** Attempts a spawn may make: one retry queue for each but the last. */
  maxAttempts: number;
}

/** oslo's declare_fanout_consumer names the queue `<topic>_fanout_<uuid4 hex>`. */
export function fanoutQueueName(topic = COMPUTE_TOPIC): string {
  return `${topic}_fanout_${randomUUID().replace(/-/g, '')}`;
}

/**
 * How oslo declares the control exchange and its topic queues, from [oslo_messaging_rabbit]: durable with
 * amqp_durable_queues or quorum queues (oslo's Connection.durable), auto-delete with amqp_auto_delete.
 */
export interface QueueMode {
  quorum: boolean;
  durable: boolean;
  autoDelete: boolean;
}

/** oslo's _get_queue_arguments for topic queues: quorum queues carry x-queue-type. */
function topicQueueArguments(mode: QueueMode): Record<string, unknown> {
  return mode.quorum ? { 'x-queue-type': 'quorum' } : {};
}

function controlExchange(name: string, mode: QueueMode): ExchangeDeclaration {
  return { name, type: 'topic', durable: mode.durable, autoDelete: mode.autoDelete };
}

/** The queues the consumer reads from, in the order oslo declares them, plus the retry queues. */
export function rpcTopology(options: RpcTopologyOptions): Topology {
  const { controlExchange: exchange, host, queueMode, fanoutQueue } = options;
  const hostQueue = `${COMPUTE_TOPIC}.${host}`;
  const topicQueue = (name: string): QueueDeclaration => ({
    name,
    durable: queueMode.durable,
    autoDelete: queueMode.autoDelete,
    arguments: topicQueueArguments(queueMode),
    exchange,
    routingKey: name,
  });
  const fanoutExchange = `${COMPUTE_TOPIC}_fanout`;
  return {
    exchanges: [
      controlExchange(exchange, queueMode),
      { name: fanoutExchange, type: 'fanout', durable: false, autoDelete: true },
    ],
    queues: [
      topicQueue(COMPUTE_TOPIC),
      topicQueue(hostQueue),
      {
        name: fanoutQueue,
        durable: false,
        autoDelete: false,
        arguments: { 'x-expires': TRANSIENT_QUEUE_TTL_MS },
        exchange: fanoutExchange,
        routingKey: COMPUTE_TOPIC,
      },
      // As durable as the queue the messages go back to: a retry outlives a broker restart when its spawn would.
      ...Array.from({ length: options.maxAttempts - 1 }, (_, index) => ({
        name: retryQueueName(host, index + 1),
        durable: queueMode.durable,
        autoDelete: false,
        arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': hostQueue },
        exchange: null,
        routingKey: '',
      })),
    ],
  };
}

/** The queues the daemon consumes: every RPC queue of rpcTopology but the retry ones. */
export function consumedQueues(topology: Topology): string[] {
  return topology.queues.filter((queue) => queue.exchange !== null).map((queue) => queue.name);
}

/**
 * What oslo's notifier declares before its first publish to `<topic>.<priority>`: the control exchange and
 * a queue of that name bound to it, so that notifications wait for a consumer that has not started yet.
 */
export function notificationTopology(options: { controlExchange: string; queueMode: QueueMode; routingKeys: string[] }): Topology {
  const exchange = controlExchange(options.controlExchange, options.queueMode);
  return {
    exchanges: [exchange],
    queues: options.routingKeys.map((name) => ({
      name,
      durable: exchange.durable,
      autoDelete: exchange.autoDelete,
      arguments: topicQueueArguments(options.queueMode),
      exchange: exchange.name,
      routingKey: name,
    })),
  };
}

/** oslo's _get_reply_q: the replies to an RPC client's calls come to one queue of its own, `reply_<uuid4 hex>`. */
export function replyQueueName(): string {
  return `reply_${uniqueId()}`;
}

/**
 * What oslo's RPC client declares: the control exchange before its first publish on a connection
 * (impl_rabbit.py topic_send), and its reply queue (declare_direct_consumer): classic, neither durable nor
 * auto-deleted, gone 30 minutes after its last consumer, read through the default exchange.
 */
export function rpcClientTopology(options: { controlExchange: string; queueMode: QueueMode; replyQueue: string }): Topology {
  return {
    exchanges: [controlExchange(options.controlExchange, options.queueMode)],
    queues: [
      { name: options.replyQueue, durable: false, autoDelete: false, arguments: { 'x-expires': TRANSIENT_QUEUE_TTL_MS }, exchange: null, routingKey: '' },
    ],
  };
}

/** Declares every exchange, then every queue with its binding; safe to repeat after each reconnect. */
export async function declareTopology(channel: Channel, topology: Topology): Promise<void> {
  for (const exchange of topology.exchanges) {
    await channel.assertExchange(exchange.name, exchange.type, { durable: exchange.durable, autoDelete: exchange.autoDelete });
  }
  for (const queue of topology.queues) {
    await channel.assertQueue(queue.name, { durable: queue.durable, autoDelete: queue.autoDelete, arguments: queue.arguments });
    if (queue.exchange !== null) await channel.bindQueue(queue.name, queue.exchange, queue.routingKey);
  }
}
