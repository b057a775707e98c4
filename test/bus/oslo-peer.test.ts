/**
 * The daemon among its real peers on the real RabbitMQ: Nova's own ComputeAPI and oslo.messaging's RPC
 * client (test/bus/helpers/oslo_peer.py) send to it, oslo's notification listener reads what it
 * publishes and Nova's notification objects validate the payloads, and oslo's RPC server declares the
 * same queues and exchanges it does.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { InstanceEvents } from '../../src/compute/instance-events.js';
import { getLogger } from '../../src/log.js';
import { SpawnDaemon } from '../../src/bus/spawn-daemon.js';
import { DEBIAN_PYTHON } from '../metadata/python.js';
import { PEER, peer } from './helpers/oslo-peer.js';
import { busOptions, daemonSections } from './helpers/config.js';
import { CACHED_IMAGE_ID, standaloneCompute, testCompute, type TestCompute } from './helpers/compute.js';
import { newInstance } from './helpers/messages.js';
import { listen } from './helpers/oslo-listener.js';
import { createVhost, eventually, listDeclarations, type TestVhost } from './helpers/rabbit.js';

const HOST = 'compute-peer';

let vhost: TestVhost;
let compute: TestCompute;
let daemon: SpawnDaemon;
/** Where the daemon's compute manager delivers external events. */
const events = new InstanceEvents();

beforeAll(async () => {
  [vhost, compute] = await Promise.all([createVhost('peer'), testCompute()]);
  daemon = new SpawnDaemon({ bus: busOptions(daemonSections(HOST, vhost.url)) }, { compute: standaloneCompute(compute.spawner, compute.driver, {}, events), log: getLogger('test.peer') });
  daemon.start();
  await daemon.ready();
}, 60_000);

afterAll(async () => {
  await daemon?.stop(10_000);
  await compute?.close();
  await vhost?.remove();
});

async function running(uuid: string): Promise<string> {
  return eventually(`instance ${uuid} running`, async () => {
    const status = await compute.connection.lookupByUuid(uuid);
    return status?.state === 'running' ? status.name : undefined;
  });
}

test("Nova's ComputeAPI casts build_and_run_instance: the guest runs, and oslo's listener gets start and end that Nova's objects accept", async () => {
  const instance = newInstance();
  const { heard } = await listen(vhost.url, 2);
  const sent = await peer('cast', vhost.url, HOST, instance.uuid, String(instance.id), CACHED_IMAGE_ID);
  const domain = await running(instance.uuid);
  const [start, end] = await heard;

  for (const notification of [start!, end!]) {
    expect(notification).toMatchObject({ priority: 'INFO', publisher_id: `nova-compute:${HOST}`, request_id: sent['request_id'], auth_token: null });
    expect(notification.nova).toEqual({
      class: 'InstanceCreatePayload',
      version: '1.12',
      uuid: instance.uuid,
      state: expect.any(String),
      task_state: null,
      power_state: expect.any(String),
      flavor_memory_mb: 64,
      fault: null,
    });
    // oslo's str(timeutils.utcnow()).
    expect(notification.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$/);
  }
  expect([start!.event_type, start!.nova.state]).toEqual(['instance.create.start', 'building']);
  expect([end!.event_type, end!.nova.state]).toEqual(['instance.create.end', 'active']);
  expect(domain).toBe(`instance-${instance.id.toString(16).padStart(8, '0')}`);

  // Field by field, the start payload is the one Nova's compute manager builds for the same instance.
  const nova = sent['nova_payload'] as { 'nova_object.data': Record<string, unknown>; 'nova_object.version': string };
  const ours = start!.payload['nova_object.data'];
  expect(start!.payload['nova_object.version']).toBe(nova['nova_object.version']);
  const unknowable = ['created_at', 'updated_at', 'flavor'];
  const shared = Object.keys(nova['nova_object.data']).filter((key) => !unknowable.includes(key));
  expect(shared.length).toBeGreaterThan(30);
  expect(ours['keypairs']).toHaveLength(1);
  expect(ours['ip_addresses']).toHaveLength(1);
  expect(Object.fromEntries(shared.map((key) => [key, ours[key]]))).toEqual(Object.fromEntries(shared.map((key) => [key, nova['nova_object.data'][key]])));
  const novaFlavor = (nova['nova_object.data']['flavor'] as Record<string, Record<string, unknown>>)['nova_object.data']!;
  const ourFlavor = (ours['flavor'] as Record<string, Record<string, unknown>>)['nova_object.data']!;
  // The cast's Flavor carries these; our SpawnRequest does not keep them (instance-create-payload.ts).
  const notKept = ['rxtx_factor', 'disabled', 'is_public'];
  expect(Object.fromEntries(Object.entries(ourFlavor).filter(([key]) => !notKept.includes(key)))).toEqual(
    Object.fromEntries(Object.entries(novaFlavor).filter(([key]) => !notKept.includes(key))),
  );
}, 60_000);

test('an instance.create.error reaches the listener as ERROR, with a fault Nova can read', async () => {
  const instance = newInstance();
  const { heard } = await listen(vhost.url, 1);
  const outcome = await peer('call', vhost.url, HOST, instance.uuid, String(instance.id), CACHED_IMAGE_ID, '0');
  // oslo rebuilds the exception as a subclass of Nova's own, renamed with _Remote.
  expect(outcome).toMatchObject({ exception: 'BuildAbortException_Remote', module: 'nova.exception_Remote' });
  expect(outcome['kwargs']).toMatchObject({ instance_uuid: instance.uuid });
  expect(outcome['message']).toContain(`Build of instance ${instance.uuid} aborted: invalid request: instance.flavor.memory_mb must be at least 1`);
  const [error] = await heard;
  expect(error).toMatchObject({ priority: 'ERROR', event_type: 'instance.create.error', publisher_id: `nova-compute:${HOST}` });
  expect(error!.nova).toMatchObject({ class: 'InstanceCreatePayload', uuid: instance.uuid, fault: 'InvalidComputeRequest' });
}, 60_000);

test("RPC calls get oslo's replies: None once the guest runs, NoSuchMethod for a method the daemon does not serve", async () => {
  const instance = newInstance();
  await expect(peer('call', vhost.url, HOST, instance.uuid, String(instance.id), CACHED_IMAGE_ID, '64')).resolves.toEqual({ result: null });
  // The reply came only once the domain was running.
  expect((await compute.connection.lookupByUuid(instance.uuid))?.state).toBe('running');
  await expect(peer('unsupported', vhost.url, HOST)).resolves.toMatchObject({ exception: 'RemoteError', exc_type: 'NoSuchMethod' });
}, 60_000);

test("Nova's ComputeAPI stops, starts, reboots and deletes the instance; get_console_output is answered", async () => {
  const instance = newInstance();
  const made = [instance.uuid, String(instance.id), CACHED_IMAGE_ID];
  await peer('cast', vhost.url, HOST, ...made);
  const domain = await running(instance.uuid);
  const state = async () => (await compute.connection.lookupByUuid(instance.uuid))?.state ?? 'gone';
  await peer('lifecycle', vhost.url, HOST, ...made, 'stop_instance');
  await eventually('shut off', async () => ((await state()) === 'shutoff' ? true : undefined));
  await peer('lifecycle', vhost.url, HOST, ...made, 'start_instance');
  await eventually('running again', async () => ((await state()) === 'running' ? true : undefined));
  const before = await compute.connection.domainId(domain);
  await peer('lifecycle', vhost.url, HOST, ...made, 'reboot_instance', 'HARD');
  // A hard reboot powers the domain off and on: running with a new id.
  await eventually('rebooted', async () => ((await state()) === 'running' && (await compute.connection.domainId(domain)) !== before ? true : undefined));
  // test:///default writes no console log: Nova's answer for an empty one.
  await expect(peer('lifecycle', vhost.url, HOST, ...made, 'get_console_output', '5')).resolves.toEqual({ result: '' });
  await peer('lifecycle', vhost.url, HOST, ...made, 'terminate_instance');
  // The driver removes the domain first, then the instance directory.
  await eventually('deleted', async () => ((await state()) === 'gone' && !existsSync(join(compute.instancesPath, instance.uuid)) ? true : undefined));
}, 60_000);

test("Nova's external_instance_event (network-vif-plugged, as nova-api casts it for Neutron) reaches the waiter for it", async () => {
  const instance = newInstance();
  const port = '5a1f1d2e-0000-4000-8000-0000000000ff';
  const waited = events.prepare(instance.uuid, [`network-vif-plugged-${port}`]).wait(30_000);
  await peer('lifecycle', vhost.url, HOST, instance.uuid, String(instance.id), CACHED_IMAGE_ID, 'external_instance_event', port);
  await expect(waited).resolves.toEqual({ received: new Map([[`network-vif-plugged-${port}`, 'completed']]), missing: [], cleared: false });
}, 60_000);

/** Our listing with the per-process fanout queue name made comparable. */
function normalised(listing: Awaited<ReturnType<typeof listDeclarations>>): Awaited<ReturnType<typeof listDeclarations>> {
  const fanout = (line: string): string => line.replace(/compute_fanout_[0-9a-f]{32}/g, 'compute_fanout_<hex>');
  const ours = (line: string): boolean => !line.includes('nova-spawnd.');
  return {
    queues: listing.queues.map(fanout).filter(ours).sort(),
    exchanges: listing.exchanges.filter(ours).sort(),
    bindings: listing.bindings.map(fanout).filter(ours).sort(),
  };
}

describe.each([
  ['classic queues', {}],
  ['rabbit_quorum_queue = True', { rabbit_quorum_queue: 'True' }],
  ['amqp_durable_queues = True', { amqp_durable_queues: 'True' }],
  ['amqp_auto_delete = True', { amqp_auto_delete: 'True' }],
] as [string, Record<string, string>][])('declarations with %s', (name, rabbitOptions) => {
  test("are exactly what nova-compute's oslo.messaging declares (queues, arguments, exchanges, bindings)", async () => {
    const tag = name.replace(/[^a-z]+/g, '-');
    const [theirs, ours] = await Promise.all([createVhost(`oslo-${tag}`), createVhost(`ours-${tag}`)]);
    const server = spawn(DEBIAN_PYTHON, [PEER, 'declare', theirs.url, HOST, JSON.stringify(rabbitOptions)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let declared = '';
    server.stdout.on('data', (chunk: Buffer) => (declared += chunk.toString()));
    const ourDaemon = new SpawnDaemon(
      { bus: busOptions(daemonSections(HOST, ours.url, { oslo_messaging_rabbit: rabbitOptions })) },
      { compute: standaloneCompute(compute.spawner, compute.driver), log: getLogger('test.peer.declare') },
    );
    try {
      ourDaemon.start();
      await ourDaemon.ready();
      await eventually("oslo's RPC server to declare", () => (declared.includes('declared') ? true : server.exitCode !== null ? Promise.reject(new Error('oslo server exited')) : undefined));
      const [oslo, mine] = await Promise.all([listDeclarations(theirs.name), listDeclarations(ours.name)]);
      expect(oslo.queues.some((line) => /^compute_fanout_[0-9a-f]{32}\t/.test(line))).toBe(true);
      expect(normalised(mine)).toEqual(normalised(oslo));
      // Ours in addition: the dead-letter exchange and its durable queue, bounded (dead_letter_max_length,
      // refusing what it has no room for), and a retry queue for each attempt but the last
      // (DEFAULT_SPAWN_RETRY), expiring back into compute.<host>, as durable as that queue.
      expect(mine.queues).toContain('nova-spawnd.dead\ttrue\tfalse\tfalse\t[{"x-max-length",10000},{"x-overflow","reject-publish"}]\tclassic');
      const durable = String(Boolean(rabbitOptions['amqp_durable_queues'] ?? rabbitOptions['rabbit_quorum_queue']));
      const retries = mine.queues.filter((line) => line.startsWith('nova-spawnd.retry.')).sort();
      expect(retries).toEqual(
        [1, 2, 3, 4].map(
          (attempt) => `nova-spawnd.retry.${HOST}.${attempt}\t${durable}\tfalse\tfalse\t[{"x-dead-letter-exchange",[]},{"x-dead-letter-routing-key","compute.${HOST}"}]\tclassic`,
        ),
      );
    } finally {
      server.stdin.end();
      await once(server, 'exit');
      await ourDaemon.stop(5_000);
      await Promise.all([theirs.remove(), ours.remove()]);
    }
  }, 60_000);
});
