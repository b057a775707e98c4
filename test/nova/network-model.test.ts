import { hydrateNetworkInfo } from '../../src/nova/network-model.js';
import type { Vif } from '../../src/nova/spawn-request.js';
import { runPython } from '../metadata/python.js';
import { expectInvalid } from './expect-invalid.js';

/** nova.network.model.NetworkInfo.hydrate, then back to JSON: what Nova makes of each VIF list. */
const NOVA_HYDRATE = `
import json, sys
from nova.network import model
print(json.dumps([json.loads(model.NetworkInfo.hydrate(vifs).json()) for vifs in json.load(sys.stdin)]))
`;

/** The slice of Nova's hydrated VIF that the Vif model keeps. */
function asModel(vif: any): Vif {
  const ip = (value: any) => ({ address: value.address });
  return {
    id: vif.id,
    address: vif.address,
    type: vif.type,
    devname: vif.devname,
    vnic_type: vif.vnic_type,
    network: {
      id: vif.network.id,
      bridge: vif.network.bridge,
      label: vif.network.label,
      subnets: vif.network.subnets.map((subnet: any) => ({
        cidr: subnet.cidr,
        version: subnet.version,
        gateway: subnet.gateway && ip(subnet.gateway),
        ips: subnet.ips.map((fixed: any) => ({ address: fixed.address, type: fixed.type, version: fixed.version, floating_ips: fixed.floating_ips.map(ip) })),
        dns: subnet.dns.map(ip),
        routes: subnet.routes.map((route: any) => ({ cidr: route.cidr, gateway: { address: route.gateway?.address ?? null } })),
        meta: subnet.meta,
      })),
      meta: vif.network.meta,
    },
    details: vif.details,
    meta: vif.meta,
    active: vif.active,
    delegate_create: vif.delegate_create,
    preserve_on_delete: vif.preserve_on_delete,
  };
}

const NETWORK_INFOS: unknown[] = [
  // Bare minimum: every default of the models.
  [{ id: 'v1', address: 'fa:16:3e:00:00:01', type: 'ovs', network: { id: 'n1' } }],
  // Unknown keys at every level go to meta, next to a meta of their own.
  [
    {
      id: 'v2',
      address: 'fa:16:3e:00:00:02',
      type: 'vhostuser',
      devname: 'vhu0',
      vnic_type: 'normal',
      active: true,
      details: { vhostuser_socket: '/run/vhu0' },
      meta: { a: 1 },
      brand_new_field: 'x',
      network: {
        id: 'n2',
        label: 'net',
        bridge: null,
        mtu: 9000,
        meta: { tunneled: false },
        subnets: [
          {
            cidr: '192.0.2.0/24',
            gateway: { address: '192.0.2.1', type: 'gateway' },
            dhcp_server: '192.0.2.2',
            dns: [{ address: '192.0.2.53' }],
            routes: [{ cidr: '198.51.100.0/24', gateway: { address: '192.0.2.254' } }, { cidr: '0.0.0.0/0', gateway: null }],
            ips: [{ address: '192.0.2.10', type: null, floating_ips: [{ address: '203.0.113.9', type: 'floating' }] }],
          },
          { cidr: '2001:db8::/64', gateway: {}, ips: [{ address: '2001:db8::10', version: 6 }], ipv6_address_mode: 'dhcpv6-stateful' },
          { cidr: '198.51.100.0/25', ips: null, dns: null, routes: null, gateway: null },
        ],
      },
    },
  ],
  [],
];

test("VIFs come out as nova.network.model's hydrate makes them", async () => {
  const nova = JSON.parse(await runPython(['-c', NOVA_HYDRATE], NETWORK_INFOS)) as unknown[][];
  NETWORK_INFOS.forEach((networkInfo, index) => {
    expect(hydrateNetworkInfo(networkInfo, 'network_info')).toEqual(nova[index]!.map(asModel));
  });
});

test.each([
  ['network_info', { id: 'v' }, 'network_info', { id: 'v' }],
  ['a VIF that is a string', ['v1'], 'network_info[0]', 'v1'],
  ['no MAC', [{ id: 'v', type: 'ovs', network: { id: 'n' } }], 'network_info[0].address', undefined],
  ['no type', [{ id: 'v', address: 'm', type: null, network: { id: 'n' } }], 'network_info[0].type', null],
  ['details a list', [{ id: 'v', address: 'm', type: 'ovs', details: [], network: { id: 'n' } }], 'network_info[0].details', []],
  ['meta a string', [{ id: 'v', address: 'm', type: 'ovs', meta: 'x', network: { id: 'n' } }], 'network_info[0].meta', 'x'],
  ['active a string', [{ id: 'v', address: 'm', type: 'ovs', active: 'yes', network: { id: 'n' } }], 'network_info[0].active', 'yes'],
  ['a network without id', [{ id: 'v', address: 'm', type: 'ovs', network: { label: 'n' } }], 'network_info[0].network.id', undefined],
  ['subnets an object', [{ id: 'v', address: 'm', type: 'ovs', network: { id: 'n', subnets: {} } }], 'network_info[0].network.subnets', {}],
  ['a CIDR that is a name', [{ id: 'v', address: 'm', type: 'ovs', network: { id: 'n', subnets: [{ cidr: 'lan' }] } }], 'network_info[0].network.subnets[0].cidr', 'lan'],
  [
    'a gateway that is no IP',
    [{ id: 'v', address: 'm', type: 'ovs', network: { id: 'n', subnets: [{ cidr: '10.0.0.0/8', gateway: { address: 'gw' } }] } }],
    'network_info[0].network.subnets[0].gateway.address',
    'gw',
  ],
  [
    'a route gateway that is no IP',
    [{ id: 'v', address: 'm', type: 'ovs', network: { id: 'n', subnets: [{ cidr: '10.0.0.0/8', routes: [{ cidr: '0.0.0.0/0', gateway: { address: 'gw' } }] }] } }],
    'network_info[0].network.subnets[0].routes[0].gateway.address',
    'gw',
  ],
  [
    'a subnet version that contradicts its CIDR',
    [{ id: 'v', address: 'm', type: 'ovs', network: { id: 'n', subnets: [{ cidr: '10.0.0.0/8', version: 6 }] } }],
    'network_info[0].network.subnets[0].version',
    6,
  ],
])('%s is refused', (_, networkInfo, field, value) => {
  expectInvalid(() => hydrateNetworkInfo(networkInfo, 'network_info'), field, value);
});
