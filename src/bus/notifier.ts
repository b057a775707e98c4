/**
 * Publishes Nova's notifications the way nova-compute does, in the formats [notifications]
 * notification_format asks for (bus-options.ts notificationStreams):
 * - versioned (compute/utils.py through oslo's Notifier): instance.create.* (notify_about_instance_create)
 *   and the lifecycle's instance.<action>.<phase> (notify_about_instance_action), publisher
 *   `nova-compute:<host>`, to [notifications] versioned_notifications_topics;
 * - legacy (notify_about_instance_usage, the manager's _notify_about_instance_usage beside each of those):
 *   compute.instance.create.* and compute.instance.<action>.<phase>, publisher `compute.<host>`, to
 *   [oslo_messaging_notifications] topics.
 * Priority INFO (ERROR for an error phase), one message per messaging driver and topic, on the control
 * exchange, each confirmed by the broker. compute.instance.update ([notifications] notify_on_state_change) is
 * not ours: Nova sends it from Instance.save, which runs in nova-conductor.
 */
import type { LifecycleNotification } from '../compute/lifecycle.js';
import type { OperationFailed } from '../compute/operation-failed.js';
import { instanceActionPayload, type NotificationFault, type PayloadPrimitive } from '../nova/instance-payload.js';
import { instanceUsageInfo, type UsageInstance } from '../nova/instance-usage.js';
import { WireObject } from '../nova/wire-object.js';
import type { BusOptions, NotificationStream } from './bus-options.js';
import { imageRefUrl } from './image-ref-url.js';
import { createUsageInstance, instanceCreatePayload, type CreatePhase, type PayloadSource } from './instance-create-payload.js';
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

type NotifierOptions = Pick<BusOptions, 'host' | 'controlExchange' | 'queueMode' | 'notifications' | 'image'>;

function streamEnabled(stream: NotificationStream): boolean {
  return stream.drivers.length > 0 && stream.topics.length > 0;
}

/**
 * Whether Nova's configuration asks for any notification at all: a caller that would do work only to notify
 * (Nova's lazy loads of a payload's fields) asks this first.
 */
export function notificationsEnabled(options: Pick<BusOptions, 'notifications'>): boolean {
  return streamEnabled(options.notifications.versioned) || streamEnabled(options.notifications.legacy);
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
    return notificationsEnabled(this.options);
  }

  private get versioned(): NotificationStream | null {
    return streamEnabled(this.options.notifications.versioned) ? this.options.notifications.versioned : null;
  }

  private get legacy(): NotificationStream | null {
    return streamEnabled(this.options.notifications.legacy) ? this.options.notifications.legacy : null;
  }

  /** The queues oslo's notifiers would have declared before publishing (declared on every connection). */
  topology(): Topology {
    const topics = [this.versioned, this.legacy].flatMap((stream) => stream?.topics ?? []);
    const keys = [...new Set(topics)].flatMap((topic) => [routingKey(topic, 'INFO'), routingKey(topic, 'ERROR')]);
    return notificationTopology({ controlExchange: this.options.controlExchange, queueMode: this.options.queueMode, routingKeys: keys });
  }

  /**
   * compute.instance.create.<phase> then instance.create.<phase>, as _build_and_run_instance sends them:
   * the legacy one with the image's name (start), 'Success' and the network info (end), the fault (error).
   */
  async instanceCreate(event: InstanceCreateEvent): Promise<void> {
    const now = this.now();
    const priority = PRIORITY[event.phase];
    const sent: Promise<void>[] = [];
    const fault = event.fault ?? null;
    if (this.legacy) {
      const instance = createUsageInstance(event.source, { host: this.options.host, phase: event.phase, now });
      const request = 'request' in event.source ? event.source.request : null;
      const extra: Record<string, unknown> =
        event.phase === 'start' ? { image_name: request?.image.name ?? null } : event.phase === 'end' ? { message: 'Success' } : {};
      const payload = instanceUsageInfo(instance, {
        imageRefUrl: this.imageRefUrl(instance, event.context),
        networkInfo: event.phase === 'end' && request ? request.instance.network_info : null,
        extra,
        fault,
      });
      sent.push(this.publish(this.legacy, `compute.instance.create.${event.phase}`, priority, `compute.${this.options.host}`, payload, event.context, now));
    }
    if (this.versioned) {
      const payload = instanceCreatePayload(event.source, { host: this.options.host, phase: event.phase, fault, domain: event.domain ?? null, now });
      sent.push(this.publish(this.versioned, `instance.create.${event.phase}`, priority, `nova-compute:${this.options.host}`, payload, event.context, now));
    }
    await Promise.all(sent);
  }

  /**
   * compute.instance.<action>.<phase> (info_from_instance) and instance.<action>.<phase>
   * (InstanceActionPayload), made now from the Instance as the operation holds it (its states as saved so far).
   */
  async instanceAction(notification: LifecycleNotification): Promise<void> {
    const now = this.now();
    const priority = PRIORITY[notification.phase];
    const eventType = `instance.${notification.action}.${notification.phase}`;
    const fault = notification.error === undefined ? null : operationFault(notification.error);
    const sent: Promise<void>[] = [];
    if (this.legacy) {
      const { instance } = notification;
      const flavor = instance.get('flavor');
      const source: UsageInstance = { field: (name) => instance.get(name), flavor: (name) => (flavor instanceof WireObject ? flavor.get(name) : undefined) };
      const payload = instanceUsageInfo(source, { imageRefUrl: this.imageRefUrl(source, notification.context), networkInfo: null, extra: {}, fault });
      sent.push(this.publish(this.legacy, `compute.${eventType}`, priority, `compute.${this.options.host}`, payload, notification.context, now));
    }
    if (this.versioned) {
      const payload = instanceActionPayload(notification.instance, {
        context: notification.context,
        fault,
        blockDevices: WITH_BDMS.has(notification.action) ? [] : null,
      });
      sent.push(this.publish(this.versioned, eventType, priority, `nova-compute:${this.options.host}`, payload, notification.context, now));
    }
    await Promise.all(sent);
  }

  private imageRefUrl(instance: UsageInstance, context: Record<string, unknown>): string | null {
    const imageRef = instance.field('image_ref');
    return imageRefUrl(this.options.image, typeof imageRef === 'string' ? imageRef : null, context);
  }

  private async publish(
    stream: NotificationStream,
    eventType: string,
    priority: NotificationPriority,
    publisherId: string,
    payload: PayloadPrimitive | Record<string, unknown>,
    context: Record<string, unknown>,
    now: Date,
  ): Promise<void> {
    const message = notificationMessage({ eventType, priority, publisherId, payload, context }, now);
    const properties = { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2 };
    await Promise.all(
      stream.drivers.flatMap((driver) =>
        stream.topics.map((topic) => this.publisher.publish(this.options.controlExchange, routingKey(topic, priority), notificationBody(message, driver), properties)),
      ),
    );
  }
}
