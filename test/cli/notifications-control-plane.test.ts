/**
 * The versioned notifications of `nova-spawnd run` as a compute service of the real Nova 26 control plane of
 * scripts/control-plane ([notifications] notification_format = versioned, messagingv2), heard by oslo's
 * notification listener on the control plane's vhost (a topic of this test's own), Nova's objects reading each
 * payload: `server create`, `server stop` and `server delete` through nova-api give instance.create.start/end,
 * instance.power_off.start/end and instance.delete.start, shutdown.start/end, delete.end, in Nova's order and
 * with Nova's states. nova-api's stop cast carries no flavor: the payloads have it, loaded through
 * nova-conductor. The delete.end payload is, field by field, the InstanceActionPayload Nova's own code makes
 * for the deleted instance as the control plane's database holds it (test/helpers/nova_action_payload.py).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import type { PayloadPrimitive } from '../../src/nova/instance-payload.js';
import { listen, type ListenedNotification } from '../bus/helpers/oslo-listener.js';
import { eventually } from '../bus/helpers/rabbit.js';
import { COMPUTE_API, ComputeHost, remove, settled, type Server } from '../control-plane/compute-host.js';
import { computeHostConfig, CONTROL_PLANE_START_MS, openstack, startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { runPython } from '../metadata/python.js';

const SUFFIX = randomBytes(4).toString('hex');
const HOST = `compute-notify-${SUFFIX}`;
/** A topic of this test's own: nothing else on the control plane publishes to it or reads it. */
const TOPIC = `spawnd_notifications_${SUFFIX}`;
const HELPER = fileURLToPath(new URL('../helpers/nova_action_payload.py', import.meta.url));

let plane: ControlPlane;
let dir: string;
let host: ComputeHost;
const cleanups: (() => Promise<unknown>)[] = [];
/** Whether the test got to its end: the daemon's log is kept when it did not. */
let passed = false;

beforeAll(async () => {
  plane = await startControlPlane();
  dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-notify-cp-'));
  const config = join(dir, 'nova.conf');
  writeFileSync(
    config,
    computeHostConfig(plane, HOST, dir, {
      // Nothing but the casts changes a domain here.
      DEFAULT: { sync_power_state_interval: '-1', running_deleted_instance_poll_interval: '-1' },
      glance: { api_servers: plane.glance_url },
      oslo_messaging_notifications: { driver: 'messagingv2' },
      notifications: { notification_format: 'versioned', versioned_notifications_topics: TOPIC },
    }),
  );
  host = new ComputeHost(plane, HOST, config);
  await host.start();
  await host.waitUntilListed();
}, CONTROL_PLANE_START_MS);

afterAll(async () => {
  if (!passed) {
    const kept = join(os.tmpdir(), `nova-spawnd-notify-cp-${SUFFIX}.log`);
    writeFileSync(kept, host?.stderr ?? '');
    console.warn(`the daemon's log is kept in ${kept}`);
  }
  try {
    if (host) await host.retire();
    for (const cleanup of cleanups.reverse()) await cleanup();
    // The queues of the topic, which oslo's listener and the daemon declared and nothing deletes.
    if (plane) {
      const connection = await amqp.connect(plane.transport_url.replace(/^rabbit:/, 'amqp:'));
      const channel = await connection.createChannel();
      for (const priority of ['audit', 'debug', 'info', 'warn', 'error', 'critical', 'sample']) await channel.deleteQueue(`${TOPIC}.${priority}`);
      await connection.close();
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);

async function server(id: string): Promise<Server> {
  return (await openstack(plane, 'compute', [...COMPUTE_API, 'server', 'show', id])) as Server;
}

/** `server stop` (POST os-stop), asked again while nova-api answers 500 (a loaded control plane, now and then). */
async function stopServer(id: string): Promise<void> {
  await eventually('os-stop accepted', async () => {
    const response = await fetch(`${plane.compute_url}/servers/${id}/action`, {
      method: 'POST',
      headers: { 'X-Auth-Token': plane.token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ 'os-stop': null }),
    });
    if (response.status === 202) return true;
    if (response.status === 500) return undefined;
    throw new Error(`os-stop: HTTP ${response.status} ${await response.text()}`);
  }, 30_000, 1_000);
}

test("create, stop and delete through nova-api: Nova's notifications in Nova's order, read by Nova's objects; delete.end is Nova's own payload", async () => {
  const flavorName = `notify-${SUFFIX}`;
  const flavor = (await openstack(plane, 'compute', ['flavor', 'create', '--ram', '64', '--vcpus', '1', '--disk', '1', flavorName])) as { id: string };
  cleanups.push(() => remove(plane, `${plane.compute_url}/flavors/${flavor.id}`));
  const { heard } = await listen(plane.transport_url, 8, { timeoutS: 240, topic: TOPIC });

  const id = await host.createServer(`notify-${SUFFIX}`, ['--image', plane.image_id, '--flavor', flavorName]);
  const built = await settled(plane, id);
  expect({ status: built.status, fault: built['fault'] }).toEqual({ status: 'ACTIVE', fault: undefined });
  await stopServer(id);
  await eventually('SHUTOFF', async () => ((await server(id)).status === 'SHUTOFF' ? true : undefined), 60_000, 1_000);
  await remove(plane, `${plane.compute_url}/servers/${id}`);
  await eventually('deleted', async () => ((await fetch(`${plane.compute_url}/servers/${id}`, { headers: { 'X-Auth-Token': plane.token } })).status === 404 ? true : undefined), 60_000, 1_000);
  const notifications = await heard;

  expect(notifications.map((notification) => `${notification.event_type} ${notification.priority}`)).toEqual([
    'instance.create.start INFO',
    'instance.create.end INFO',
    'instance.power_off.start INFO',
    'instance.power_off.end INFO',
    'instance.delete.start INFO',
    'instance.shutdown.start INFO',
    'instance.shutdown.end INFO',
    'instance.delete.end INFO',
  ]);
  for (const notification of notifications) {
    expect(notification).toMatchObject({ publisher_id: `nova-compute:${HOST}`, auth_token: null });
    // Nova's objects read every payload, with the flavor (which the stop's cast did not carry).
    expect(notification.nova).toMatchObject({ uuid: id, flavor_memory_mb: 64, fault: null });
    expect(notification.nova.error).toBeUndefined();
  }
  const [, , ...actions] = notifications;
  expect(actions.map(({ nova }) => [nova.class, nova.version, nova.state, nova.task_state, nova.power_state])).toEqual([
    ['InstanceActionPayload', '1.8', 'active', 'powering-off', 'running'],
    ['InstanceActionPayload', '1.8', 'stopped', null, 'shutdown'],
    ['InstanceActionPayload', '1.8', 'stopped', 'deleting', 'shutdown'],
    ['InstanceActionPayload', '1.8', 'stopped', 'deleting', 'shutdown'],
    ['InstanceActionPayload', '1.8', 'stopped', 'deleting', 'shutdown'],
    ['InstanceActionPayload', '1.8', 'deleted', null, 'pending'],
  ]);
  // One request each: the stop's notifications carry its request id, the delete's another.
  const requests = actions.map((notification) => notification.request_id);
  expect(new Set(requests.slice(0, 2)).size).toBe(1);
  expect(new Set(requests.slice(2)).size).toBe(1);
  expect(requests[0]).not.toBe(requests[2]);
  const data = (notification: ListenedNotification): Record<string, unknown> => notification.payload['nova_object.data'];
  expect((data(actions[0]!)['flavor'] as PayloadPrimitive)['nova_object.data']).toMatchObject({ name: flavorName, memory_mb: 64, disabled: false, is_public: true });
  expect(data(actions[0]!)).toMatchObject({ block_devices: null, ip_addresses: [], host: HOST, request_id: requests[0], action_initiator_project: 'admin' });

  // delete.end against Nova's own payload of the deleted instance as the database holds it.
  const deleteEnd = actions.at(-1)!;
  const nova = JSON.parse(await runPython([HELPER, plane.nova_conf, id], { context: deleteEnd.context, bdms: true })) as PayloadPrimitive;
  const ours = deleteEnd.payload;
  expect({ ...ours, 'nova_object.data': undefined }).toEqual({ ...nova, 'nova_object.data': undefined });
  const fields = new Set([...Object.keys(ours['nova_object.data']), ...Object.keys(nova['nova_object.data'])]);
  expect(fields.size).toBeGreaterThan(35);
  for (const field of fields) expect({ field, value: ours['nova_object.data'][field] }).toEqual({ field, value: nova['nova_object.data'][field] });
  passed = true;
}, 420_000);
