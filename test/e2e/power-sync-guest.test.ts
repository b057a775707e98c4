/**
 * The power-state sync on a real guest, through Nova: `openstack server create` on the control plane of
 * scripts/control-plane boots the e2e guest on qemu:///system through `nova-spawnd run`, with a /init that
 * waits a few seconds and powers the guest off. Within one [DEFAULT] sync_power_state_interval the daemon's
 * _sync_power_states finds the domain shut off, calls Nova's stop API (force_stop), and the stop_instance
 * cast it gets back leaves the server SHUTOFF. Then `openstack server delete` while the service is up: the
 * terminate_instance cast reaches the daemon, and the domain, the instance directory and the allocation go.
 * One qemu:///system host at a time on a machine (its placement provider is named by the machine's
 * hostname): the cleanup retires the host and removes the domain whatever happened.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ComputeHost, COMPUTE_API, settled, type Server } from '../control-plane/compute-host.js';
import { openstack, type ControlPlane } from '../control-plane/control-plane.js';
import { eventually } from '../bus/helpers/rabbit.js';
import { createGuestFlavor, deleteServer, domainState, endGuestHost, fetchServer, GUEST_HOST_START_MS, leftovers, newGuestHost, shellInitCmdline, uploadGuest, type GuestHost } from './guest-server.js';

const SUFFIX = randomBytes(4).toString('hex');
const HOST = `compute-sync-${SUFFIX}`;
const SYNC_INTERVAL_S = 5;
/** How long the guest runs before it powers itself off: past the build's last save, so the server is ACTIVE first. */
const GUEST_UP_S = 8;

let fixture: GuestHost | undefined;
let plane: ControlPlane;
let host: ComputeHost;

beforeAll(async () => {
  fixture = await newGuestHost(HOST, 'power-sync-', { DEFAULT: { sync_power_state_interval: String(SYNC_INTERVAL_S) } });
  ({ plane, host } = fixture);
  await host.start();
  await host.waitUntilListed();
}, GUEST_HOST_START_MS);

afterAll(() => endGuestHost(fixture), 180_000);

test('a guest that powers itself off is SHUTOFF in Nova within a sync interval; server delete then leaves nothing behind', async () => {
  const script = `echo power-sync-guest up; /bin/busybox sleep ${GUEST_UP_S}; echo power-sync-guest powering off; /bin/busybox poweroff -f`;
  const { guest, dir, cleanups } = fixture!;
  const { image } = await uploadGuest(plane, guest, shellInitCmdline(guest, script), { dir, suffix: SUFFIX, cleanups });
  const id = await host.createServer(`sync-${SUFFIX}`, ['--image', image, '--flavor', await createGuestFlavor(plane, SUFFIX, cleanups)]);
  const server = await settled(plane, id);
  expect({ status: server.status, fault: server['fault'] }).toEqual({ status: 'ACTIVE', fault: undefined });

  // Nothing turns the server SHUTOFF before its guest is off: watched one after the other, 250 ms apart.
  const began = Date.now();
  const poweredOffAt = await eventually('the guest to power itself off', async () => ((await domainState(id)) === 'shut off' ? Date.now() : undefined), 120_000, 250);
  // A few intervals: the sync runs every interval, and the stop it asks for takes a moment.
  const shutoffAt = await eventually('the server SHUTOFF in nova-api', async () => ((await fetchServer(plane, id))?.['status'] === 'SHUTOFF' ? Date.now() : undefined), 4 * SYNC_INTERVAL_S * 1000, 250);
  console.log(
    `ACTIVE to the guest powered off: ${((poweredOffAt - began) / 1000).toFixed(1)} s; ` +
      `powered off to SHUTOFF in nova-api: ${((shutoffAt - poweredOffAt) / 1000).toFixed(1)} s (sync_power_state_interval ${SYNC_INTERVAL_S} s)`,
  );

  const stopped = (await openstack(plane, 'compute', [...COMPUTE_API, 'server', 'show', id])) as Server;
  expect(stopped).toMatchObject({ status: 'SHUTOFF', 'OS-EXT-STS:vm_state': 'stopped', 'OS-EXT-STS:power_state': 4, 'OS-EXT-STS:task_state': null });
  expect(await domainState(id)).toBe('shut off');
  // The sync's own words, and the stop it asked for, as Nova's.
  expect(host.stderr).toMatch(new RegExp(`\\[instance: ${id}\\] Instance shutdown by itself\\. Calling the stop API\\.`));
  expect(host.stderr).toMatch(new RegExp(`INFO \\S+ \\[.*\\] \\[instance: ${id}\\] stop( |$)`, 'm'));

  // The delete reaches our service only while nova-api holds it up; down, nova-api deletes on its own.
  expect((await host.listedService())?.State).toBe('up');
  await deleteServer(plane, id);
  await eventually(`server ${id} gone from nova-api`, async () => ((await fetchServer(plane, id)) === null ? true : undefined), 60_000, 250);
  expect(host.stderr).toMatch(new RegExp(`INFO \\S+ \\[.*\\] \\[instance: ${id}\\] terminate( |$)`, 'm'));
  expect(await leftovers(plane, join(dir, 'instances'), id)).toEqual({ domain: null, directory: false, allocations: [] });
  host.servers.splice(host.servers.indexOf(id), 1);
}, 240_000);
