/**
 * Publishes Nova's versioned notifications the way nova-compute does (compute/utils.py through oslo's
 * Notifier): instance.create.* (notify_about_instance_create) and the lifecycle's instance.<action>.<phase>
 * (notify_about_instance_action). Publisher `nova-compute:<host>`, priority INFO (ERROR for an error phase),
 * one message per messaging driver and topic, on the control exchange, each confirmed by the broker.
 */
import type { LifecycleNotification } from '../compute/lifecycle.js';
import type { OperationFailed } from '../compute/operation-failed.js';
import { instanceActionPayload, type NotificationFault, type PayloadPrimitive } from '../nova/instance-payload.js';
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

/**
 * The actions whose notifications the manager sends with the instance's BDMs (_delete_instance,
 * _shutdown_instance, reboot_instance pass bdms): their payload lists the volume BDMs, none on this compute.
 * The others (stop_instance, start_instance) pass none: block_devices is then null, as with Nova's default
 * [notifications] bdms_in_notifications = False.
 */
const WITH_BDMS: ReadonlySet<LifecycleNotification['action']> = new Set(['delete', 'shutdown', 'reboot']);

type NotifierOptions = Pick<BusOptions, 'host' | 'controlExchange' | 'queueMode' | 'notificationDrivers' | 'notificationTopics'>;

/**
 * Whether Nova's configuration asks for versioned notifications at all (rpc.if_notifications_enabled): a
 * caller that would do work only to notify (Nova's lazy loads of a payload's fields) asks this first.
 */
export function versionedNotificationsEnabled(options: Pick<BusOptions, 'notificationDrivers' | 'notificationTopics'>): boolean {
  return options.notificationDrivers.length > 0 && options.notificationTopics.length > 0;
}

/** ExceptionPayload.from_exception of a failed step: the error the host or a service raised, and where. */
export function operationFault(failure: OperationFailed): NotificationFault {
  const cause = failure.cause instanceof Error ? failure.cause : failure;
  return {
    module_name: 'nova_spawnd.compute',
    function_name: failure.step,
    exception: cause.name,
    exception_message: failure.reason,
    traceback: cause.stack ?? '',
  };
}

export class Notifier {
  constructor(
    private readonly options: NotifierOptions,
    private readonly publisher: NotificationPublisher,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get enabled(): boolean {
    return versionedNotificationsEnabled(this.options);
  }

  /** The queues oslo's notifier would have declared before publishing (declared on every connection). */
  topology(): Topology {
    const keys = this.options.notificationTopics.flatMap((topic) => [routingKey(topic, 'INFO'), routingKey(topic, 'ERROR')]);
    return notificationTopology({ controlExchange: this.options.controlExchange, queueMode: this.options.queueMode, routingKeys: keys });
  }

  async instanceCreate(event: InstanceCreateEvent): Promise<void> {
    if (!this.enabled) return;
    const now = this.now();
    const payload = instanceCreatePayload(event.source, {
      host: this.options.host,
      phase: event.phase,
      fault: event.fault ?? null,
      domain: event.domain ?? null,
      now,
    });
    await this.publish(`instance.create.${event.phase}`, PRIORITY[event.phase], payload, event.context, now);
  }

  /**
   * instance.<action>.<phase> with InstanceActionPayload, made now from the Instance as the operation holds it
   * (its states as saved so far).
   */
  async instanceAction(notification: LifecycleNotification): Promise<void> {
    if (!this.enabled) return;
    const now = this.now();
    const payload = instanceActionPayload(notification.instance, {
      context: notification.context,
      fault: notification.error === undefined ? null : operationFault(notification.error),
      blockDevices: WITH_BDMS.has(notification.action) ? [] : null,
    });
    await this.publish(`instance.${notification.action}.${notification.phase}`, PRIORITY[notification.phase], payload, notification.context, now);
  }

  private async publish(eventType: string, priority: NotificationPriority, payload: PayloadPrimitive, context: Record<string, unknown>, now: Date): Promise<void> {
    const message = notificationMessage({ eventType, priority, publisherId: `nova-compute:${this.options.host}`, payload, context }, now);
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
