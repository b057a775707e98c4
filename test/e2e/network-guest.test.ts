/**
 * The end-to-end proof of networking: `openstack server create --network` on the real Nova control plane and the
 * real neutron-server and Linux bridge agent of scripts/control-plane puts a real guest on qemu:///system, our
 * daemon running as the agent's host (claimAgentHost). The port is bound here; the build waits, with the guest
 * paused, for Neutron's network-vif-plugged (the agent sees the tap libvirt put into the brq bridge and turns
 * the port ACTIVE); the guest (guest-init.sh) configures the address network_data.json gives it on the NIC with
 * the port's MAC and pings the gateway, which the machine holds on the flat network's other end.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { consoleLogPath } from '../../src/virt/instance-paths.js';
import { settled } from '../control-plane/compute-host.js';
import { startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { claimAgentHost, listPorts, showPort, type AgentHostClaim } from '../control-plane/network.js';
import { parseGuestDump, parseGuestNetwork } from './console-dump.js';
import { eventually } from '../bus/helpers/rabbit.js';
import { createGuestFlavor, deleteServer, endGuestHost, fetchServer, GUEST_HOST_START_MS, newGuestHost, uploadGuest, type GuestHost } from './guest-server.js';
import { virsh, waitForShutoff } from './libvirtd.js';

const SUFFIX = randomBytes(4).toString('hex');

let claim: AgentHostClaim | undefined;
let fixture: GuestHost | undefined;
let plane: ControlPlane;

beforeAll(async () => {
  claim = await claimAgentHost(await startControlPlane());
  fixture = await newGuestHost(claim.name, 'network-guest-', { DEFAULT: { vif_plugging_timeout: '120' } });
  plane = fixture.plane;
  await fixture.host.start();
  await fixture.host.waitUntilListed();
}, GUEST_HOST_START_MS);

afterAll(async () => {
  await endGuestHost(fixture);
  await claim?.release();
}, 180_000);

test('a guest booted with --network gets its port: bound here, plugged into the bridge, ACTIVE, and the address from network_data.json answers', async () => {
  const { guest, dir, host, cleanups } = fixture!;
  const images = await uploadGuest(plane, guest, guest.cmdline, { dir, suffix: SUFFIX, cleanups });
  const id = await host.createServer(`net-guest-${SUFFIX}`, ['--config-drive', 'true', '--image', images.image, '--flavor', await createGuestFlavor(plane, SUFFIX, cleanups), '--network', plane.network.id]);
  const server = await settled(plane, id).catch((error: unknown) => {
    console.warn(`the daemon's log of ${id}:\n${host.stderr.split('\n').filter((line) => line.includes(id)).join('\n')}`);
    throw error;
  });
  expect({ status: server.status, fault: server['fault'] }).toEqual({ status: 'ACTIVE', fault: undefined });

  const [port, ...others] = await listPorts(plane, { device_id: id });
  expect(others).toEqual([]);
  expect(port).toMatchObject({ 'binding:host_id': claim!.name, 'binding:vif_type': 'bridge' });
  // The build went on only once Neutron said the port is up.
  expect((await showPort(plane, port!.id)).status).toBe('ACTIVE');
  const tap = `tap${port!.id}`.slice(0, 14);
  const bridge = `brq${plane.network.id}`.slice(0, 14);
  const xml = await virsh('dumpxml', id);
  expect(xml).toContain(`<source bridge='${bridge}'/>`);
  expect(xml).toContain(`<target dev='${tap}'/>`);
  // The guest takes seconds to boot under TCG: its tap is in the bridge meanwhile.
  let master: string | null = null;
  try {
    master = basename(readlinkSync(`/sys/class/net/${tap}/master`));
  } catch {
    master = null;
  }
  expect(master).toBe(bridge);

  // The waiter was registered, the domain paused, the event came through nova-api's external_instance_event.
  const log = host.stderr.split('\n').filter((line) => line.includes(id));
  const step = (text: string) => log.findIndex((line) => line.includes(text));
  const paused = step(`waiting up to 120 s for network-vif-plugged-${port!.id}`);
  const received = step(`external event network-vif-plugged-${port!.id} received`);
  const resumed = step('domain resumed: its VIFs are plugged');
  expect({ paused: paused >= 0, received: received > paused, resumed: resumed > received }).toEqual({ paused: true, received: true, resumed: true });
  console.log(`network-vif-plugged: ${log[resumed]!.replace(/^.*\((waited [^)]*)\).*$/, '$1')} with the guest paused`);

  const consolePath = consoleLogPath(join(dir, 'instances'), id);
  await waitForShutoff(id, { consolePath });
  const consoleText = readFileSync(consolePath, 'utf8');
  const dump = parseGuestDump(consoleText);
  const network = parseGuestNetwork(consoleText);
  console.log(
    [
      `the guest's network_data.json:\n${dump.files.get('openstack/latest/network_data.json')?.toString('utf8') ?? '(missing)'}`,
      `the guest configured: ${JSON.stringify(network)}`,
    ].join('\n'),
  );
  expect(network).toEqual({ mac: port!.mac_address, address: `${port!.fixed_ips[0]!.ip_address}/24`, nic: expect.any(String), gateway: plane.network.gateway_ip, pinged: true });

  await deleteServer(plane, id);
  await eventually(`server ${id} gone`, async () => ((await fetchServer(plane, id)) === null ? true : undefined), 90_000, 1_000);
  expect(await listPorts(plane, { device_id: id })).toEqual([]);
}, 420_000);
