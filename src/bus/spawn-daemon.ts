/**
 * The message bus side of `nova-spawnd run`: the broker connection(s), the topology declared on each
 * (re)connect, the consumers of compute, compute.<host> and the fanout queue, and an orderly stop.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import type { ComputeManager } from '../compute/compute-manager.js';
import type { LifecycleNotification } from '../compute/lifecycle.js';
import type { Logger } from '../log.js';
import { NO_METRICS, type Metrics } from '../metrics/metrics.js';
import type { Backoff } from '../backoff.js';
import { BrokerConnection, DEFAULT_RECONNECT, type BrokerSession } from './broker-connection.js';
import type { BusOptions } from './bus-options.js';
import { Notifier } from './notifier.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MEMORY,
  SpawnConsumer,
  type Delivery,
  type SpawnConsumerDeps,
  type SpawnConsumerOptions,
} from './spawn-consumer.js';
import { declareDeadLetterQueue } from './dead-letter-queue.js';
import { DeadLetterWatch } from './dead-letter-watch.js';
import { consumedQueues, DEAD_LETTER_QUEUE, deadLetterTopology, declareTopology, fanoutQueueName, rpcTopology, type Topology } from './topology.js';

export interface SpawnDaemonOptions {
  bus: BusOptions;
  /** Defaults: DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MEMORY. */
  consumer?: Partial<Pick<SpawnConsumerOptions, 'maxMessageBytes' | 'memory'>>;
  /** Default DEFAULT_RECONNECT (oslo's rabbit_retry_interval 1 s, doubling, rabbit_interval_max 30 s). */
  reconnect?: Backoff;
  connectTimeoutMs?: number;
}

export interface SpawnDaemonDeps {
  /** The owner of the instances: every operation a message asks for is handed to it. */
  compute: ComputeManager;
  /** Compute API methods answered from the host (SpawnConsumerDeps.queries). */
  queries?: SpawnConsumerDeps['queries'];
  log: Logger;
  now?: () => Date;
  /** Broker connection states and dead letters; default none. */
  metrics?: Metrics;
}

export class SpawnDaemon {
  private readonly rpc: BrokerConnection;
  private readonly notifications: BrokerConnection | null;
  private readonly consumer: SpawnConsumer;
  private readonly notifier: Notifier;
  private readonly topology: Topology;
  private readonly deadLetters: Topology;
  private readonly deadLetterWatch: DeadLetterWatch;
  /** Named once per process and kept across reconnects, as oslo's Consumer keeps it. */
  private readonly fanoutQueue: string;
  /** The consuming channel of the current connection and its consumer tags, for cancelling on stop. */
  private consuming: { channel: Channel; tags: string[] } | null = null;
  private stopping = false;

  constructor(
    private readonly options: SpawnDaemonOptions,
    private readonly deps: SpawnDaemonDeps,
  ) {
    const { bus } = options;
    const log = deps.log;
    const metrics = deps.metrics ?? NO_METRICS;
    this.fanoutQueue = fanoutQueueName();
    this.topology = rpcTopology({ controlExchange: bus.controlExchange, host: bus.host, queueMode: bus.queueMode, fanoutQueue: this.fanoutQueue, maxAttempts: deps.compute.maxAttempts });
    this.deadLetters = deadLetterTopology(bus.deadLetterMaxLength);
    this.deadLetterWatch = new DeadLetterWatch({ maxLength: bus.deadLetterMaxLength, depth: () => this.deadLetterDepth(), log: log.child('dead_letters'), metrics });
    const common = {
      reconnect: options.reconnect ?? DEFAULT_RECONNECT,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    };
    const shared = bus.notificationBroker === bus.rpc;
    this.rpc = new BrokerConnection({ ...bus.rpc, ...common, name: `nova-spawnd:${bus.host}`, log: log.child('rpc'), metrics: metrics.broker('rpc'), setup: (session) => this.setup(session, shared) });
    this.notifications = shared
      ? null
      : new BrokerConnection({
          ...bus.notificationBroker,
          ...common,
          name: `nova-spawnd:${bus.host}:notifications`,
          log: log.child('notifications'),
          metrics: metrics.broker('notifications'),
          setup: async (session) => {
            const channel = await session.model.createChannel();
            await declareTopology(channel, this.notifier.topology());
            await channel.close();
          },
        });
    const notificationBroker = this.notifications ?? this.rpc;
    this.notifier = new Notifier(bus, notificationBroker, deps.now);
    this.consumer = new SpawnConsumer(
      {
        host: bus.host,
        maxMessageBytes: options.consumer?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
        memory: options.consumer?.memory ?? DEFAULT_MEMORY,
      },
      {
        compute: deps.compute,
        publisher: this.rpc,
        ...(deps.queries ? { queries: deps.queries } : {}),
        notify: this.notifier.enabled ? (event) => this.notifier.instanceCreate(event) : null,
        log: log.child('consumer'),
        metrics,
        deadLetterQueue: this.deadLetterWatch,
        ...(deps.now ? { now: deps.now } : {}),
      },
    );
  }

  /** Connects in the background (retrying until it can) and starts consuming on every connection. */
  start(): void {
    this.rpc.start();
    this.notifications?.start();
    this.deadLetterWatch.start();
  }

  /** Resolves once the daemon consumes (and, with a separate notification broker, can notify). */
  async ready(): Promise<void> {
    await Promise.all([this.rpc.connected(), this.notifications?.connected()]);
  }

  /**
   * Publishes a versioned instance.<action>.<phase> of the lifecycle (NovaLifecycle's notify) through this
   * daemon's notifier, on its notification broker; nothing when notifications are not enabled.
   */
  notifyInstanceAction(notification: LifecycleNotification): Promise<void> {
    return this.notifier.instanceAction(notification);
  }

  /** The health check's probe: throws naming the broker connection(s) not up. */
  checkBrokers(): void {
    const down = [['rpc', this.rpc] as const, ['notifications', this.notifications] as const]
      .filter(([, connection]) => connection !== null && !connection.isConnected)
      .map(([name]) => name);
    if (down.length > 0) throw new Error(`not connected to the ${down.join(' and ')} broker`);
  }

  /** Deliveries being handled now. */
  get busy(): number {
    return this.consumer.busy;
  }

  /**
   * Stops consuming, lets builds in flight finish for up to `timeoutMs` (null: as long as they take, as
   * oslo.service's graceful_shutdown_timeout = 0), then closes the connections: a message not settled by
   * then stays unacked and the broker gives it to the next consumer. Resolves with whether every build
   * finished in time.
   */
  async stop(timeoutMs: number | null): Promise<boolean> {
    this.stopping = true;
    this.deadLetterWatch.stop();
    const log = this.deps.log;
    const consuming = this.consuming;
    this.consuming = null;
    if (consuming) {
      await Promise.all(consuming.tags.map((tag) => consuming.channel.cancel(tag).catch(() => undefined)));
    }
    // Builds waiting for a slot will not start; those running finish.
    this.consumer.stop();
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      this.consumer.idle().then(() => true),
      ...(timeoutMs === null ? [] : [new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))]),
    ]);
    clearTimeout(timer);
    if (!finished) log.warning(`${this.consumer.busy} build(s) still running after ${timeoutMs} ms: leaving them unacked for redelivery`);
    // As oslo's Connection.close does: the per-process fanout queue has no reader after us.
    await consuming?.channel.deleteQueue(this.fanoutQueue).catch(() => undefined);
    await Promise.all([this.rpc.close(), this.notifications?.close()]);
    return finished;
  }

  /** The dead-letter queue's depth (a passive declare), null when not connected. */
  private async deadLetterDepth(): Promise<number | null> {
    const session = this.rpc.session;
    if (!session) return null;
    const channel = await session.model.createChannel();
    channel.on('error', () => undefined);
    try {
      return (await channel.checkQueue(DEAD_LETTER_QUEUE)).messageCount;
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  private async setup(session: BrokerSession, declareNotifications: boolean): Promise<void> {
    const channel = await session.model.createChannel();
    let open = true;
    channel.on('error', (error: Error) => session.fail(`consuming channel failed: ${error.message}`));
    channel.on('close', () => {
      open = false;
      if (!this.stopping) session.fail('consuming channel closed');
    });
    await declareTopology(channel, this.topology);
    await declareDeadLetterQueue(session.model, this.deadLetters, this.deps.log);
    void this.deadLetterWatch.measure(false);
    if (declareNotifications && this.notifier.enabled) await declareTopology(channel, this.notifier.topology());
    // Per consumer (RabbitMQ's basic.qos global=false; quorum queues support no other); the build slots, not
    // the prefetch, bound the builds across the three queues to max_concurrent_builds.
    await channel.prefetch(this.options.bus.prefetch);
    const tags: string[] = [];
    for (const queue of consumedQueues(this.topology)) {
      const { consumerTag } = await channel.consume(queue, (message) => {
        if (message === null) {
          session.fail(`the broker cancelled the consumer of ${queue}`);
          return;
        }
        void this.consumer.handle(toDelivery(message, channel, () => open));
      });
      tags.push(consumerTag);
    }
    if (this.stopping) {
      await channel.close().catch(() => undefined);
      return;
    }
    this.consuming = { channel, tags };
    this.deps.log.info(`consuming ${consumedQueues(this.topology).join(', ')}`, {
      exchange: this.options.bus.controlExchange,
      prefetch: this.options.bus.prefetch,
      max_concurrent_builds: this.options.bus.maxConcurrentBuilds,
    });
  }
}

function toDelivery(message: ConsumeMessage, channel: Channel, isOpen: () => boolean): Delivery {
  const attempt = (action: () => void): boolean => {
    if (!isOpen()) return false;
    try {
      action();
      return true;
    } catch {
      // IllegalOperationError: the channel closed since isOpen() looked.
      return false;
    }
  };
  return {
    body: message.content,
    properties: message.properties,
    exchange: message.fields.exchange,
    routingKey: message.fields.routingKey,
    redelivered: message.fields.redelivered,
    isOpen,
    ack: () => attempt(() => channel.ack(message)),
    requeue: () => attempt(() => channel.nack(message, false, true)),
  };
}
