import { InvalidAddressError } from '../../src/metadata/ip-network.js';
import { ec2IpInfo, InvalidNetworkInfoError, networkMetadata } from '../../src/metadata/network-data.js';
import { dumps, type JsonValue } from '../../src/metadata/python-json.js';
import { DHCP_VIF, fixedIp, MAC_1, STATIC_VIF, subnet, vif } from './fixtures.js';

const NETWORK_ID = STATIC_VIF.network.id;
const v4 = (fields: Partial<Parameters<typeof subnet>[0]> = {}) =>
  subnet({ cidr: '10.0.0.0/24', version: 4, ips: [fixedIp('10.0.0.5')], ...fields });
const v6 = (fields: Partial<Parameters<typeof subnet>[0]> = {}) =>
  subnet({ cidr: '2001:db8::/64', version: 6, ips: [fixedIp('2001:db8::5')], ...fields });

function networks(...vifs: Parameters<typeof networkMetadata>[0]): JsonValue[] {
  return networkMetadata(vifs)!['networks'] as JsonValue[];
}

describe('network_data.json (netutils.get_network_metadata)', () => {
  test('no network info: null, which the document writes as {}', () => {
    expect(networkMetadata([])).toBeNull();
  });

  test('a VIF without subnets adds nothing and takes no interface number', () => {
    const result = networkMetadata([vif({ subnets: [] }), vif({ devname: null, subnets: [v4()] })])!;
    expect((result['links'] as { id: string }[]).map((link) => link.id)).toEqual(['interface0']);
  });

  test('static IPv4: netmask, default route first, then host routes; DNS', () => {
    const [network] = networks(
      vif({
        subnets: [
          v4({
            gateway: { address: '10.0.0.1' },
            dns: [{ address: '10.0.0.2' }],
            routes: [{ cidr: '172.16.5.9/12', gateway: { address: '10.0.0.254' } }],
          }),
        ],
      }),
    );
    expect(network).toEqual({
      id: 'network0',
      type: 'ipv4',
      link: 'tap5a1f1d2e-00',
      ip_address: '10.0.0.5',
      netmask: '255.255.255.0',
      routes: [
        { network: '0.0.0.0', netmask: '0.0.0.0', gateway: '10.0.0.1' },
        { network: '172.16.0.0', netmask: '255.240.0.0', gateway: '10.0.0.254' },
      ],
      network_id: NETWORK_ID,
      services: [{ type: 'dns', address: '10.0.0.2' }],
    });
    // Key order is Nova's.
    expect(Object.keys(network as object)).toEqual(['id', 'type', 'link', 'ip_address', 'netmask', 'routes', 'network_id', 'services']);
  });

  test('no gateway: no default route', () => {
    const [network] = networks(vif({ subnets: [v6({ gateway: { address: null } })] }));
    expect((network as { routes: unknown[] }).routes).toEqual([]);
  });

  test.each([
    ['DHCP IPv4', 'ipv4_dhcp', v4({ meta: { dhcp_server: '10.0.0.2' } }), true],
    ['DHCP server "" (Nova tests `is not None`)', 'ipv4_dhcp', v4({ meta: { dhcp_server: '' } }), true],
    ['SLAAC', 'ipv6_slaac', v6({ meta: { ipv6_address_mode: 'slaac' } }), false],
    ['DHCPv6 stateless', 'ipv6_dhcpv6-stateless', v6({ meta: { ipv6_address_mode: 'dhcpv6-stateless' } }), false],
    ['DHCPv6 stateful (the address mode wins over the DHCP server)', 'ipv6_dhcpv6-stateful', v6({ meta: { ipv6_address_mode: 'dhcpv6-stateful', dhcp_server: '2001:db8::2' } }), false],
    ['static IPv6', 'ipv6', v6(), false],
  ])('%s -> %s', (_label, type, theSubnet, addressless) => {
    const [network] = networks(vif({ subnets: [theSubnet] }));
    expect((network as { type: string }).type).toBe(type);
    expect('ip_address' in (network as object)).toBe(!addressless);
  });

  test('IPv6 netmasks are written compressed as netaddr does', () => {
    const [network] = networks(vif({ subnets: [v6({ cidr: '2001:db8::/112' })] }));
    expect((network as { netmask: string }).netmask).toBe('ffff:ffff:ffff:ffff:ffff:ffff:ffff:0');
  });

  test.each([
    ['network mtu', { mtu: 1450 }, {}, 1450],
    ['no mtu', {}, {}, null],
    ['a DHCP server on any subnet hides the mtu', { mtu: 1450 }, { dhcp_server: '10.0.0.2' }, null],
    ['an empty DHCP server does not (Nova tests truthiness there)', { mtu: 1450 }, { dhcp_server: '' }, 1450],
  ])('link mtu: %s', (_label, networkMeta, subnetMeta, mtu) => {
    const result = networkMetadata([vif({ networkMeta, subnets: [v6(), v4({ meta: subnetMeta })] })])!;
    expect((result['links'] as { mtu: unknown }[])[0]!.mtu).toBe(mtu);
  });

  test.each([
    ['ovs', 'ovs'],
    ['vhostuser', 'vhostuser'],
    ['hw_veb', 'hw_veb'],
    ['binding_failed', 'phy'],
    ['macvtap', 'phy'],
  ])('link type of a %s VIF is %s', (vifType, linkType) => {
    const result = networkMetadata([vif({ type: vifType, subnets: [v4()] })])!;
    expect((result['links'] as { type: string }[])[0]!.type).toBe(linkType);
  });

  test('only the first subnet of each version counts; a subnet without addresses gets a link but no network', () => {
    const result = networkMetadata([
      vif({ subnets: [v4({ ips: [] }), v4({ cidr: '10.9.0.0/16', ips: [fixedIp('10.9.0.1')] }), v6()] }),
    ])!;
    expect((result['links'] as unknown[]).length).toBe(1);
    expect((result['networks'] as { id: string; type: string }[]).map((n) => [n.id, n.type])).toEqual([['network0', 'ipv6']]);
  });

  test('network numbers run across VIFs; top-level DNS is deduplicated against earlier subnets only', () => {
    const result = networkMetadata([
      vif({ subnets: [v4({ dns: [{ address: '9.9.9.9' }] })] }),
      vif({
        address: 'fa:16:3e:00:00:02',
        devname: null,
        subnets: [v4({ dns: [{ address: '9.9.9.9' }, { address: '1.1.1.1' }, { address: '1.1.1.1' }] }), v6()],
      }),
    ])!;
    expect((result['networks'] as { id: string; link: string }[]).map((n) => [n.id, n.link])).toEqual([
      ['network0', 'tap5a1f1d2e-00'],
      ['network1', 'interface1'],
      ['network2', 'interface1'],
    ]);
    expect(result['services']).toEqual([
      { type: 'dns', address: '9.9.9.9' },
      { type: 'dns', address: '1.1.1.1' },
      { type: 'dns', address: '1.1.1.1' },
    ]);
  });

  test('the fixture VIFs serialise with Nova separators', () => {
    expect(dumps(networkMetadata([DHCP_VIF])!)).toBe(
      '{"links": [{"id": "interface0", "vif_id": "5a1f1d2e-0000-4000-8000-000000000002", "type": "bridge", "mtu": null, ' +
        '"ethernet_mac_address": "fa:16:3e:ab:cd:ef"}], "networks": [{"id": "network0", "type": "ipv4_dhcp", "link": "interface0", ' +
        `"network_id": "${NETWORK_ID}"}, {"id": "network1", "type": "ipv6_dhcpv6-stateful", "link": "interface0", ` +
        '"ip_address": "2001:db8:2::10", "netmask": "ffff:ffff:ffff:ffff::", "routes": [{"network": "::", "netmask": "::", ' +
        `"gateway": "2001:db8:2::1"}], "network_id": "${NETWORK_ID}", "services": []}], ` +
        '"services": [{"type": "dns", "address": "8.8.8.8"}, {"type": "dns", "address": "1.1.1.1"}]}',
    );
  });

  test('a bad CIDR names its place in network_info', () => {
    expect(() => networkMetadata([vif({ subnets: [v4({ routes: [{ cidr: '10.0.0/8', gateway: { address: null } }] })] })])).toThrow(
      new InvalidAddressError('network_info[0].network.subnets[0].routes[0].cidr', '10.0.0/8'),
    );
  });

  test('a non-scalar mtu is refused with its path', () => {
    expect(() => networkMetadata([vif({ networkMeta: { mtu: { value: 1500 } }, subnets: [v4()] })])).toThrow(
      InvalidNetworkInfoError,
    );
    expect(() => networkMetadata([vif({ networkMeta: { mtu: [1500] }, subnets: [v4()] })])).toThrow(
      'network_info[0].network.meta.mtu',
    );
  });
});

describe('EC2 address summary (netutils.get_ec2_ip_info)', () => {
  test('every fixed address of every subnet by version, and their floating addresses', () => {
    expect(ec2IpInfo([STATIC_VIF, DHCP_VIF])).toEqual({
      fixed_ips: ['10.0.0.5', '172.16.3.10'],
      fixed_ip6s: ['2001:db8:1:0:f816:3eff:fe12:3456', '2001:db8:2::10'],
      floating_ips: ['203.0.113.10'],
    });
    expect(ec2IpInfo([vif({ address: MAC_1, subnets: [] })])).toEqual({ fixed_ips: [], fixed_ip6s: [], floating_ips: [] });
  });
});
