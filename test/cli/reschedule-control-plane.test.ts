/**
 * Two nova-spawnd daemons as two compute hosts of the real Nova 26 control plane (scripts/control-plane), in an
 * availability zone of their own so that no other host of the machine's control plane is chosen: the
 * scheduler spreads servers over both, and a build that fails on one (its image cache broken) is rescheduled
 * by the real nova-conductor to the other, where it goes ACTIVE.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { eventually } from '../bus/helpers/rabbit.js';
import { ComputeHost, COMPUTE_API, remove, type Server } from '../control-plane/compute-host.js';
import { computeHostConfig, CONTROL_PLANE_START_MS, getJson, openstack, startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { isAbout } from '../helpers/log-lines.js';

const SUFFIX = randomBytes(4).toString('hex');
const ZONE = `az-${SUFFIX}`;
/** Shows an event's host (2.62) and lets a server be created in a zone without naming a host. */
const EVENTS_API = ['--os-compute-api-version', '2.62'];

let plane: ControlPlane;
let dir: string;
let flavor: string;
const hosts: Record<'a' | 'b', ComputeHost> = {} as Record<'a' | 'b', ComputeHost>;
/** Servers that ended with no host (ERROR before a host kept them): nova-api deletes them itself. */
const unhosted: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

function stateDir(label: string): string {
  return join(dir, label);
}

/** Host `label`'s nova.conf: the control plane's compute host, with `extra` options of [DEFAULT]. */
function writeConfig(label: string, name: string, extra: Record<string, string> = {}): string {
  const file = join(dir, `${label}.conf`);
  mkdirSync(stateDir(label), { recursive: true });
  writeFileSync(file, computeHostConfig(plane, name, stateDir(label), { DEFAULT: extra, glance: { api_servers: plane.glance_url } }));
  return file;
}

beforeAll(async () => {
  plane = await startControlPlane();
  dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-reschedule-'));
  for (const label of ['a', 'b'] as const) {
    const name = `compute-${label}-${SUFFIX}`;
    hosts[label] = new ComputeHost(plane, name, writeConfig(label, name));
  }
  await Promise.all(Object.values(hosts).map((host) => host.start()));
  await Promise.all(Object.values(hosts).map((host) => host.waitUntilListed()));
  // A zone of our two hosts only: nova-api mirrors the aggregate into placement, which the scheduler asks.
  const aggregate = (await openstack(plane, 'compute', ['aggregate', 'create', '--zone', ZONE, `agg-${SUFFIX}`])) as { id: number };
  cleanups.push(() => remove(plane, `${plane.compute_url}/os-aggregates/${aggregate.id}`));
  for (const host of Object.values(hosts)) {
    await openstack(plane, 'compute', ['aggregate', 'add', 'host', String(aggregate.id), host.name]);
    cleanups.push(() => fetch(`${plane.compute_url}/os-aggregates/${aggregate.id}/action`, {
      method: 'POST',
      headers: { 'X-Auth-Token': plane.token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ remove_host: { host: host.name } }),
    }));
  }
  flavor = `reschedule-${SUFFIX}`;
  const created = (await openstack(plane, 'compute', ['flavor', 'create', '--ram', '64', '--vcpus', '1', '--disk', '1', flavor])) as { id: string };
  cleanups.push(() => remove(plane, `${plane.compute_url}/flavors/${created.id}`));
}, CONTROL_PLANE_START_MS);

afterAll(async () => {
  // Both services go down together, then each host's servers are deleted by nova-api and its record removed.
  await Promise.all(Object.values(hosts).map((host) => host.stop()));
  for (const id of unhosted) await remove(plane, `${plane.compute_url}/servers/${id}`);
  // The aggregate lets a host go only while its service exists.
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await Promise.all(Object.values(hosts).map((host) => host.retire()));
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 240_000);

/** The servers whose names start with `prefix`, once every one is ACTIVE or ERROR. */
async function settledServers(prefix: string, count: number): Promise<Server[]> {
  return eventually(`${count} servers ${prefix}* ACTIVE or ERROR`, async () => {
    const { servers } = (await getJson(`${plane.compute_url}/servers/detail?name=^${prefix}`, plane)) as { servers: Server[] };
    return servers.length === count && servers.every((server) => server.status === 'ACTIVE' || server.status === 'ERROR') ? servers : undefined;
  }, 180_000, 1_000);
}

/** Each server to the host that has it, for retire(); a server with no host to nova-api's own delete. */
function adopt(servers: Server[]): void {
  for (const server of servers) {
    const host = Object.values(hosts).find((candidate) => candidate.name === server['OS-EXT-SRV-ATTR:host']);
    if (host) host.servers.push(server['id'] as string);
    else unhosted.push(server['id'] as string);
  }
}

test('the scheduler spreads ten servers over both hosts, every one ACTIVE', async () => {
  const prefix = `spread-${SUFFIX}`;
  await openstack(plane, 'compute', [...COMPUTE_API, 'server', 'create', '--nic', 'none', '--image', plane.image_id, '--flavor', flavor, '--availability-zone', ZONE, '--min', '10', '--max', '10', prefix]);
  const servers = await settledServers(prefix, 10);
  adopt(servers);
  expect(servers.filter((server) => server.status !== 'ACTIVE').map((server) => server['fault'])).toEqual([]);
  const counts = Object.fromEntries(Object.values(hosts).map((host) => [host.name, servers.filter((server) => server['OS-EXT-SRV-ATTR:host'] === host.name).length]));
  console.log(`ten servers spread: ${JSON.stringify(counts)}`);
  // Equal hosts, and the scheduler weighs free RAM, vCPUs and disk after each choice: both get their share.
  for (const count of Object.values(counts)) expect(count).toBeGreaterThanOrEqual(3);
}, 240_000);

test('a build that fails on one host is rescheduled by the conductor to the other and goes ACTIVE there', async () => {
  const { a, b } = hosts;
  // Host a breaks: its image cache directory is a file. Host b holds back 2 GiB more memory, so that the
  // scheduler picks a first and gives b as the alternate.
  await a.stop();
  rmSync(join(stateDir('a'), 'instances', '_base'), { recursive: true, force: true });
  writeFileSync(join(stateDir('a'), 'instances', '_base'), 'not a directory\n');
  await b.stop();
  writeConfig('b', b.name, { reserved_host_memory_mb: '2560' });
  await Promise.all([a.start(), b.start()]);

  const name = `rescheduled-${SUFFIX}`;
  const created = (await openstack(plane, 'compute', [...COMPUTE_API, 'server', 'create', '--nic', 'none', '--image', plane.image_id, '--flavor', flavor, '--availability-zone', ZONE, name])) as { id: string };
  const [server] = await settledServers(name, 1);
  adopt([server!]);
  expect({ status: server!.status, fault: server!['fault'], host: server!['OS-EXT-SRV-ATTR:host'] }).toEqual({ status: 'ACTIVE', fault: undefined, host: b.name });

  // Both builds in the server's events, a's with its traceback. Nova's database finishes the first event of
  // a name (action_event_finish): b's success lands on a's row, whose traceback stays, and b's row stays open.
  const events = (await openstack(plane, 'compute', [...EVENTS_API, 'server', 'event', 'list', created.id])) as { 'Request ID': string; Action: string }[];
  expect(events.map((event) => event.Action)).toEqual(['create']);
  const action = (await openstack(plane, 'compute', [...EVENTS_API, 'server', 'event', 'show', created.id, events[0]!['Request ID']])) as { message: string | null; events: { event: string; result: string | null; host: string; traceback: string | null }[] };
  const builds = action.events.filter((event) => event.event === 'compute__do_build_and_run_instance');
  expect(builds.map((event) => event.host).sort()).toEqual([a.name, b.name]);
  expect(builds.find((event) => event.host === a.name)!.traceback).toContain('ENOTDIR');
  // Unlike Nova, whose rescheduled build "succeeds", a's failure marks the request: its message is Error.
  expect(action.message).toBe('Error');

  // a unclaimed the instance before the cast: its only allocation is on b's provider.
  const allocations = (await getJson(`${plane.placement_url}/allocations/${created.id}`, plane, { 'OpenStack-API-Version': 'placement 1.28' })) as { allocations: Record<string, unknown> };
  const providers = (await getJson(`${plane.placement_url}/resource_providers?name=${b.name}`, plane)) as { resource_providers: { uuid: string }[] };
  expect(Object.keys(allocations.allocations)).toEqual([providers.resource_providers[0]!.uuid]);

  // a handed the build over and acked it: rescheduled, not dead-lettered.
  const about = (line: string) => isAbout(line, created.id);
  const aLog = a.stderr.split('\n').filter(about);
  expect(aLog.some((line) => line.includes('build rescheduled through the conductor'))).toBe(true);
  expect(aLog.some((line) => line.includes('rescheduled to another host by the conductor: acking'))).toBe(true);
  expect(aLog.filter((line) => line.includes('dead-letter'))).toEqual([]);
  expect(b.stderr.split('\n').some((line) => about(line) && line.includes('is ACTIVE'))).toBe(true);
}, 240_000);
