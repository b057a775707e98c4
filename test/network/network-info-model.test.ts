/**
 * The network_info model, built from recorded Neutron answers (neutron-world.ts), against what Nova's own
 * _build_network_info_model builds from the same answers (test/helpers/nova_network_info.py): the same
 * JSON text, byte for byte, as InstanceInfoCache.network_info holds it.
 */
import { join } from 'node:path';
import { dumps, type JsonValue } from '../../src/metadata/python-json.js';
import { ExtensionCache } from '../../src/network/extensions.js';
import { buildInstanceNwInfo, type CachedVif, type NetworkInstance } from '../../src/network/instance-nw-info.js';
import { physnetFromSegments, type ModelOptions } from '../../src/network/network-info-model.js';
import { NetworkRequestRefused } from '../../src/network/errors.js';
import { cachedNetworkInfo } from '../../src/network/network-api.js';
import { hydrateNetworkInfo } from '../../src/nova/network-model.js';
import { expectInvalid } from '../nova/expect-invalid.js';
import { PACKAGE_ROOT } from '../../src/version.js';
import { runPython } from '../metadata/python.js';
import { INSTANCE, NET, PORT, PROJECT, WORLD, worldReader, type World } from './neutron-world.js';

const HELPER = join(PACKAGE_ROOT, 'test/helpers/nova_network_info.py');

interface Case {
  name: string;
  world: World;
  cache: CachedVif[];
  /** network-changed for this port: the cache's VIF rebuilt, added or dropped (networks and portIds unused). */
  refreshVifId?: string;
  networks: string[];
  portIds: string[];
  preexisting: string[];
  options: ModelOptions;
}

const DEFAULTS: ModelOptions = { injected: false, ovsBridge: 'br-int' };
const ALL_PORTS = [PORT.bridge, PORT.ovs, PORT.ovs2, PORT.dvs, PORT.vhostuser, PORT.unbound];
/** A VIF from an earlier allocation, as Nova cached it: kept ahead of the new ones, its network from the cache. */
const EARLIER: CachedVif = JSON.parse(
  `{"id": "${PORT.bridge}", "address": "fa:16:3e:d1:bc:88", "network": {"id": "${NET.flat}", "bridge": "brq3f39a26c-c9", "label": "cached-label", "subnets": [], "meta": {"injected": false, "tenant_id": "cached-tenant", "mtu": 1400}}, "type": "bridge", "details": {}, "devname": "tapd1bc88c9-fe", "ovs_interfaceid": null, "qbh_params": null, "qbg_params": null, "active": true, "vnic_type": "normal", "profile": {}, "preserve_on_delete": true, "delegate_create": true, "meta": {}}`,
);

const CASES: Case[] = [
  {
    name: 'every VIF type, ports up and down, IPv4 and IPv6, DHCP ports, floating IPs, multi-segment and tunneled networks, a port gone from Neutron',
    world: WORLD,
    cache: [],
    networks: [NET.flat, NET.vxlan, NET.multi],
    portIds: [...ALL_PORTS, '00000000-0000-4000-8000-00000000dead'],
    preexisting: [PORT.ovs],
    options: DEFAULTS,
  },
  {
    name: 'no multi-provider extension and no L3 plugin (floating IPs 404); flat_injected and another ovs_bridge',
    world: { ...WORLD, extensions: ['binding'], no_l3: true },
    cache: [],
    networks: [NET.multi, NET.flat],
    portIds: [PORT.ovs2, PORT.bridge],
    preexisting: [],
    options: { injected: true, ovsBridge: 'br-alt' },
  },
  {
    name: "an instance with a cached VIF: kept ahead, its network from the cache, its port preserved",
    world: WORLD,
    cache: [EARLIER],
    networks: [NET.multi],
    portIds: [PORT.ovs2],
    preexisting: [],
    options: DEFAULTS,
  },
  {
    name: 'network-changed for a cached port: its VIF rebuilt in place, the others kept as cached',
    world: WORLD,
    cache: [EARLIER, { ...EARLIER, id: PORT.unbound }],
    refreshVifId: PORT.bridge,
    networks: [],
    portIds: [],
    preexisting: [],
    options: DEFAULTS,
  },
  {
    name: 'network-changed for a port not in the cache: added at the end',
    world: WORLD,
    cache: [EARLIER],
    refreshVifId: PORT.ovs2,
    networks: [],
    portIds: [],
    preexisting: [],
    options: DEFAULTS,
  },
  {
    name: 'network-changed for a port Neutron no longer has for the instance: dropped from the cache',
    world: WORLD,
    cache: [{ ...EARLIER, id: '00000000-0000-4000-8000-00000000dead' }, EARLIER],
    refreshVifId: '00000000-0000-4000-8000-00000000dead',
    networks: [],
    portIds: [],
    preexisting: [],
    options: DEFAULTS,
  },
];

function instance(cache: CachedVif[]): NetworkInstance {
  return { uuid: INSTANCE, project_id: PROJECT, hostname: 'vm', availability_zone: 'nova', network_info: cache };
}

async function ours(testCase: Case): Promise<JsonValue[]> {
  const reader = worldReader(testCase.world);
  if (testCase.refreshVifId !== undefined) {
    return buildInstanceNwInfo(reader, new ExtensionCache(600_000), instance(testCase.cache), testCase.options, { kind: 'port', portId: testCase.refreshVifId });
  }
  const networks = testCase.networks.map((id) => testCase.world.networks.find((network) => network.id === id)!);
  return buildInstanceNwInfo(reader, new ExtensionCache(600_000), instance(testCase.cache), testCase.options, {
    kind: 'allocated',
    networks,
    portIds: testCase.portIds,
    preexistingPortIds: testCase.preexisting,
  });
}

async function novas(world: World, cases: Case[]): Promise<string[]> {
  const input = {
    world,
    cases: cases.map((testCase) => ({
      instance: { uuid: INSTANCE, project_id: PROJECT, network_info: testCase.cache },
      ...(testCase.refreshVifId === undefined ? { networks: testCase.networks, port_ids: testCase.portIds } : { refresh_vif_id: testCase.refreshVifId }),
      preexisting_port_ids: testCase.preexisting,
      options: { flat_injected: testCase.options.injected, ovs_bridge: testCase.options.ovsBridge },
    })),
  };
  return JSON.parse(await runPython([HELPER, 'recorded'], input)) as string[];
}

let reference: Map<string, string>;

beforeAll(async () => {
  reference = new Map();
  for (const world of new Set(CASES.map((testCase) => testCase.world))) {
    const cases = CASES.filter((testCase) => testCase.world === world);
    const texts = await novas(world, cases);
    cases.forEach((testCase, index) => reference.set(testCase.name, texts[index]!));
  }
}, 60_000);

test.each(CASES.map((testCase) => [testCase.name, testCase] as const))('%s: the JSON Nova stores, byte for byte', async (_name, testCase) => {
  const model = await ours(testCase);
  expect(dumps(model)).toBe(reference.get(testCase.name));
});

test('the model hydrates into the daemon\'s Vif[] with what the guest config needs', async () => {
  const vifs = hydrateNetworkInfo(await ours(CASES[0]!), 'network_info');
  expect(vifs.map((vif) => [vif.id, vif.type, vif.devname, vif.network.bridge, vif.active, vif.preserve_on_delete])).toEqual([
    [PORT.bridge, 'bridge', 'tapd1bc88c9-fe', 'brq3f39a26c-c9', true, false],
    [PORT.ovs, 'ovs', 'tape2cd99da-0f', 'br-int-with-a-', true, true],
    [PORT.ovs2, 'ovs', 'tapf3deaaeb-10', 'br-int', false, false],
    [PORT.dvs, 'dvs', 'tapa4efbbfc-21', NET.other, true, false],
    [PORT.vhostuser, 'vhostuser', 'tapb5f0cc0d-32', 'brq3f39a26c-c9', true, false],
    [PORT.unbound, 'unbound', 'tapc601dd1e-43', null, false, false],
  ]);
  const [v4, v6] = vifs[0]!.network.subnets;
  expect(v4!.meta).toEqual({ dhcp_server: '10.9.0.2' });
  expect(v4!.ips.map((ip) => [ip.address, ip.floating_ips.map((fip) => fip.address)])).toEqual([
    ['10.9.0.76', ['203.0.113.10', '203.0.113.11']],
    ['10.9.0.77', []],
  ]);
  expect(v4!.dns.map((dns) => dns.address)).toEqual(['10.9.0.2', '8.8.8.8']);
  expect(v4!.routes).toHaveLength(2);
  expect(v6!.meta).toEqual({ ipv6_address_mode: 'slaac', dhcp_server: '2001:db8::1' });
  expect(vifs[2]!.network.meta).toMatchObject({ physical_network: 'physnet2', tunneled: false, mtu: 9000 });
  expect(vifs[2]!.network.subnets[0]!.meta).toEqual({ dhcp_server: '10.20.0.3' });
  expect(vifs[1]!.network.meta).toMatchObject({ physical_network: null, tunneled: true, tenant_id: 'another-project' });
});

test('a network whose segments all lack a physical network is refused, naming the network', () => {
  expect(() => physnetFromSegments(NET.multi, [{ 'provider:network_type': 'vxlan' }])).toThrow(NetworkRequestRefused);
  expect(() => physnetFromSegments(NET.multi, [{ 'provider:network_type': 'vxlan' }])).toThrow(NET.multi);
  expect(physnetFromSegments(NET.multi, [])).toBeNull();
  expect(physnetFromSegments(NET.multi, undefined)).toBeNull();
});

test("the info cache's JSON text read back as cached VIFs; a cache the daemon could not use refused naming the field", async () => {
  const text = dumps(await ours(CASES[0]!));
  expect(dumps(cachedNetworkInfo(text) as unknown as JsonValue[])).toBe(text);
  expect(cachedNetworkInfo(null)).toEqual([]);
  expect(cachedNetworkInfo('[]')).toEqual([]);
  expectInvalid(() => cachedNetworkInfo('[{"id": "p"'), 'instance.info_cache.network_info', '[{"id": "p"');
  expectInvalid(() => cachedNetworkInfo('[{"id": "p", "address": "fa:16:3e:00:00:01", "type": "bridge"}]'), 'instance.info_cache.network_info[0].network', null);
});
