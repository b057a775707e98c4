/**
 * Publishes Nova's versioned instance.create.* notifications the way nova-compute does (compute/utils.py
 * notify_about_instance_create through oslo's Notifier): publisher `nova-compute:<host>`, one message per
 * messaging driver and topic, on the control exchange, each confirmed by the broker.
 */
import type { NotificationFault } from '../nova/instance-payload.js';
import type { BusOptions } from './bus-options.js';
import { instanceCreatePayload, type CreatePhase, type PayloadSource } from './instance-create-payload.js';
import { notificationBody, notificationMessage, routingKey, type NotificationPriority } from './notification.js';
import { notificationTopology, type Topology } from './topology.js';

export interface NotificationPublisher {
  publish(exchange: string, routingKey: string, body: Buffer, properties: { contentType: string; contentEncoding: string; deliveryMode: number }): Promise<void>;
}

export interface InstanceCreateEvent {
  phase: CreatePhase;
  source: PayloadSource;
  /** The request context as sent (`_context_*` keys unpacked); oslo's safe keys go into the message. */
  context: Record<string, unknown>;
  fault?: NotificationFault | null;
  domain?: string | null;
}

const PRIORITY: Record<CreatePhase, NotificationPriority> = { start: 'INFO', end: 'INFO', error: 'ERROR' };

type NotifierOptions = Pick<BusOptions, 'host' | 'controlExchange' | 'queueMode' | 'notificationDrivers' | 'notificationTopics'>;

export class Notifier {
  constructor(
    private readonly options: NotifierOptions,
    private readonly publisher: NotificationPublisher,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Whether Nova's configuration asks for versioned notifications at all. */
  get enabled(): boolean {
    return this.options.notificationDrivers.length > 0 && this.options.notificationTopics.length > 0;
  }

  /** The queues oslo's notifier would have declared before publishing (declared on every connection). */
  topology(): Topology {
    const keys = this.options.notificationTopics.flatMap((topic) => [routingKey(topic, 'INFO'), routingKey(topic, 'ERROR')]);
    return notificationTopology({ controlExchange: this.options.controlExchange, queueMode: this.options.queueMode, routingKeys: keys });
  }

  async instanceCreate(event: InstanceCreateEvent): Promise<void> {
    if (!this.enabled) return;
    const now = this.now();
    const priority = PRIORITY[event.phase];
    const payload = instanceCreatePayload(event.source, {
      host: this.options.host,
      phase: event.phase,
      fault: event.fault ?? null,
      domain: event.domain ?? null,
      now,
    });
    const message = notificationMessage(
      { eventType: `instance.create.${event.phase}`, priority, publisherId: `nova-compute:${this.options.host}`, payload, context: event.context },
      now,
    );
    const properties = { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2 };
    await Promise.all(
      this.options.notificationDrivers.flatMap((driver) =>
        this.options.notificationTopics.map((topic) =>
          this.publisher.publish(this.options.controlExchange, routingKey(topic, priority), notificationBody(message, driver), properties),
        ),
      ),
    );
  }
}
