/**
 * The control plane's Neutron is a real one: neutron-server (ML2, Linux bridge) answers, the Linux bridge agent
 * of the agent host is alive, a compute port bound to that host binds as `bridge` (and to a host without an
 * agent fails to), the shared flat network of the facts is there, Neutron's events reach nova-api, a port of a
 * test's own `local` network goes ACTIVE once its tap is in its bridge, as a compute host plugs it, a VIF on
 * the shared flat network reaches the machine at the gateway address, and the agent host is one compute
 * host's at a time (claimAgentHost), a stale one retired.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '../bus/helpers/rabbit.js';
import { ComputeHost } from './compute-host.js';
import { computeHostConfig, CONTROL_PLANE_START_MS, startControlPlane, type ControlPlane } from './control-plane.js';
import {
  claimAgentHost,
  createNetwork,
  createPort,
  createSubnet,
  deleteNetwork,
  deletePort,
  listAgents,
  NeutronError,
  showNetwork,
  showPort,
  showSubnet,
  updatePort,
  type AgentHostClaim,
} from './network.js';

const execFileAsync = promisify(execFile);

let plane: ControlPlane;
const ports: string[] = [];
const claims: AgentHostClaim[] = [];

beforeAll(async () => {
  plane = await startControlPlane();
}, CONTROL_PLANE_START_MS);

afterAll(async () => {
  for (const id of ports) await deletePort(plane, id).catch((error: Error) => console.warn(error.message));
  for (const claim of claims) await claim.release();
});

/** A compute port of a server `device_id` on a network (the control plane's), bound to `host`. */
async function computePort(host: string, device_id: string = randomUUID(), network_id = plane.network.id) {
  const port = await createPort(plane, { network_id, device_owner: 'compute:nova', device_id, 'binding:host_id': host });
  ports.push(port.id);
  return port;
}

/**
 * The request id of nova-api's answer to the event `name` Neutron sent about `server`: Neutron logs each
 * event with it (a warning for this test's unknown servers: nova-api answers 404 for them, as expected).
 */
async function eventRequestId(server: string, name: string): Promise<string> {
  return eventually(`Neutron sent ${name} for ${server}`, () => {
    const line = readFileSync(join(plane.log_dir, 'neutron-server.log'), 'utf8')
      .split('\n')
      .find((text) => text.includes(`'server_uuid': '${server}'`) && text.includes(`'name': '${name}'`));
    return line === undefined ? undefined : /Nova event matching \['(req-[0-9a-f-]+)'\]/.exec(line)?.[1] ?? `unmatched: ${line}`;
  }, 20_000, 500);
}

/** nova-api's log line of a request. */
function apiLine(requestId: string): string | undefined {
  return readFileSync(join(plane.log_dir, 'nova-api.log'), 'utf8')
    .split('\n')
    .find((text) => text.includes(requestId));
}

const ip = (...args: string[]) => execFileAsync('ip', args);

test('neutron-server answers, with the Linux bridge agent of the agent host alive and physnet1 mapped', async () => {
  const agents = await listAgents(plane, { host: plane.agent_host });
  expect(agents).toEqual([
    expect.objectContaining({
      agent_type: 'Linux bridge agent',
      binary: 'neutron-linuxbridge-agent',
      alive: true,
      configurations: expect.objectContaining({ interface_mappings: { [plane.network.physical_network]: expect.any(String) } }),
    }),
  ]);
});

test('the shared flat network of the facts: on physnet1, one IPv4 subnet without DHCP', async () => {
  const network = await showNetwork(plane, plane.network.id);
  expect(network).toMatchObject({
    name: plane.network.name,
    shared: true,
    status: 'ACTIVE',
    'provider:network_type': 'flat',
    'provider:physical_network': plane.network.physical_network,
    subnets: [plane.network.subnet_id],
  });
  const subnet = await showSubnet(plane, plane.network.subnet_id);
  expect(subnet).toMatchObject({ cidr: plane.network.cidr, gateway_ip: plane.network.gateway_ip, dns_nameservers: plane.network.dns_nameservers, enable_dhcp: false });
});

test('a compute port bound to the agent host binds as bridge through linuxbridge; to a host without an agent it fails', async () => {
  const bound = await computePort(plane.agent_host);
  expect(bound).toMatchObject({
    'binding:host_id': plane.agent_host,
    'binding:vif_type': 'bridge',
    'binding:vnic_type': 'normal',
    'binding:vif_details': expect.objectContaining({ connectivity: 'l2' }),
    status: 'DOWN',
  });
  expect(bound.fixed_ips).toEqual([{ subnet_id: plane.network.subnet_id, ip_address: expect.stringMatching(/^10\.9\.0\.\d+$/) }]);
  const unbound = await computePort(`no-agent-${randomUUID()}`);
  expect(unbound['binding:vif_type']).toBe('binding_failed');

  expect(await deletePort(plane, bound.id)).toBe(true);
  await expect(showPort(plane, bound.id)).rejects.toMatchObject({ status: 404 } satisfies Partial<NeutronError>);
  expect(await deletePort(plane, bound.id)).toBe(false);
});

test('a change of a compute port reaches nova-api as network-changed (os-server-external-events accepted)', async () => {
  const server = randomUUID();
  const port = await computePort(plane.agent_host, server);
  await updatePort(plane, port.id, { name: 'renamed' });
  const requestId = await eventRequestId(server, 'network-changed');
  expect(requestId).toMatch(/^req-/);
  expect(apiLine(requestId)).toMatch(/"POST \/v2\.1\/os-server-external-events HTTP\/1\.1" status: 207/);
});

test('a port of a local network goes ACTIVE once its tap is in its bridge, and nova-api hears network-vif-plugged', async () => {
  // A network of this test's own (not the shared one, whose bridge a guest of another test may be in).
  const network = await createNetwork(plane, { name: `local-${randomUUID().slice(0, 8)}` });
  expect(network['provider:network_type']).toBe('local');
  // As a compute host plugs a bridge VIF (Nova's network model: "brq" + network id, "tap" + port id, 14 characters).
  const bridge = `brq${network.id}`.slice(0, 14);
  let tap: string | undefined;
  try {
    await createSubnet(plane, { network_id: network.id, ip_version: 4, cidr: '10.99.0.0/24', enable_dhcp: false });
    const server = randomUUID();
    const port = await computePort(plane.agent_host, server, network.id);
    expect(port).toMatchObject({ 'binding:vif_type': 'bridge', status: 'DOWN' });
    tap = `tap${port.id}`.slice(0, 14);
    await ip('link', 'add', bridge, 'type', 'bridge');
    await ip('tuntap', 'add', 'dev', tap, 'mode', 'tap');
    await ip('link', 'set', 'dev', tap, 'master', bridge, 'up');
    await ip('link', 'set', 'dev', bridge, 'up');
    // The agent polls every 2 s, then tells neutron-server the device is up.
    await eventually(`port ${port.id} ACTIVE`, async () => ((await showPort(plane, port.id)).status === 'ACTIVE' ? true : undefined), 30_000, 500);
    const requestId = await eventRequestId(server, 'network-vif-plugged');
    expect(apiLine(requestId)).toMatch(/"POST \/v2\.1\/os-server-external-events HTTP\/1\.1" status: 207/);
  } finally {
    if (tap !== undefined) await ip('link', 'delete', 'dev', tap).catch(() => undefined);
    for (const id of ports.splice(0)) await deletePort(plane, id);
    await deleteNetwork(plane, network.id);
    // The agent deletes an empty bridge when its network goes; this one, if it has not yet.
    await ip('link', 'delete', 'dev', bridge).catch(() => undefined);
  }
}, 60_000);

test('a VIF on the shared flat network reaches the machine at the subnet\'s gateway address (physnet1\'s veth pair)', async () => {
  const port = await computePort(plane.agent_host);
  const address = port.fixed_ips[0]!.ip_address;
  // A network namespace stands for the guest: its end of a veth pair named as the port's tap, in the network's
  // bridge, made here if no compute host has made it yet (and left: another test's guest may be in it).
  const bridge = `brq${plane.network.id}`.slice(0, 14);
  const tap = `tap${port.id}`.slice(0, 14);
  const guest = `spawnd-guest-${port.id.slice(0, 8)}`;
  const machine = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => machine.listen(0, plane.network.gateway_ip, resolve));
  try {
    await ip('link', 'add', bridge, 'type', 'bridge').catch((error: Error) => {
      if (!/File exists/.test(error.message)) throw error;
    });
    await ip('link', 'set', 'dev', bridge, 'up');
    await ip('netns', 'add', guest);
    await ip('link', 'add', tap, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', guest);
    await ip('link', 'set', 'dev', tap, 'master', bridge, 'up');
    await ip('-n', guest, 'link', 'set', 'dev', 'eth0', 'address', port.mac_address, 'up');
    await ip('-n', guest, 'addr', 'add', `${address}/${plane.network.cidr.split('/')[1]}`, 'dev', 'eth0');
    await eventually(`port ${port.id} ACTIVE`, async () => ((await showPort(plane, port.id)).status === 'ACTIVE' ? true : undefined), 30_000, 500);
    // The agent has put physnet1's interface into the bridge; a TCP handshake from the guest to the machine's
    // listener on the gateway address crosses it both ways.
    const { port: listening } = machine.address() as AddressInfo;
    const { stdout } = await execFileAsync('ip', [
      'netns', 'exec', guest, '/usr/bin/python3', '-c',
      'import socket, sys; s = socket.create_connection((sys.argv[1], int(sys.argv[2])), 10); print(s.getsockname()[0])',
      plane.network.gateway_ip, String(listening),
    ]);
    expect(stdout.trim()).toBe(address);
  } finally {
    machine.close();
    await ip('netns', 'delete', guest).catch(() => undefined);
    await ip('link', 'delete', 'dev', tap).catch(() => undefined);
  }
}, 60_000);

test('claimAgentHost holds the agent host until released, and retires a compute service left on it', async () => {
  const held = async () => (await execFileAsync('flock', ['--nonblock', plane.agent_host_lock, 'true']).then(() => false, () => true));
  const first = await claimAgentHost(plane);
  claims.push(first);
  expect(first.name).toBe(plane.agent_host);
  expect(await held()).toBe(true);

  // A compute host of that name, registered and stopped without being retired, as a killed run leaves it.
  const dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-agent-host-'));
  try {
    const config = join(dir, 'nova.conf');
    writeFileSync(config, computeHostConfig(plane, plane.agent_host, dir));
    const left = new ComputeHost(plane, plane.agent_host, config);
    await left.start();
    await left.stop();
    expect(await left.listedService()).toMatchObject({ Binary: 'nova-compute' });

    await first.release();
    expect(await held()).toBe(false);
    const second = await claimAgentHost(plane);
    claims.push(second);
    expect(await left.listedService()).toBeUndefined();
    await second.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
