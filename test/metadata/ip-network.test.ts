import { broadcast, InvalidAddressError, netmask, networkAddress, parseIpNetwork } from '../../src/metadata/ip-network.js';
import { runPython } from './python.js';

const CIDRS = [
  '10.0.0.0/24',
  '10.1.2.3/16',
  '0.0.0.0/0',
  '198.51.100.6/31',
  '203.0.113.7/32',
  '255.255.255.255/1',
  '2001:db8::/64',
  '2001:db8::/112',
  '2001:db8::/127',
  '::/0',
  '2001:db8:0:1::/48',
  '2001:0:0:1:0:0:0:1/128',
  '1:0:0:2:0:0:0:3/128',
  '1:0:2:3:4:5:6:7/128',
  '0:0:1::/128',
  '::ffff:1.2.3.4/128',
  '::1.2.3.4/128',
  '::ffff:0:0/96',
  '::ffff:0:1.2.3.4/128',
  '::1/128',
  'fe80::1:0:0:0/64',
  'FE80::ABCD/10',
  '2001:DB8:a:b:c:d:e:f/77',
  '2001:db8::ff00:42:8329',
];

describe('netaddr.IPNetwork as network_data.json prints it', () => {
  test('netmask, network and broadcast match netaddr (glibc inet_ntop for IPv6)', async () => {
    const script =
      'import json,sys,netaddr\n' +
      'out = []\n' +
      'for c in json.load(sys.stdin):\n' +
      '    n = netaddr.IPNetwork(c)\n' +
      '    b = n.broadcast\n' +
      '    out.append([str(n.netmask), str(n.network), None if b is None else str(b)])\n' +
      'print(json.dumps(out))';
    const expected = JSON.parse(await runPython(['-c', script], CIDRS)) as unknown[];
    const ours = CIDRS.map((cidr) => {
      const network = parseIpNetwork(cidr, 'cidr');
      return [netmask(network), networkAddress(network), broadcast(network)];
    });
    expect(ours).toEqual(expected);
  });

  test.each(['10.0.0/24', '10.0.0.256/24', '10.0.0.0/33', '2001:db8::/129', '1::2::3', '1:2:3:4:5:6:7:8:9', 'x', '10.0.0.0/24/1', '010.0.0.0/8'])(
    '%s is rejected with the field named',
    (text) => {
      expect(() => parseIpNetwork(text, 'network_info[0].network.subnets[0].cidr')).toThrow(
        new InvalidAddressError('network_info[0].network.subnets[0].cidr', text),
      );
    },
  );
});
