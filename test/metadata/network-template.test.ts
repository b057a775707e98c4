import { injectedNetworkTemplate } from '../../src/metadata/network-template.js';
import { fixedIp, MAC_1, STATIC_VIF, subnet, vif } from './fixtures.js';

const HEADER_END = 'auto lo\niface lo inet loopback\n';

describe('injected interfaces file (interfaces.template)', () => {
  test('nothing when no network asks for injection', () => {
    expect(injectedNetworkTemplate([STATIC_VIF])).toBeNull();
    expect(injectedNetworkTemplate([])).toBeNull();
  });

  test('IPv4 /31 without gateway or DNS: broadcast None, as Jinja prints netaddr\'s None', () => {
    const file = injectedNetworkTemplate([
      vif({ networkMeta: { injected: true }, subnets: [subnet({ cidr: '198.51.100.6/31', version: 4, ips: [fixedIp('198.51.100.7')] })] }),
    ]);
    expect(file!.endsWith(
      `${HEADER_END}\nauto eth0\niface eth0 inet static\n    hwaddress ether ${MAC_1}\n    address 198.51.100.7\n` +
        '    netmask 255.255.255.254\n    broadcast None\n',
    )).toBe(true);
  });

  test('IPv6 stanzas carry the prefix length as netmask', () => {
    const file = injectedNetworkTemplate([
      vif({
        networkMeta: { injected: 1 },
        subnets: [subnet({ cidr: '2001:db8::/64', version: 6, gateway: { address: '2001:db8::1' }, ips: [fixedIp('2001:db8::9')], dns: [{ address: '2001:db8::53' }] })],
      }),
    ]);
    expect(file).toContain(
      `auto eth0\niface eth0 inet6 static\n    hwaddress ether ${MAC_1}\n    address 2001:db8::9\n    netmask 64\n` +
        '    gateway 2001:db8::1\n    dns-nameservers 2001:db8::53\n',
    );
  });
});
