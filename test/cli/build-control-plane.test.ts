/**
 * Builds as Nova does them: `nova-spawnd run` as a compute service of the real Nova 26 control plane of
 * scripts/control-plane, and `openstack server create` cast to it by a real nova-conductor.
 * - a server with a config drive, user data, a property and a key pair goes ACTIVE on our host; its build is
 *   in `openstack server event list`; its drive holds its uuid, user data, key and the EC2 id Nova's database
 *   gave it (EC2InstanceMapping: instance_id_mappings), which the metadata service answers with too;
 * - that drive holds what Nova's own InstanceMetadata writes for the server as cell1's database holds it, with
 *   our daemon's nova.conf (test/helpers/nova_server_drive.py): every file, byte for byte;
 * - a server of an image we refuse (qcow2 bytes that Glance calls raw) goes to ERROR with a fault naming the
 *   reason, and placement holds no allocation of it.
 * The servers are deleted at the end through the daemon (terminate_instance) while its service is up.
 */
import { execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readDrive } from '../../src/configdrive/read-drive.js';
import { eventually } from '../bus/helpers/rabbit.js';
import { ComputeHost, ec2ImageId, ec2InstanceId, novaDb, remove, settled } from '../control-plane/compute-host.js';
import { computeHostConfig, CONTROL_PLANE_START_MS, getJson, openstack, startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { expectDriveAsNova } from '../control-plane/server-drive.js';
import { isAbout, logTime } from '../helpers/log-lines.js';

const execFileAsync = promisify(execFile);
const SUFFIX = randomBytes(4).toString('hex');
const HOST = `compute-build-${SUFFIX}`;
/** The daemon's metadata API, asked as Neutron's metadata proxy asks it (X-Instance-ID, signed). */
const METADATA_PORT = 20_000 + Math.floor(Math.random() * 20_000);
const PROXY_SECRET = `secret-${SUFFIX}`;

let plane: ControlPlane;
let dir: string;
/** The daemon's nova.conf. */
let config: string;
let host: ComputeHost;
/** The server the first test built: its id and the admin password nova-api made for it. */
let built: { id: string; adminPass: string | null } | undefined;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  plane = await startControlPlane();
  dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-build-cp-'));
  config = join(dir, 'nova.conf');
  writeFileSync(
    config,
    computeHostConfig(plane, HOST, dir, {
      DEFAULT: { enabled_apis: 'osapi_compute,metadata', metadata_listen: '127.0.0.1', metadata_listen_port: String(METADATA_PORT) },
      neutron: { service_metadata_proxy: 'true', metadata_proxy_shared_secret: PROXY_SECRET },
      glance: { api_servers: plane.glance_url },
    }),
  );
  host = new ComputeHost(plane, HOST, config);
  await host.start();
  await host.waitUntilListed();
}, CONTROL_PLANE_START_MS);

afterAll(async () => {
  if (host) await host.retire();
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 180_000);

/** A flavor of our own (deleted at the end). */
async function flavor(label: string, disk: number): Promise<string> {
  const name = `${label}-${SUFFIX}-${disk}g`;
  const created = (await openstack(plane, 'compute', ['flavor', 'create', '--ram', '64', '--vcpus', '1', '--disk', String(disk), name])) as { id: string };
  cleanups.push(() => remove(plane, `${plane.compute_url}/flavors/${created.id}`));
  return name;
}

/** From the daemon's first log line about the instance to its "is ACTIVE" line. */
function computeMs(id: string): number | null {
  const times = host.stderr
    .split('\n')
    .filter((line) => isAbout(line, id))
    .map((line) => ({ at: logTime(line), active: line.includes('is ACTIVE') }));
  const end = times.find((time) => time.active);
  return times.length > 0 && end ? end.at - times[0]!.at : null;
}

function text(bytes: Uint8Array | undefined): string {
  return Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
}

test('server create goes ACTIVE on our host, its build in the event list, Nova\'s EC2 id on its drive', async () => {
  const userData = join(dir, 'user-data');
  writeFileSync(userData, `#!/bin/sh\necho built by ${SUFFIX}\n`);
  const keyFile = join(dir, 'key');
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `build-${SUFFIX}`, '-f', keyFile]);
  const keyName = `build-${SUFFIX}`;
  await openstack(plane, 'compute', ['keypair', 'create', '--public-key', `${keyFile}.pub`, keyName]);
  cleanups.push(() => remove(plane, `${plane.compute_url}/os-keypairs/${keyName}`));

  const began = Date.now();
  const created = await host.create(`build-${SUFFIX}`, [
    '--config-drive', 'true', '--image', plane.image_id, '--flavor', await flavor('active', 1), '--user-data', userData, '--property', `purpose=build-${SUFFIX}`, '--key-name', keyName,
  ]);
  const id = created.id;
  const server = await settled(plane, id);
  const seconds = (Date.now() - began) / 1000;
  expect({ status: server.status, fault: server['fault'] }).toEqual({ status: 'ACTIVE', fault: undefined });
  expect(server).toMatchObject({
    'OS-EXT-SRV-ATTR:host': HOST,
    'OS-EXT-SRV-ATTR:hypervisor_hostname': HOST,
    'OS-EXT-STS:vm_state': 'active',
    // power_state.RUNNING (the CLI's table shows it as "Running", its JSON as the number).
    'OS-EXT-STS:power_state': 1,
    'OS-EXT-STS:task_state': null,
    'OS-EXT-SRV-ATTR:root_device_name': '/dev/vda',
  });
  expect(server['OS-SRV-USG:launched_at']).toEqual(expect.any(String));
  built = { id, adminPass: created.adminPass ?? null };
  console.log(`server create to ACTIVE: ${seconds.toFixed(1)} s (openstack CLI polls included); in the compute: ${computeMs(id)} ms`);

  const events = (await openstack(plane, 'compute', ['server', 'event', 'list', id])) as { 'Request ID': string; Action: string }[];
  expect(events.map((event) => event.Action)).toEqual(['create']);
  const action = (await openstack(plane, 'compute', ['server', 'event', 'show', id, events[0]!['Request ID']])) as { events: { event: string; result: string; host?: string }[] };
  expect(action.events).toEqual([expect.objectContaining({ event: 'compute__do_build_and_run_instance', result: 'Success' })]);

  const ec2Id = await ec2InstanceId(plane, id);
  const drive = readDrive(readFileSync(join(dir, 'instances', id, 'disk.config'))).tree;
  const metaData = JSON.parse(text(drive.get('openstack/latest/meta_data.json'))) as Record<string, unknown>;
  expect(metaData).toMatchObject({ uuid: id, name: `build-${SUFFIX}`, meta: { purpose: `build-${SUFFIX}` }, public_keys: { [keyName]: expect.stringContaining(readFileSync(`${keyFile}.pub`, 'utf8').split(' ')[1]!) } });
  expect(text(drive.get('openstack/latest/user_data'))).toBe(readFileSync(userData, 'utf8'));
  const ec2 = JSON.parse(text(drive.get('ec2/latest/meta-data.json'))) as Record<string, unknown>;
  expect(ec2['instance-id']).toBe(ec2Id);
  // The image's EC2 id is Nova's too (s3_images), made when the conductor first asked.
  expect(ec2['ami-id']).toBe(await ec2ImageId(plane, 'ami', plane.image_id));

  // The metadata service answers from the same record: Nova's EC2 id there too.
  const response = await fetch(`http://127.0.0.1:${METADATA_PORT}/latest/meta-data/instance-id`, {
    headers: { 'X-Instance-ID': id, 'X-Tenant-ID': String(server['project_id']), 'X-Instance-ID-Signature': createHmac('sha256', PROXY_SECRET).update(id).digest('hex') },
  });
  expect(response.status).toBe(200);
  expect(await response.text()).toBe(ec2Id);
}, 240_000);

test('its drive is what Nova\'s own InstanceMetadata writes for the server in cell1, with our nova.conf', async () => {
  if (!built) throw new Error('no server: the build test failed');
  expect(built.adminPass).toEqual(expect.any(String));
  const drive = readDrive(readFileSync(join(dir, 'instances', built.id, 'disk.config'))).tree;
  const nova = await expectDriveAsNova(drive, { configFiles: [plane.nova_conf, config], uuid: built.id, adminPassword: built.adminPass });
  // What the comparison covered: the password, the key and the user data are in Nova's files.
  const latest = JSON.parse(new Map(nova.files).get('openstack/latest/meta_data.json')!.toString('utf8')) as Record<string, unknown>;
  expect(latest).toMatchObject({ uuid: built.id, admin_pass: built.adminPass, keys: [expect.objectContaining({ type: 'ssh' })], devices: [] });
  expect(nova.files.map(([path]) => path)).toContain('openstack/latest/user_data');
}, 60_000);

test('an image we refuse puts the server in ERROR with a fault naming the reason and no allocation left', async () => {
  // qcow2 bytes that Glance is told are raw: our image checks refuse them, as Nova's do (ImageUnacceptable).
  const file = join(dir, 'mislabelled.qcow2');
  await execFileAsync('qemu-img', ['create', '-q', '-f', 'qcow2', file, '16M']);
  const image = (await openstack(plane, 'image', ['image', 'create', '--disk-format', 'raw', '--container-format', 'bare', '--file', file, `mislabelled-${SUFFIX}`])) as { id: string };
  cleanups.push(() => remove(plane, `${plane.glance_url}/v2/images/${image.id}`));

  const id = await host.createServer(`refused-${SUFFIX}`, ['--config-drive', 'true', '--image', image.id, '--flavor', await flavor('refused', 1)]);
  const server = await settled(plane, id);
  expect(server).toMatchObject({ status: 'ERROR', 'OS-EXT-STS:vm_state': 'error', 'OS-EXT-STS:task_state': null, 'OS-EXT-SRV-ATTR:host': null });
  const fault = server['fault'] as { code: number; message: string };
  expect(fault.code).toBe(500);
  expect(fault.message).toContain('content is qcow2 but disk_format says raw');

  const allocations = (await getJson(`${plane.placement_url}/allocations/${id}`, plane, { 'OpenStack-API-Version': 'placement 1.28' })) as { allocations: Record<string, unknown> };
  expect(allocations.allocations).toEqual({});
  const events = (await openstack(plane, 'compute', ['server', 'event', 'list', id])) as { 'Request ID': string }[];
  const action = (await openstack(plane, 'compute', ['server', 'event', 'show', id, events[0]!['Request ID']])) as { message: string | null; events: { event: string; result: string }[] };
  expect(action.events).toEqual([expect.objectContaining({ event: 'compute__do_build_and_run_instance', result: 'Error' })]);
  // The domain the pipeline defined is gone with the failure.
  expect(host.stderr).toMatch(new RegExp(`build failed, the instance goes to ERROR.*${id}|${id}.*build failed, the instance goes to ERROR`));
}, 240_000);

test('a server deleted before its build is consumed: the build stops, no domain, no ERROR, the delete left to nova-api', async () => {
  // Stopped, the service stays up for service_down_time (20 s): the scheduler still picks our host, and the
  // conductor casts the build into our queue, where it waits while the user deletes the server.
  expect(await host.stop()).toBe(0);
  const id = await host.createServer(`deleted-${SUFFIX}`, ['--image', plane.image_id, '--flavor', await flavor('deleted', 1)]);
  // The conductor casts the build right after it made the instance's row in cell1.
  await eventually(`server ${id} in cell1`, async () => ((await novaDb(plane, 'select uuid from instances where uuid = %s', id)).length > 0 ? true : undefined), 30_000, 250);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  await remove(plane, `${plane.compute_url}/servers/${id}`);
  const shown = await fetch(`${plane.compute_url}/servers/${id}`, { headers: { 'X-Auth-Token': plane.token } });
  // No host yet: nova-api deletes the server itself (404), or, seeing our service up, marks it deleting.
  const deleting = shown.status === 404 ? null : (((await shown.json()) as { server: Record<string, unknown> }).server);
  if (deleting) expect(deleting['OS-EXT-STS:task_state']).toBe('deleting');

  await host.start();
  await eventually('the build stopped', () => (new RegExp(`\\[instance: ${id}\\] build stopped: the instance (is gone|is being deleted|was deleted)`).test(host.stderr) ? true : undefined), 60_000);
  expect(host.stderr).not.toMatch(new RegExp(`\\[instance: ${id}\\] domain defined`));
  const after = await fetch(`${plane.compute_url}/servers/${id}`, { headers: { 'X-Auth-Token': plane.token } });
  if (after.status !== 404) {
    const server = ((await after.json()) as { server: Record<string, unknown> }).server;
    expect(server).toMatchObject({ 'OS-EXT-STS:vm_state': 'building', 'OS-EXT-STS:task_state': 'deleting' });
    expect(server['fault']).toBeUndefined();
  }
  console.log(`deleted before its build: nova-api ${deleting ? 'marked it deleting' : 'deleted it at once'}`);
}, 240_000);
