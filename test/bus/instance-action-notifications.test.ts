/**
 * The lifecycle's versioned notifications as the Notifier publishes them, against Nova's own: NovaLifecycle on
 * the stand-ins of its unit test stops, starts, reboots (the reboot failing with the guest still running:
 * reboot.error) and deletes Nova's instance, cast as nova-api casts it (a stop and a start without the flavor
 * and info cache, which the lifecycle loads). Each message's event type, priority, publisher and context are
 * checked, and each payload is, field by field, the InstanceActionPayload that Nova's own code makes
 * (test/helpers/nova_action_payload.py) for the Instance the lifecycle held when it notified.
 */
import { fileURLToPath } from 'node:url';
import { Notifier, type NotificationPublisher } from '../../src/bus/notifier.js';
import type { LifecycleNotification } from '../../src/compute/lifecycle.js';
import { POWER_STATE } from '../../src/compute/driver.js';
import type { PayloadPrimitive } from '../../src/nova/instance-payload.js';
import { runPython } from '../metadata/python.js';
import { INSTANCE_UUID } from '../nova/nova-scenarios.js';
import { HOST, hostError, novaCast, setupLifecycle, type NovaCast } from '../compute/lifecycle-stand-ins.js';

const HELPER = fileURLToPath(new URL('../helpers/nova_action_payload.py', import.meta.url));

let nova: NovaCast;

beforeAll(async () => {
  nova = await novaCast();
}, 60_000);

interface Published {
  routingKey: string;
  message: Record<string, unknown> & { event_type: string; priority: string; publisher_id: string; payload: PayloadPrimitive };
}

/** What Nova's code is given for the same notification: the Instance as the lifecycle held it then. */
interface NovaInput {
  instance: Record<string, unknown>;
  context: Record<string, unknown>;
  bdms: boolean;
  fault: Record<string, unknown> | null;
}

function notifierOn(published: Published[]): Notifier {
  const publisher: NotificationPublisher = {
    publish: async (_exchange, routingKey, body) => {
      const envelope = JSON.parse(body.toString()) as { 'oslo.message': string };
      published.push({ routingKey, message: JSON.parse(envelope['oslo.message']) as Published['message'] });
    },
  };
  const options = {
    host: HOST,
    controlExchange: 'nova',
    queueMode: { quorum: false, durable: false, autoDelete: false },
    notifications: { versioned: { drivers: ['messagingv2' as const], topics: ['versioned_notifications'] }, legacy: { drivers: [], topics: ['notifications'] } },
    image: { apiServers: [], endpointOverride: null, filter: { service_type: 'image', service_name: null, valid_interfaces: ['internal', 'public'], region_name: null } },
  };
  return new Notifier(options, publisher);
}

test("stop, start, a failed reboot and a delete: Nova's event types, priorities and contexts, and Nova's own payload for each", async () => {
  const published: Published[] = [];
  const inputs: NovaInput[] = [];
  const notifier = notifierOn(published);
  const notify = async (notification: LifecycleNotification): Promise<void> => {
    const count = published.length;
    await notifier.instanceAction(notification);
    const payload = published.at(-1)!.message.payload['nova_object.data'];
    expect(published).toHaveLength(count + 1);
    inputs.push({
      instance: notification.instance.toPrimitive(),
      context: notification.context,
      bdms: payload['block_devices'] !== null,
      fault: (payload['fault'] as PayloadPrimitive | null)?.['nova_object.data'] ?? null,
    });
  };
  const { row, failures, conductor, lifecycle } = setupLifecycle({ task_state: 'powering-off' }, { notify });
  // What Instance.get_by_uuid answers when the lifecycle loads what a payload reads.
  conductor.loadable.set(INSTANCE_UUID, nova.castOf({ vm_state: 'active', task_state: 'powering-off', power_state: POWER_STATE.RUNNING }).instance);
  const fromApi = ['flavor', 'info_cache'];

  await lifecycle.stop(nova.castOf({ vm_state: 'active', task_state: 'powering-off', power_state: POWER_STATE.RUNNING }, fromApi), true);
  row.task_state = 'powering-on';
  await lifecycle.start(nova.castOf({ vm_state: 'stopped', task_state: 'powering-on', power_state: POWER_STATE.SHUTDOWN }, fromApi));
  row.task_state = 'rebooting';
  failures.set('driver.reboot', hostError('guest agent did not answer', false));
  await lifecycle.reboot(nova.castOf({ vm_state: 'active', task_state: 'rebooting', power_state: POWER_STATE.RUNNING }), 'SOFT');
  failures.clear();
  row.task_state = 'deleting';
  await lifecycle.terminate(nova.castOf({ vm_state: 'active', task_state: 'deleting', power_state: POWER_STATE.RUNNING }));

  const events = published.map(({ message }) => `${message.event_type} ${message.priority}`);
  expect(events).toEqual([
    'instance.power_off.start INFO',
    'instance.power_off.end INFO',
    'instance.power_on.start INFO',
    'instance.power_on.end INFO',
    'instance.reboot.start INFO',
    'instance.reboot.error ERROR',
    'instance.reboot.end INFO',
    'instance.delete.start INFO',
    'instance.shutdown.start INFO',
    'instance.shutdown.end INFO',
    'instance.delete.end INFO',
  ]);
  for (const { routingKey, message } of published) {
    expect(routingKey).toBe(`versioned_notifications.${message.priority.toLowerCase()}`);
    expect(message).toMatchObject({ publisher_id: `nova-compute:${HOST}`, _context_request_id: nova.context['request_id'], _context_user_id: nova.context['user_id'] });
    expect(message).not.toHaveProperty('_context_auth_token');
    // _shutdown_instance and _reboot_instance notify with the context elevated.
    expect(message['_context_is_admin']).toBe(/shutdown|reboot/.test(message.event_type));
  }

  // The states each payload shows, as Nova's manager has the instance when it notifies.
  const states = published.map(({ message }) => {
    const data = message.payload['nova_object.data'];
    return [message.event_type.split('.').slice(1).join('.'), data['state'], data['task_state'], data['power_state']];
  });
  expect(states).toEqual([
    ['power_off.start', 'active', 'powering-off', 'running'],
    ['power_off.end', 'stopped', null, 'shutdown'],
    ['power_on.start', 'stopped', 'powering-on', 'shutdown'],
    ['power_on.end', 'active', null, 'running'],
    ['reboot.start', 'active', 'reboot_pending', 'running'],
    ['reboot.error', 'active', 'reboot_started', 'running'],
    ['reboot.end', 'active', null, 'running'],
    ['delete.start', 'active', 'deleting', 'running'],
    ['shutdown.start', 'active', 'deleting', 'running'],
    ['shutdown.end', 'active', 'deleting', 'running'],
    ['delete.end', 'deleted', null, 'pending'],
  ]);
  const fault = published[5]!.message.payload['nova_object.data']['fault'] as PayloadPrimitive;
  expect(fault['nova_object.name']).toBe('ExceptionPayload');
  expect(fault['nova_object.data']).toMatchObject({ exception: 'LibvirtError', exception_message: 'LibvirtError: guest agent did not answer', function_name: 'reboot' });

  // Nova's own payloads for the same instances, field by field.
  const novaPayloads = JSON.parse(await runPython([HELPER], inputs)) as PayloadPrimitive[];
  expect(novaPayloads).toHaveLength(published.length);
  published.forEach(({ message }, index) => {
    const ours = message.payload;
    const theirs = novaPayloads[index]!;
    expect({ event: message.event_type, ...ours, 'nova_object.data': undefined }).toEqual({ event: message.event_type, ...theirs, 'nova_object.data': undefined });
    const fields = new Set([...Object.keys(ours['nova_object.data']), ...Object.keys(theirs['nova_object.data'])]);
    for (const field of fields) {
      expect({ event: message.event_type, field, value: ours['nova_object.data'][field] }).toEqual({ event: message.event_type, field, value: theirs['nova_object.data'][field] });
    }
  });
  // The payload's parts that come from what the stop and start loaded, and the delete's end.
  const powerOffStart = published[0]!.message.payload['nova_object.data'];
  expect((powerOffStart['flavor'] as PayloadPrimitive)['nova_object.data']).toMatchObject({ flavorid: 'pinned-4', memory_mb: 4096, rxtx_factor: 1, is_public: true });
  expect(powerOffStart['ip_addresses']).toHaveLength(2);
  expect(powerOffStart['block_devices']).toBeNull();
  expect(published[10]!.message.payload['nova_object.data']).toMatchObject({ terminated_at: '2026-12-02T03:04:05Z', block_devices: [] });
}, 60_000);
