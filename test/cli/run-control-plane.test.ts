/**
 * `nova-spawnd run` with [placement] credentials, against the real Nova 26 control plane of
 * scripts/control-plane: the daemon registers as nova-compute and `openstack compute service list` shows it
 * up; `openstack hypervisor show` (which asks the compute for its uptime over RPC) shows libvirt's CPUs and
 * memory; placement holds the provider with Nova's inventory; stopped, the service goes down within the
 * control plane's service_down_time; started again, it is up under the same id. Under systemd (a notify
 * socket the test binds as NOTIFY_SOCKET) it says READY=1 only once registered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createSocket, type UnixDgramSocket } from 'unix-dgram';
import { eventually } from '../bus/helpers/rabbit.js';
import { computeHostConfig, CONTROL_PLANE_START_MS, getJson, openstack, startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { cli } from './run-cli.js';

const HOST = `compute-run-${randomBytes(4).toString('hex')}`;

let plane: ControlPlane;
let dir: string;
let config: string;

beforeAll(async () => {
  plane = await startControlPlane();
  dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-run-cp-'));
  config = join(dir, 'nova.conf');
  writeFileSync(config, computeHostConfig(plane, HOST, dir));
}, CONTROL_PLANE_START_MS);

afterAll(async () => {
  // Nova's API deletes the service, its compute node and the resource provider.
  const service = plane && (await listedService());
  if (service) await fetch(`${plane.compute_url}/os-services/${service.ID}`, { method: 'DELETE', headers: { 'X-Auth-Token': plane.token, 'OpenStack-API-Version': 'compute 2.53' } });
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

interface ListedService {
  ID: string;
  Binary: string;
  Host: string;
  State: string;
  Status: string;
}

async function listedService(): Promise<ListedService | undefined> {
  const services = (await openstack(plane, 'compute', ['--os-compute-api-version', '2.53', 'compute', 'service', 'list', '--host', HOST])) as ListedService[];
  return services.find((service) => service.Binary === 'nova-compute');
}

function startDaemon(notifySocket?: string): { daemon: ChildProcess; stderr: () => string } {
  const env = { ...process.env, NODE_OPTIONS: '', ...(notifySocket ? { NOTIFY_SOCKET: notifySocket } : {}) };
  const daemon = spawn(process.execPath, [cli, 'run', '--config-file', config], { env });
  let stderr = '';
  daemon.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  return { daemon, stderr: () => stderr };
}

/** A notify socket as systemd's: what the daemon tells its service manager. */
function notifySocket(path: string): { socket: UnixDgramSocket; received: string[] } {
  const received: string[] = [];
  const socket = createSocket('unix_dgram', (message) => received.push(message.toString()));
  socket.bind(path);
  return { socket, received };
}

async function stop(daemon: ChildProcess): Promise<number | null> {
  daemon.kill('SIGTERM');
  const [code] = (await once(daemon, 'exit')) as [number | null];
  return code;
}

test('registers, shows up with libvirt\'s resources and Nova\'s inventory in placement, goes down when stopped and up again', async () => {
  const notify = notifySocket(join(dir, 'notify'));
  const first = startDaemon(join(dir, 'notify'));
  let firstId: string;
  try {
    await eventually('registered', () => (first.stderr().includes('registered with the control plane') ? true : undefined), 60_000);
    // Its STATUS is taken as READY=1 goes out: "registering" had READY=1 come too early.
    const ready = await eventually('READY=1', () => notify.received.find((message) => message.startsWith('READY=1')), 10_000);
    expect(ready).toBe('READY=1\nSTATUS=connected to the broker, consuming; 0 builds in flight; registered with the control plane');
    const up = await eventually('the service up', async () => {
      const service = await listedService();
      return service?.State === 'up' ? service : undefined;
    }, 30_000);
    expect(up.Status).toBe('enabled');
    firstId = up.ID;

    const hypervisor = (await openstack(plane, 'compute', ['hypervisor', 'show', HOST])) as Record<string, unknown>;
    expect(hypervisor).toMatchObject({ hypervisor_hostname: HOST, state: 'up', status: 'enabled', host_ip: expect.any(String) });
    // The CLI shows the "up ..." part of the uptime(1) line the daemon answered get_host_uptime with.
    expect(hypervisor['uptime']).toMatch(/^(\d+ days?, +)?(\d+:\d\d|\d+ min)$/);

    const detail = (await getJson(`${plane.compute_url}/os-hypervisors/detail`, plane, { 'OpenStack-API-Version': 'compute 2.53' })) as {
      hypervisors: { id: string; hypervisor_hostname: string; vcpus: number; memory_mb: number; local_gb: number }[];
    };
    const node = detail.hypervisors.find((candidate) => candidate.hypervisor_hostname === HOST)!;
    const inventories = (await getJson(`${plane.placement_url}/resource_providers/${node.id}/inventories`, plane, { 'OpenStack-API-Version': 'placement 1.26' })) as {
      inventories: Record<string, { total: number; reserved: number; allocation_ratio: number; max_unit: number }>;
    };
    expect(inventories.inventories).toEqual({
      VCPU: expect.objectContaining({ total: node.vcpus, reserved: 0, allocation_ratio: 16, max_unit: node.vcpus }),
      MEMORY_MB: expect.objectContaining({ total: node.memory_mb, reserved: 512, allocation_ratio: 1.5 }),
      DISK_GB: expect.objectContaining({ total: node.local_gb, reserved: 0, allocation_ratio: 1 }),
    });
    const traits = (await getJson(`${plane.placement_url}/resource_providers/${node.id}/traits`, plane, { 'OpenStack-API-Version': 'placement 1.6' })) as { traits: string[] };
    expect(traits.traits).toEqual(expect.arrayContaining(['COMPUTE_NODE', 'COMPUTE_IMAGE_TYPE_QCOW2']));
  } finally {
    expect(await stop(first.daemon)).toBe(0);
    notify.socket.close();
  }
  // The control plane's service_down_time is 20 s.
  await eventually('the service down', async () => ((await listedService())?.State === 'down' ? true : undefined), 40_000, 1_000);

  const second = startDaemon();
  try {
    const again = await eventually('the service up again', async () => {
      const service = await listedService();
      return service?.State === 'up' ? service : undefined;
    }, 60_000, 1_000);
    expect(again.ID).toBe(firstId!);
  } finally {
    expect(await stop(second.daemon)).toBe(0);
  }
}, 240_000);
