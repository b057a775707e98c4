/**
 * Networking through the real neutron-server and Linux bridge agent of scripts/control-plane, with the real Nova
 * control plane: our daemon runs as the agent's host (claimAgentHost), on test:///default.
 * - `server create --network N` and `--port P` go ACTIVE with the port bound here (binding:host_id, vif_type
 *   bridge, device_owner compute:<az>); `server show` lists the address; the info cache holds the VIF; the
 *   drive is what Nova's own InstanceMetadata writes from that cache, byte for byte, network_data.json included,
 *   and the metadata service serves the same network_data.json;
 * - a second address on the user's port: Neutron's network-changed refreshes the info cache;
 * - `server delete`: the port made for the server is deleted, the user's port unbound and kept;
 * - a port that cannot bind here (on a physical network the agent does not map: binding_failed) puts the
 *   server in ERROR with Nova's PortBindingFailed fault, the port unbound again;
 * - a vif_plugging_timeout that expires (test:///default makes no tap, so the agent never sees the port up):
 *   ERROR with VirtualInterfaceCreateException, the port made for it deleted.
 * The ACTIVE cases run with vif_plugging_timeout 0 for that reason; the wait itself is proven with a real guest
 * (test/e2e/network-guest.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { readDrive } from '../../src/configdrive/read-drive.js';
import { eventually } from '../bus/helpers/rabbit.js';
import { ComputeHost, deleteServers, novaDb, remove, settled, type Server } from '../control-plane/compute-host.js';
import { computeHostConfig, CONTROL_PLANE_START_MS, openstack, startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { claimAgentHost, createNetwork, createPort, createSubnet, deleteNetwork, deletePort, listPorts, neutron, showPort, updatePort, type AgentHostClaim, type Port } from '../control-plane/network.js';
import { expectDriveAsNova } from '../control-plane/server-drive.js';
import { proxyHeaders } from '../metadata-api/fixtures.js';

const SUFFIX = randomBytes(4).toString('hex');
const METADATA_PORT = 20_000 + Math.floor(Math.random() * 20_000);
const PROXY_SECRET = `secret-${SUFFIX}`;

let plane: ControlPlane;
let claim: AgentHostClaim | undefined;
let dir: string;
let config: string;
let host: ComputeHost | undefined;
let flavorName: string;
const cleanups: (() => Promise<unknown>)[] = [];

function writeConfig(vifPluggingTimeout: number): void {
  writeFileSync(
    config,
    computeHostConfig(plane, claim!.name, dir, {
      DEFAULT: {
        enabled_apis: 'osapi_compute,metadata',
        metadata_listen: '127.0.0.1',
        metadata_listen_port: String(METADATA_PORT),
        vif_plugging_timeout: String(vifPluggingTimeout),
      },
      neutron: { service_metadata_proxy: 'true', metadata_proxy_shared_secret: PROXY_SECRET },
      glance: { api_servers: plane.glance_url },
    }),
  );
}

beforeAll(async () => {
  plane = await startControlPlane();
  claim = await claimAgentHost(plane);
  dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-network-cp-'));
  config = join(dir, 'nova.conf');
  writeConfig(0);
  host = new ComputeHost(plane, claim.name, config);
  await host.start();
  await host.waitUntilListed();
  flavorName = `net-${SUFFIX}`;
  const flavor = (await openstack(plane, 'compute', ['flavor', 'create', '--ram', '64', '--vcpus', '1', '--disk', '1', flavorName])) as { id: string };
  cleanups.push(() => remove(plane, `${plane.compute_url}/flavors/${flavor.id}`));
}, CONTROL_PLANE_START_MS);

afterAll(async () => {
  if (host) await host.retire();
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await claim?.release();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 180_000);

async function create(label: string, args: string[]): Promise<{ id: string; adminPass: string | null }> {
  const created = await host!.create(`${label}-${SUFFIX}`, ['--config-drive', 'true', '--image', plane.image_id, '--flavor', flavorName, ...args]);
  return { id: created.id, adminPass: created.adminPass ?? null };
}

/** DELETE through nova-api (our service is up: terminate_instance reaches the daemon), until the server is gone. */
async function deleteServer(id: string): Promise<void> {
  expect(await deleteServers(plane, [id], 90_000)).toEqual([]);
}

/** The port as bound to our host for the server. */
function expectBound(port: Port, serverId: string): void {
  expect(port).toMatchObject({ device_id: serverId, device_owner: 'compute:nova', 'binding:host_id': claim!.name, 'binding:vif_type': 'bridge' });
}

/** What the metadata service answers for the server, through Neutron's proxy. */
async function metadataFile(id: string, project: string, path: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${METADATA_PORT}/openstack/latest/${path}`, { headers: proxyHeaders(id, project, PROXY_SECRET) });
  expect(response.status).toBe(200);
  return response.text();
}

test('--network: ACTIVE, the port made and bound here, the address listed; drive and metadata service as Nova writes them', async () => {
  const built = await create('net', ['--network', plane.network.id]);
  const server = (await settled(plane, built.id)) as Server;
  expect(server).toMatchObject({ status: 'ACTIVE', 'OS-EXT-SRV-ATTR:host': claim!.name });
  const [port, ...others] = await listPorts(plane, { device_id: built.id });
  expect(others).toEqual([]);
  expectBound(port!, built.id);
  const address = port!.fixed_ips[0]!.ip_address;
  expect(JSON.stringify(server['addresses'])).toContain(address);

  // The info cache Nova's database holds: our network_info, with the port.
  const cache = await novaDb(plane, 'SELECT network_info FROM instance_info_caches WHERE instance_uuid = %s', built.id);
  const vifs = JSON.parse(String(cache[0]![0])) as { id: string; address: string; type: string; network: { bridge: string } }[];
  expect(vifs.map((vif) => ({ id: vif.id, address: vif.address, type: vif.type, bridge: vif.network.bridge }))).toEqual([
    { id: port!.id, address: port!.mac_address, type: 'bridge', bridge: `brq${plane.network.id}`.slice(0, 14) },
  ]);

  // The drive, every file, against Nova's own InstanceMetadata for the server as cell1 holds it.
  const drive = readDrive(readFileSync(join(dir, 'instances', built.id, 'disk.config'))).tree;
  await expectDriveAsNova(drive, { configFiles: [plane.nova_conf, config], uuid: built.id, adminPassword: built.adminPass });
  const networkData = JSON.parse(Buffer.from(drive.get('openstack/latest/network_data.json')!).toString('utf8')) as { links: { ethernet_mac_address: string }[]; networks: { type: string; ip_address: string }[] };
  expect(networkData.links.map((link) => link.ethernet_mac_address)).toEqual([port!.mac_address]);
  expect(networkData.networks).toEqual([expect.objectContaining({ type: 'ipv4', ip_address: address })]);
  expect(await metadataFile(built.id, String(server['project_id']), 'network_data.json')).toBe(Buffer.from(drive.get('openstack/latest/network_data.json')!).toString('utf8'));

  await deleteServer(built.id);
  await expect(showPort(plane, port!.id)).rejects.toMatchObject({ status: 404 });
}, 180_000);

test("--port: ACTIVE with the user's port bound here; after delete the port is kept, unbound", async () => {
  const mine = await createPort(plane, { network_id: plane.network.id, name: `mine-${SUFFIX}` });
  cleanups.push(() => deletePort(plane, mine.id));
  const built = await create('port', ['--port', mine.id]);
  expect(await settled(plane, built.id)).toMatchObject({ status: 'ACTIVE' });
  expectBound(await showPort(plane, mine.id), built.id);

  // A second address on the port: Neutron sends network-changed, the daemon refreshes the info cache.
  const second = '10.9.0.251';
  await updatePort(plane, mine.id, { fixed_ips: [...(await showPort(plane, mine.id)).fixed_ips.map(({ ip_address }) => ({ ip_address })), { ip_address: second }] });
  await eventually('the info cache refreshed by network-changed', async () => {
    const [[cache]] = (await novaDb(plane, 'SELECT network_info FROM instance_info_caches WHERE instance_uuid = %s', built.id)) as [[string]];
    return cache.includes(`"address": "${second}"`) ? true : undefined;
  }, 60_000, 1_000).catch((error: unknown) => {
    console.warn(`the daemon's log of ${built.id}:\n${host!.stderr.split('\n').filter((line) => line.includes(built.id) || line.includes('network-changed')).join('\n')}`);
    throw error;
  });
  expect(host!.stderr).toContain(`network info cache refreshed (network-changed ${mine.id}): 1 port(s)`);

  await deleteServer(built.id);
  expect(await showPort(plane, mine.id)).toMatchObject({ device_id: '', device_owner: '', 'binding:host_id': '' });
}, 180_000);

test('a port that cannot bind here: ERROR with the PortBindingFailed fault, the port left unbound', async () => {
  // A flat network on a physical network the agent does not map: ML2 finds no driver to bind its ports. One
  // flat network per physical network: one a killed run left goes first.
  const { networks: left } = (await neutron(plane, 'GET', '/networks?provider:physical_network=physnet-unwired')) as { networks: { id: string }[] };
  for (const stale of left) {
    for (const port of await listPorts(plane, { network_id: stale.id })) await deletePort(plane, port.id);
    await deleteNetwork(plane, stale.id);
  }
  const unwired = await createNetwork(plane, { name: `unwired-${SUFFIX}`, 'provider:network_type': 'flat', 'provider:physical_network': 'physnet-unwired' });
  cleanups.push(() => deleteNetwork(plane, unwired.id));
  await createSubnet(plane, { network_id: unwired.id, cidr: '10.99.0.0/24', ip_version: 4, enable_dhcp: false });
  const direct = await createPort(plane, { network_id: unwired.id, name: `unbindable-${SUFFIX}` });
  cleanups.push(() => deletePort(plane, direct.id));
  const built = await create('unbindable', ['--port', direct.id]);
  const server = (await settled(plane, built.id)) as Server;
  expect(server.status).toBe('ERROR');
  expect(JSON.stringify(server['fault'])).toContain(`Binding failed for port ${direct.id}, please check neutron logs for more information.`);
  expect(await showPort(plane, direct.id)).toMatchObject({ device_id: '', 'binding:host_id': '' });
}, 180_000);

test('a vif_plugging_timeout that expires: ERROR with VirtualInterfaceCreateException, the port made for it deleted', async () => {
  await host!.stop();
  writeConfig(2);
  await host!.start();
  const built = await create('timeout', ['--network', plane.network.id]);
  const server = (await settled(plane, built.id)) as Server;
  expect(server.status).toBe('ERROR');
  expect(JSON.stringify(server['fault'])).toContain('VirtualInterfaceCreateException');
  expect(JSON.stringify(server['fault'])).toContain('timed out after 2 s waiting for network-vif-plugged-');
  expect(await listPorts(plane, { device_id: built.id })).toEqual([]);
}, 180_000);
