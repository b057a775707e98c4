/**
 * A Neutron's state as its API answers it (attributes as neutron-server 21 with ML2 lists them), and a reader
 * that filters it as neutron-server does: the recorded answers the model builder is tested on, here and in
 * Nova's own code (test/helpers/nova_network_info.py answers from the same world).
 */
import type { NeutronNetwork, NeutronPort, NeutronSubnet, Query } from '../../src/clients/neutron.js';
import type { NeutronReads } from '../../src/network/instance-nw-info.js';

export interface World {
  ports: NeutronPort[];
  networks: NeutronNetwork[];
  subnets: NeutronSubnet[];
  floatingips: { floating_ip_address: string; fixed_ip_address: string; port_id: string }[];
  extensions: string[];
  /** No L3 plugin: GET /v2.0/floatingips answers 404. */
  no_l3?: boolean;
}

export const PROJECT = 'b6d4a9f1e2c34d5e8f7a6b5c4d3e2f10';
export const INSTANCE = '7c1a2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

export const NET = {
  flat: '3f39a26c-c9a1-4c6e-9f55-0b1f2a3c4d5e',
  vxlan: '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d',
  multi: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a',
  other: 'c0ffee00-1111-4222-8333-444455556666',
};

export const PORT = {
  bridge: 'd1bc88c9-fe01-4b2a-9c3d-4e5f6a7b8c9d',
  ovs: 'e2cd99da-0f12-4c3b-8d4e-5f6a7b8c9dae',
  ovs2: 'f3deaaeb-1023-4d4c-9e5f-6a7b8c9daebf',
  dvs: 'a4efbbfc-2134-4e5d-8f6a-7b8c9daebfc0',
  vhostuser: 'b5f0cc0d-3245-4f6e-9a7b-8c9daebfc0d1',
  unbound: 'c601dd1e-4356-406f-8b8c-9daebfc0d1e2',
};

function port(id: string, networkId: string, fields: Partial<NeutronPort>): NeutronPort {
  return {
    id,
    name: '',
    network_id: networkId,
    tenant_id: PROJECT,
    project_id: PROJECT,
    mac_address: `fa:16:3e:${id.slice(0, 2)}:${id.slice(2, 4)}:${id.slice(4, 6)}`,
    admin_state_up: true,
    status: 'ACTIVE',
    device_id: INSTANCE,
    device_owner: 'compute:nova',
    fixed_ips: [],
    security_groups: ['5e1f0c3a-7b2d-4c8e-9f1a-2b3c4d5e6f70'],
    'binding:host_id': 'compute-1',
    'binding:vif_type': 'bridge',
    'binding:vif_details': { bound_drivers: { '0': 'linuxbridge' }, connectivity: 'l2', port_filter: true },
    'binding:vnic_type': 'normal',
    'binding:profile': {},
    ...fields,
  } as NeutronPort;
}

export const WORLD: World = {
  networks: [
    {
      id: NET.flat, name: 'neutroncp-flat', tenant_id: PROJECT, mtu: 1500, shared: true, admin_state_up: true, port_security_enabled: true,
      subnets: ['s4', 's6'], 'router:external': false, 'provider:physical_network': 'physnet1', 'provider:network_type': 'flat',
    },
    {
      id: NET.vxlan, name: 'r\u00e9seau-\u00fc', tenant_id: 'another-project', mtu: 1450, shared: false, admin_state_up: true, port_security_enabled: true,
      subnets: ['svx'], 'provider:physical_network': null, 'provider:network_type': 'vxlan',
    },
    {
      id: NET.multi, name: 'multi', tenant_id: PROJECT, mtu: 9000, shared: false, admin_state_up: true, subnets: ['smulti'],
      segments: [
        { 'provider:physical_network': null, 'provider:network_type': 'vxlan' },
        { 'provider:physical_network': 'physnet2', 'provider:network_type': 'vlan' },
      ],
    },
    { id: NET.other, name: 'other', tenant_id: 'someone-else', shared: false, subnets: [], 'provider:physical_network': null, 'provider:network_type': 'local' },
  ],
  subnets: [
    {
      id: 's4', network_id: NET.flat, cidr: '10.9.0.0/24', gateway_ip: '10.9.0.1', enable_dhcp: true, ipv6_address_mode: null,
      dns_nameservers: ['10.9.0.2', '10.9.0.2', '8.8.8.8'],
      host_routes: [{ destination: '192.168.0.0/16', nexthop: '10.9.0.254' }, { destination: '192.168.0.0/16', nexthop: '10.9.0.254' }, { destination: '0.0.0.0/0', nexthop: '10.9.0.1' }],
    },
    { id: 's6', network_id: NET.flat, cidr: '2001:db8::/64', gateway_ip: '2001:db8::1', enable_dhcp: true, ipv6_address_mode: 'slaac', dns_nameservers: [], host_routes: [] },
    { id: 'svx', network_id: NET.vxlan, cidr: '172.16.0.0/24', gateway_ip: null, enable_dhcp: false, dns_nameservers: [], host_routes: [] },
    { id: 'smulti', network_id: NET.multi, cidr: '10.20.0.0/24', gateway_ip: '10.20.0.1', enable_dhcp: true, dns_nameservers: ['10.20.0.53'], host_routes: [] },
  ],
  ports: [
    port(PORT.bridge, NET.flat, {
      fixed_ips: [{ subnet_id: 's4', ip_address: '10.9.0.76' }, { subnet_id: 's6', ip_address: '2001:db8::f816:3eff:fe6b:2a81' }, { subnet_id: 's4', ip_address: '10.9.0.77' }],
    }),
    port(PORT.ovs, NET.vxlan, {
      status: 'DOWN', admin_state_up: false, fixed_ips: [{ subnet_id: 'svx', ip_address: '172.16.0.5' }],
      'binding:vif_type': 'ovs', 'binding:vif_details': { bridge_name: 'br-int-with-a-long-name', ovs_hybrid_plug: false, port_filter: true },
    }),
    port(PORT.ovs2, NET.multi, {
      status: 'DOWN', fixed_ips: [{ subnet_id: 'smulti', ip_address: '10.20.0.9' }],
      'binding:vif_type': 'ovs', 'binding:vif_details': { port_filter: true }, 'binding:profile': { foo: 'bar', trusted: true },
    }),
    port(PORT.dvs, NET.other, { 'binding:vif_type': 'dvs', 'binding:vif_details': {}, 'binding:vnic_type': 'direct', tenant_id: PROJECT }),
    port(PORT.vhostuser, NET.flat, {
      fixed_ips: [{ subnet_id: 's4', ip_address: '10.9.0.80' }],
      'binding:vif_type': 'vhostuser', 'binding:vif_details': { vhostuser_fp_plug: true, vhostuser_mode: 'client', vhostuser_socket: '/var/run/vhu' },
      'binding:profile': null,
    }),
    port(PORT.unbound, NET.flat, { status: 'DOWN', 'binding:vif_type': 'unbound', 'binding:vif_details': {}, 'binding:host_id': '' }),
    port('dhcp-flat', NET.flat, { device_owner: 'network:dhcp', device_id: 'dhcp-agent', fixed_ips: [{ subnet_id: 's4', ip_address: '10.9.0.2' }] }),
    port('dhcp-multi-a', NET.multi, { device_owner: 'network:dhcp', device_id: 'dhcp-agent', fixed_ips: [{ subnet_id: 'smulti', ip_address: '10.20.0.2' }] }),
    port('dhcp-multi-b', NET.multi, {
      device_owner: 'network:dhcp', device_id: 'dhcp-agent',
      fixed_ips: [{ subnet_id: 'smulti', ip_address: '10.20.0.3' }, { subnet_id: 'smulti', ip_address: '10.20.0.4' }],
    }),
  ],
  floatingips: [
    { floating_ip_address: '203.0.113.10', fixed_ip_address: '10.9.0.76', port_id: PORT.bridge },
    { floating_ip_address: '203.0.113.11', fixed_ip_address: '10.9.0.76', port_id: PORT.bridge },
    { floating_ip_address: '203.0.113.12', fixed_ip_address: '10.9.0.80', port_id: 'not-this-port' },
  ],
  extensions: ['binding', 'multi-provider', 'provider', 'security-group', 'router'],
};

function matches(item: Record<string, unknown>, query: Query): boolean {
  return query.every(([key, wanted]) => key === 'fields' || (Array.isArray(wanted) ? wanted : [wanted]).includes(item[key] as string | boolean));
}

/** Neutron as a reader of the world, recording every call as `METHOD path?query`. */
export function worldReader(world: World, calls: string[] = []): NeutronReads {
  const list = <T>(kind: string, items: T[], query: Query): T[] => {
    calls.push(`GET /v2.0/${kind}${query.length ? `?${query.map(([k, v]) => `${k}=${String(v)}`).join('&')}` : ''}`);
    return items.filter((item) => matches(item as Record<string, unknown>, query));
  };
  return {
    listPorts: async (query) => list('ports', world.ports, query),
    listNetworks: async (query) => list('networks', world.networks, query),
    listSubnets: async (query) => list('subnets', world.subnets, query),
    listFloatingIps: async (query) => {
      const found = list('floatingips', world.floatingips, query);
      return world.no_l3 ? [] : found;
    },
    showNetwork: async (id, fields = []) => {
      calls.push(`GET /v2.0/networks/${id}?fields=${fields.join(',')}`);
      return world.networks.find((network) => network.id === id)!;
    },
    listExtensions: async () => {
      calls.push('GET /v2.0/extensions');
      return world.extensions;
    },
  };
}
