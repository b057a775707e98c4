/**
 * The legacy (unversioned) notifications as the Notifier publishes them with Nova's default
 * notification_format, against Nova's own: compute_utils.notify_about_instance_usage run by Nova's code
 * (test/helpers/nova_usage_payload.py) for the same instance, event by event and field by field, with its
 * event type, priority and publisher. The lifecycle (stop, start, a failed reboot, delete) on the stand-ins
 * of its unit test, and a build's create.start, create.end and create.error from Nova's build cast.
 */
import { fileURLToPath } from 'node:url';
import type { NotificationStreams } from '../../src/bus/bus-options.js';
import { createUsageInstance } from '../../src/bus/instance-create-payload.js';
import { Notifier, type InstanceCreateEvent, type NotificationPublisher } from '../../src/bus/notifier.js';
import { decodeBody } from '../../src/bus/oslo-envelope.js';
import { operationOf } from '../../src/bus/spawn-message.js';
import { POWER_STATE } from '../../src/compute/driver.js';
import type { LifecycleNotification } from '../../src/compute/lifecycle.js';
import type { SpawnRequest } from '../../src/nova/spawn-request.js';
import { runPython } from '../metadata/python.js';
import { INSTANCE_UUID } from '../nova/nova-scenarios.js';
import { novaWireBody } from '../nova/wire-bodies.js';
import { HOST, hostError, novaCast, NOW, setupLifecycle, type NovaCast } from '../compute/lifecycle-stand-ins.js';

const HELPER = fileURLToPath(new URL('../helpers/nova_usage_payload.py', import.meta.url));
const GLANCE = 'http://glance.test:9292';

interface Message {
  event_type: string;
  priority: string;
  publisher_id: string;
  payload: Record<string, unknown>;
  [key: string]: unknown;
}

interface Published {
  routingKey: string;
  message: Message;
}

/** What Nova's code is given for the same notification. */
interface NovaInput {
  instance: Record<string, unknown>;
  context: Record<string, unknown>;
  event_suffix: string;
  network_info: unknown;
  extra_usage_info: Record<string, unknown>;
  fault: { exception: string; exception_message: string } | null;
}

function notifierOn(published: Published[], notifications: NotificationStreams): Notifier {
  const publisher: NotificationPublisher = {
    publish: async (_exchange, routingKey, body) => {
      const envelope = JSON.parse(body.toString()) as { 'oslo.message': string };
      published.push({ routingKey, message: JSON.parse(envelope['oslo.message']) as Message });
    },
  };
  const image = { apiServers: [GLANCE], endpointOverride: null, filter: { service_type: 'image', service_name: null, valid_interfaces: ['internal', 'public'], region_name: null } };
  return new Notifier({ host: HOST, controlExchange: 'nova', queueMode: { quorum: false, durable: false, autoDelete: false }, notifications, image }, publisher, () => NOW);
}

const UNVERSIONED: NotificationStreams = { versioned: { drivers: [], topics: ['versioned_notifications'] }, legacy: { drivers: ['messagingv2'], topics: ['notifications'] } };

/** Nova's notifications for `inputs`, then each of ours compared with Nova's, field by field. */
async function expectNovas(published: Published[], inputs: NovaInput[]): Promise<void> {
  const novas = JSON.parse(await runPython([HELPER, HOST, GLANCE], inputs)) as Message[];
  expect(novas).toHaveLength(published.length);
  published.forEach(({ routingKey, message }, index) => {
    const theirs = novas[index]!;
    const event = message.event_type;
    expect({ event, priority: message.priority, publisher: message.publisher_id, routingKey }).toEqual({
      event: theirs.event_type,
      priority: theirs.priority,
      publisher: theirs.publisher_id,
      routingKey: `notifications.${theirs.priority.toLowerCase()}`,
    });
    const fields = new Set([...Object.keys(message.payload), ...Object.keys(theirs.payload)]);
    for (const field of fields) {
      expect({ event, field, value: message.payload[field] }).toEqual({ event, field, value: theirs.payload[field] });
    }
  });
}

let nova: NovaCast;

beforeAll(async () => {
  nova = await novaCast();
}, 60_000);

test("the lifecycle's compute.instance.* with Nova's default format: Nova's event types, priorities, publisher and payloads", async () => {
  const published: Published[] = [];
  const inputs: NovaInput[] = [];
  const notifier = notifierOn(published, UNVERSIONED);
  const notify = async (notification: LifecycleNotification): Promise<void> => {
    const count = published.length;
    await notifier.instanceAction(notification);
    expect(published).toHaveLength(count + 1);
    const error = notification.error;
    inputs.push({
      instance: notification.instance.toPrimitive(),
      context: notification.context,
      event_suffix: `${notification.action}.${notification.phase}`,
      network_info: null,
      extra_usage_info: {},
      fault: error === undefined ? null : { exception: (error.cause as Error).name, exception_message: error.reason },
    });
  };
  const { row, failures, conductor, lifecycle } = setupLifecycle({ task_state: 'powering-off' }, { notify });
  // Columns of Nova's row that the build cast's Instance, made before it was saved, lacks.
  const castOf = (data: Record<string, unknown>, leftOut?: string[]) => nova.castOf({ instance_type_id: 7, cell_name: null, access_ip_v4: '192.0.2.9', access_ip_v6: null, ...data }, leftOut);
  conductor.loadable.set(INSTANCE_UUID, castOf({ vm_state: 'active', task_state: 'powering-off', power_state: POWER_STATE.RUNNING }).instance);
  // nova-api's stop and start casts lack the joined fields, which the lifecycle loads.
  const fromApi = ['flavor', 'info_cache'];

  await lifecycle.stop(castOf({ vm_state: 'active', task_state: 'powering-off', power_state: POWER_STATE.RUNNING, progress: 42 }, fromApi), true);
  row.task_state = 'powering-on';
  await lifecycle.start(castOf({ vm_state: 'stopped', task_state: 'powering-on', power_state: POWER_STATE.SHUTDOWN }, fromApi));
  row.task_state = 'rebooting';
  failures.set('driver.reboot', hostError("guest agent did not answer: 'ping'", false));
  await lifecycle.reboot(castOf({ vm_state: 'active', task_state: 'rebooting', power_state: POWER_STATE.RUNNING }), 'SOFT');
  failures.clear();
  row.task_state = 'deleting';
  await lifecycle.terminate(castOf({ vm_state: 'active', task_state: 'deleting', power_state: POWER_STATE.RUNNING }));

  expect(published.map(({ message }) => `${message.event_type} ${message.priority}`)).toEqual([
    'compute.instance.power_off.start INFO',
    'compute.instance.power_off.end INFO',
    'compute.instance.power_on.start INFO',
    'compute.instance.power_on.end INFO',
    'compute.instance.reboot.start INFO',
    'compute.instance.reboot.error ERROR',
    'compute.instance.reboot.end INFO',
    'compute.instance.delete.start INFO',
    'compute.instance.shutdown.start INFO',
    'compute.instance.shutdown.end INFO',
    'compute.instance.delete.end INFO',
  ]);
  for (const { message } of published) {
    expect(message).toMatchObject({ publisher_id: `compute.${HOST}`, _context_request_id: nova.context['request_id'] });
    expect(message).not.toHaveProperty('_context_auth_token');
  }
  const powerOffStart = published[0]!.message.payload;
  // What the stop loaded (the flavor), the columns the cast has, and Nova's formats.
  expect(powerOffStart).toMatchObject({ instance_id: INSTANCE_UUID, instance_type_id: 7, access_ip_v4: '192.0.2.9', instance_flavor_id: 'pinned-4', memory_mb: 4096, progress: 42, image_ref_url: expect.stringMatching(/^http:\/\/glance\.test:9292\/images\//) });
  expect(published[5]!.message.payload).toMatchObject({ code: 500, message: expect.stringContaining('guest agent did not answer') });
  expect(published[10]!.message.payload).toMatchObject({ state: 'deleted', terminated_at: '2026-12-02T03:04:05.000000' });
  await expectNovas(published, inputs);
}, 60_000);

test("a build's compute.instance.create.start, .end and .error, and with notification_format both the versioned ones too", async () => {
  const wire = await novaWireBody('full', '6.0');
  const operation = operationOf(decodeBody(wire.body, wire.content_type));
  if (operation.kind !== 'build' || operation.cast === null) throw new Error('expected a build cast');
  const request: SpawnRequest = operation.request;
  const context = operation.cast.context;
  const published: Published[] = [];
  const notifier = notifierOn(published, { versioned: { drivers: ['messagingv2'], topics: ['versioned_notifications'] }, legacy: UNVERSIONED.legacy });
  const fault = { module_name: 'nova_spawnd.compute', function_name: 'define', exception: 'OperationFailed', exception_message: 'libvirt refused the domain: "bad" XML', traceback: '' };
  const events: InstanceCreateEvent[] = [
    { phase: 'start', source: { request }, context },
    { phase: 'end', source: { request }, context, domain: 'instance-000004d2' },
    { phase: 'error', source: { request }, context, fault },
  ];
  for (const event of events) await notifier.instanceCreate(event);
  expect(published.map(({ routingKey, message }) => `${routingKey} ${message.event_type}`).sort()).toEqual([
    'notifications.error compute.instance.create.error',
    'notifications.info compute.instance.create.end',
    'notifications.info compute.instance.create.start',
    'versioned_notifications.error instance.create.error',
    'versioned_notifications.info instance.create.end',
    'versioned_notifications.info instance.create.start',
  ]);
  const legacy = published.filter(({ message }) => message.event_type.startsWith('compute.'));
  expect(legacy[0]!.message.payload).toMatchObject({ image_name: request.image.name, state: 'building' });
  expect(legacy[1]!.message.payload).toMatchObject({ message: 'Success', state: 'active', launched_at: '2026-12-02T03:04:05.000000' });
  expect((legacy[1]!.message.payload['fixed_ips'] as unknown[]).length).toBeGreaterThan(0);
  expect(legacy[2]!.message.payload).toMatchObject({ message: fault.exception_message, code: 500 });

  // Nova's code given the Instance as the daemon knows it at each phase: the cast's, with the states, host and
  // launched_at of the phase, and without what only Nova's database row has (created_at, ...; the system
  // metadata's null values, which the request drops).
  const inputs = events.map((event, index): NovaInput => {
    const known = createUsageInstance(event.source, { host: HOST, phase: event.phase, now: NOW });
    const instance = JSON.parse(JSON.stringify(operation.cast!.instance)) as { 'nova_object.data': Record<string, unknown> };
    const data = instance['nova_object.data'];
    const fields = ['vm_state', 'task_state', 'host', 'node', 'launched_at', 'created_at', 'instance_type_id', 'cell_name', 'access_ip_v4', 'access_ip_v6', 'progress', 'os_type', 'architecture', 'system_metadata'];
    for (const field of fields) {
      data[field] = known.field(field) ?? null;
    }
    return {
      instance,
      context,
      event_suffix: `create.${event.phase}`,
      network_info: event.phase === 'end' ? (data['info_cache'] as { 'nova_object.data': { network_info: unknown } })['nova_object.data'].network_info : null,
      extra_usage_info: { start: { image_name: request.image.name }, end: { message: 'Success' }, error: {} }[event.phase],
      fault: index === 2 ? { exception: fault.exception, exception_message: fault.exception_message } : null,
    };
  });
  await expectNovas(legacy, inputs);
}, 60_000);
