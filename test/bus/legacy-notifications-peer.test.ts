/**
 * The legacy notifications on the real RabbitMQ, heard by oslo.messaging's own notification listener on
 * [oslo_messaging_notifications] topics (what Ceilometer listens to): Nova's ComputeAPI casts
 * build_and_run_instance to the daemon (notification_format both), which spawns the guest and publishes
 * compute.instance.create.start and .end on `notifications` (and the versioned ones on their own topic); a
 * build of a missing image publishes compute.instance.create.error at priority ERROR.
 */
import { getLogger } from '../../src/log.js';
import { SpawnDaemon } from '../../src/bus/spawn-daemon.js';
import { peer } from './helpers/oslo-peer.js';
import { busOptions, daemonSections } from './helpers/config.js';
import { CACHED_IMAGE_ID, MISSING_IMAGE_ID, standaloneCompute, testCompute, type TestCompute } from './helpers/compute.js';
import { newInstance } from './helpers/messages.js';
import { listen } from './helpers/oslo-listener.js';
import { createVhost, eventually, type TestVhost } from './helpers/rabbit.js';

const HOST = 'compute-legacy';

let vhost: TestVhost;
let compute: TestCompute;
let daemon: SpawnDaemon;

beforeAll(async () => {
  [vhost, compute] = await Promise.all([createVhost('legacy'), testCompute()]);
  const sections = daemonSections(HOST, vhost.url, { notifications: { notification_format: 'both' } });
  daemon = new SpawnDaemon({ bus: busOptions(sections) }, { compute: standaloneCompute(compute.spawner, compute.driver), log: getLogger('test.legacy') });
  daemon.start();
  await daemon.ready();
}, 60_000);

afterAll(async () => {
  await daemon?.stop(10_000);
  await compute?.close();
  await vhost?.remove();
});

function cast(uuid: string, id: number, imageId: string): Promise<Record<string, unknown>> {
  return peer('cast', vhost.url, HOST, uuid, String(id), imageId);
}

test('a spawn: compute.instance.create.start and .end on notifications.info, the versioned pair on versioned_notifications', async () => {
  const instance = newInstance();
  const legacy = await listen(vhost.url, 2, { topic: 'notifications' });
  const versioned = await listen(vhost.url, 2);
  const sent = await cast(instance.uuid, instance.id, CACHED_IMAGE_ID);
  await eventually(`instance ${instance.uuid} running`, async () => ((await compute.connection.lookupByUuid(instance.uuid))?.state === 'running' ? true : undefined));
  const [start, end] = await legacy.heard;

  expect([start?.event_type, end?.event_type]).toEqual(['compute.instance.create.start', 'compute.instance.create.end']);
  for (const notification of [start!, end!]) {
    expect(notification).toMatchObject({ priority: 'INFO', publisher_id: `compute.${HOST}`, request_id: sent['request_id'], auth_token: null });
    expect(notification.payload).toMatchObject({ instance_id: instance.uuid, tenant_id: expect.any(String), host: HOST, memory_mb: 64, instance_type: expect.any(String) });
  }
  // The peer's image dict has no name: Nova's image.get('name') is None.
  expect(start!.payload).toMatchObject({ state: 'building', launched_at: '', image_name: null });
  expect(end!.payload).toMatchObject({ state: 'active', message: 'Success', launched_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000$/) });
  expect((end!.payload as unknown as { fixed_ips: { address: string }[] }).fixed_ips.map((ip) => ip.address)).toEqual(['10.0.0.5']);
  expect((await versioned.heard).map((notification) => notification.event_type)).toEqual(['instance.create.start', 'instance.create.end']);
}, 90_000);

test('a spawn that fails: compute.instance.create.error on notifications.error, with the fault', async () => {
  const instance = newInstance();
  const legacy = await listen(vhost.url, 2, { topic: 'notifications' });
  await cast(instance.uuid, instance.id, MISSING_IMAGE_ID);
  const heard = await legacy.heard;
  expect(heard.map((notification) => `${notification.event_type} ${notification.priority}`)).toEqual(['compute.instance.create.start INFO', 'compute.instance.create.error ERROR']);
  expect(heard[1]!.payload).toMatchObject({ instance_id: instance.uuid, code: 500, message: expect.stringContaining(MISSING_IMAGE_ID), state: 'building' });
}, 90_000);
